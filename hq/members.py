"""Serving member state: every member fact changed after a cursor.

Every change to a member's participation count, cumulative-gift total,
grant or wallet coupon gives that row a new number from one counter; a
page is the rows numbered after the cursor, across the four tables, in
number order, and each item is the whole current fact, so a till just
replaces what it held.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

import msgspec

from pos_promo.sync.protocol import (
    MAX_PAGE_LIMIT,
    ConfirmedTotal,
    DayCount,
    GrantState,
    MemberStatePage,
    ParticipationCountState,
    WalletCoupon,
    encode,
)

__all__ = ["serve_member_state"]


_SOURCES = (
    "SELECT seq, 'count', member_id, campaign_id, total, NULL, NULL, NULL, NULL "
    "FROM participation_counts WHERE seq > ? ORDER BY seq LIMIT ?",
    "SELECT seq, 'total', member_id, activity_id, total, measure, NULL, NULL, NULL "
    "FROM gift_totals WHERE seq > ? ORDER BY seq LIMIT ?",
    "SELECT seq, 'grant', member_id, activity_id, ordinal, grant_id, status, at, NULL "
    "FROM gift_grants WHERE seq > ? ORDER BY seq LIMIT ?",
    "SELECT seq, 'coupon', member_id, template_id, grant_id, coupon_id, status, valid_from, "
    "valid_until FROM wallet_coupons WHERE seq > ? ORDER BY seq LIMIT ?",
)


def _item(conn: sqlite3.Connection, row: tuple[Any, ...]) -> object:
    _, kind, member, key, number, a, b, c, d = row
    if kind == "count":
        days = tuple(
            DayCount(dt.date.fromisoformat(day), max(0, count))
            for day, count in conn.execute(
                "SELECT local_date, count FROM participation_days "
                "WHERE member_id = ? AND campaign_id = ? ORDER BY local_date",
                (member, key),
            )
        )
        return ParticipationCountState(member, key, max(0, number), days)
    if kind == "total":
        return ConfirmedTotal(member, key, a, number)
    if kind == "grant":
        return GrantState(a, key, member, number, b, dt.datetime.fromisoformat(c))
    return WalletCoupon(
        a,
        key,
        member,
        dt.datetime.fromisoformat(c),
        dt.datetime.fromisoformat(d),
        b,
        number,
    )


def serve_member_state(conn: sqlite3.Connection, since: int, limit: int) -> bytes:
    limit = max(1, min(limit, MAX_PAGE_LIMIT))
    rows = sorted(
        (row for query in _SOURCES for row in conn.execute(query, (since, limit + 1))),
        key=lambda row: int(row[0]),
    )
    more = len(rows) > limit
    rows = rows[:limit]
    items = [msgspec.Raw(encode(_item(conn, row))) for row in rows]
    cursor = str(rows[-1][0]) if rows else (str(since) if since else "")
    return encode(MemberStatePage(cursor, more, tuple(items)))
