"""Whether the till knows a member at all.

A member id the database holds nothing about (no order, participation,
count from HQ, coupon or gift row) is most often a typo at the shell
(``M-1001`` for ``m-1001``), so ``pos-promo wallet`` and ``member show``
say so instead of printing an empty answer.
"""

from __future__ import annotations

import sqlite3

__all__ = ["MEMBER_TABLES", "knows_member"]

MEMBER_TABLES = (
    "orders",
    "participations",
    "confirmed_counts",
    "confirmed_daily_counts",
    "wallet",
    "gift_accruals",
    "gift_confirmed_totals",
    "gift_grants",
    "gift_releases",
)
"""Every table of the till's database that names members by ``member_id``."""


def knows_member(conn: sqlite3.Connection, member_id: str) -> bool:
    """True when any table of :data:`MEMBER_TABLES` names ``member_id``."""
    query = " UNION ALL ".join(
        f"SELECT 1 FROM (SELECT 1 FROM {table} WHERE member_id = ? LIMIT 1)"
        for table in MEMBER_TABLES
    )
    args = (member_id,) * len(MEMBER_TABLES)
    return bool(conn.execute(f"SELECT EXISTS ({query})", args).fetchone()[0])
