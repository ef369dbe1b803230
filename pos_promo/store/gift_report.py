"""Reading the cumulative gift back: the rows behind a member's standing and
each activity's metrics.

Read from the rows the commit, refund, release and pull paths write (the
ledger, grants, grant coupons, the wallet), so the numbers cannot disagree
with what was given and taken back; the engine turns them into targets,
progress and metrics (:mod:`pos_promo.engine.gift_reports`).
"""

from __future__ import annotations

import sqlite3

from pos_promo.model.member import GrantView
from pos_promo.store.gift_ledger import grants_of

__all__ = ["grants_by_activity", "ledger_totals", "member_grants"]

_LEDGER = """
SELECT activity_id, SUM(standing), SUM(CASE WHEN standing > 0 THEN 1 ELSE 0 END) FROM (
    SELECT activity_id, member_id, SUM(amount) AS standing FROM gift_accruals
    GROUP BY activity_id, member_id
) GROUP BY activity_id
"""


def ledger_totals(conn: sqlite3.Connection) -> dict[str, tuple[int, int]]:
    """Per activity this till accrued to: the total accrued, and how many
    members stand above zero in it."""
    return {a: (int(total), int(members)) for a, total, members in conn.execute(_LEDGER)}


def grants_by_activity(conn: sqlite3.Connection) -> dict[str, list[tuple[str, int, str]]]:
    """Per activity, every grant this till holds: ``(member, ordinal, status)``."""
    grants: dict[str, list[tuple[str, int, str]]] = {}
    for member, activity, ordinal, status in conn.execute(
        "SELECT member_id, activity_id, ordinal, status FROM gift_grants"
    ):
        grants.setdefault(activity, []).append((member, ordinal, status))
    return grants


def member_grants(conn: sqlite3.Connection, member_id: str) -> tuple[GrantView, ...]:
    """The member's grants as ``pos-promo member`` shows them (whether HQ has
    heard of each yet included)."""
    return tuple(
        GrantView(
            g.grant_id,
            g.activity_id,
            g.ordinal,
            g.status,
            g.at,
            g.source,
            g.order_id,
            g.store_id,
            g.pending_event is not None,
        )
        for g in grants_of(conn, member_id)
    )
