"""A member's counts cost what HQ has not confirmed yet, not their history.

Every commit of a member's order reads their participation counts inside
the write transaction (SPEC §4 limits). The local ledger keeps every row,
confirmed or not, so a loyal member's history grows without end; the
counts query must reach the unconfirmed rows through an index that holds
``confirmed``, not walk every row of the member and look each one up.
Checked on the query plan (the test never times anything) and on the
counts themselves, with a long confirmed history.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from pos_promo.embedded import Engine
from pos_promo.store.connection import immediate
from pos_promo.store.counts import (
    _COUNTS,
    confirm_participations,
    member_counts,
    record_participations,
    set_confirmed_counts,
)

DAY = dt.date(2026, 11, 20)


def _plan(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("EXPLAIN QUERY PLAN " + _COUNTS, {"m": "m1", "d": DAY.isoformat()})
    return [detail for *_, detail in rows]


def test_the_counts_query_seeks_the_unconfirmed_rows_of_the_member(engine: Engine) -> None:
    plan = [step for step in _plan(engine._conn) if "participations" in step]
    assert len(plan) == 1, plan
    # the member and the confirmed flag both bound in the index, no table look-up
    assert "USING INDEX" in plan[0] or "USING COVERING INDEX" in plan[0], plan
    assert "member_id=? AND confirmed=?" in plan[0], plan


def test_counts_over_a_long_confirmed_history_are_hqs_plus_the_unconfirmed(
    engine: Engine,
) -> None:
    conn = engine._conn
    history = [
        (f"e-{n}", f"o-{n}", "lim" if n % 2 else "other", "m1", "2026-10-01", 1)
        for n in range(2_000)
    ]
    recent = [
        ("e-new-1", "o-new-1", "lim", "m1", DAY.isoformat(), 1),
        ("e-new-2", "o-new-2", "lim", "m1", "2026-11-19", 1),
        ("e-new-3", "o-new-3", "other", "m1", DAY.isoformat(), 1),
        ("e-new-4", "o-new-4", "lim", "m2", DAY.isoformat(), 1),  # another member
    ]
    with immediate(conn):
        record_participations(conn, history + recent)
        # HQ has counted the whole history: 1,000 each
        set_confirmed_counts(conn, "m1", "lim", 1_000)
        set_confirmed_counts(conn, "m1", "other", 1_000)
        assert confirm_participations(conn, [row[0] for row in history]) == 2_000
    counts = member_counts(conn, "m1", DAY).participations
    assert (counts["lim"].total, counts["lim"].today) == (1_002, 1)
    assert (counts["other"].total, counts["other"].today) == (1_001, 1)
