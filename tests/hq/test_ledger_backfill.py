"""Migration 0005 fills the promotion ledger with what HQ held before 0004 (both backends):
an HQ upgraded from 0003 shows the figures of one that had the ledger all along.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pos_promo_hq.backfill import backfill_ledger
from pos_promo_hq.db import Database, open_database, write
from pos_promo_hq.ingest import Ingestor
from pos_promo_hq.reports import promotion, promotions, store, stores

from pos_promo.sync.protocol import PushEvent, PushRequest
from tests.hq.builders import STORES, Shop, another_target, publish_all
from tests.sync.harness import campaign

DAY1 = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)
DAY2 = dt.datetime(2026, 11, 21, 17, 0, tzinfo=dt.UTC)


def _pushes(tmp_path: Path) -> list[tuple[str, list[PushEvent], dt.datetime]]:
    """s1: member m-1's $15 orders o-0..o-3 (o-1 refunded in full) in two pushes;
    s2: two $15 orders, one anonymous, in one push; p1 saves $1 on each."""
    s1 = Shop.open(tmp_path / "till-s1", "s1")
    s2 = Shop.open(tmp_path / "till-s2", "s2")
    try:
        s1.order("o-0", member="m-1")
        s1.order("o-1", member="m-1")
        first = s1.events()
        s1.till.engine.refund("o-1", at=DAY1 + dt.timedelta(hours=1))
        s1.order("o-2", member="m-1")
        s1.order("o-3", member="m-1")
        second = s1.events()
        s2.order("b-1", member="m-2")
        s2.order("b-2")
        return [
            ("s1", first, DAY1),
            ("s1", second, DAY2),
            ("s2", s2.events(), DAY2 + dt.timedelta(minutes=5)),
        ]
    finally:
        s1.close()
        s2.close()


def _ingest(db: Database, pushes: list[tuple[str, list[PushEvent], dt.datetime]]) -> None:
    publish_all(db, ("campaign", campaign("p1")))
    ingestor = Ingestor(STORES, replay=False)
    for store_id, events, at in pushes:
        with db.connection() as conn:
            results = ingestor.apply(conn, store_id, PushRequest(store_id, tuple(events)), at)
        assert {r.status for r in results} == {"accepted"}


def _figures(db: Database) -> dict[str, Any]:
    with db.connection() as conn:
        return {
            "promotions": promotions(conn),
            "p1": promotion(conn, "p1"),
            "stores": stores(conn),
            "s1": store(conn, "s1"),
            "s2": store(conn, "s2"),
        }


def _back_to_0003(db: Database) -> None:
    """What an HQ at migration 0003 held: the same rows, no ledger, no push records."""
    with db.connection() as conn, write(conn):
        conn.execute("DROP TABLE promotion_ledger")
        conn.execute("DROP TABLE store_pushes")
        conn.execute("DELETE FROM schema_migrations WHERE name > '0003_publications'")


def test_an_hq_upgraded_from_0003_shows_the_figures_of_one_that_had_the_ledger(
    backend: str, database: Database, tmp_path: Path
) -> None:
    pushes = _pushes(tmp_path)
    _ingest(database, pushes)
    expected = _figures(database)
    with another_target(backend, tmp_path) as target:
        old = open_database(target)
        try:
            _ingest(old, pushes)
            _back_to_0003(old)
        finally:
            old.close()
        upgraded = open_database(target)  # applies 0004 and 0005
        try:
            assert upgraded.migrate() == []
            assert _figures(upgraded) == expected
            with upgraded.connection() as conn, write(conn):
                backfill_ledger(conn)  # again: nothing changes
            assert _figures(upgraded) == expected
        finally:
            upgraded.close()
    p1 = expected["p1"]
    # 6 orders at $1 off, o-1's dollar refunded; 6 participations, o-1's given back
    figures = ("orders", "given", "refunded", "net", "participations", "members")
    assert [p1[k] for k in figures] == [6, 600, 100, 500, 5, 2]
    assert [
        (s["store_id"], s["orders"], s["pushes"], s["last_push_at"]) for s in expected["stores"]
    ] == [
        ("s1", 4, 2, DAY2.isoformat()),
        ("s2", 2, 1, (DAY2 + dt.timedelta(minutes=5)).isoformat()),
    ]
