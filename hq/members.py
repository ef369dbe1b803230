"""Serving member state: participation counts changed after a cursor.

Every change to a member's count for a campaign gives that row a new
number from one counter; a page is the rows numbered after the cursor, and
each item is the whole current fact (total and every day), so a till just
replaces what it held. Grants, confirmed totals and wallet coupons join
this stream when the cumulative gift is built.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import msgspec

from pos_promo.sync.protocol import (
    MAX_PAGE_LIMIT,
    DayCount,
    MemberStatePage,
    ParticipationCountState,
    encode,
)

__all__ = ["serve_member_state"]


def serve_member_state(conn: sqlite3.Connection, since: int, limit: int) -> bytes:
    limit = max(1, min(limit, MAX_PAGE_LIMIT))
    rows = conn.execute(
        "SELECT member_id, campaign_id, total, seq FROM participation_counts "
        "WHERE seq > ? ORDER BY seq LIMIT ?",
        (since, limit + 1),
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    items = []
    for member, campaign, total, _ in rows:
        days = tuple(
            DayCount(dt.date.fromisoformat(day), max(0, count))
            for day, count in conn.execute(
                "SELECT local_date, count FROM participation_days "
                "WHERE member_id = ? AND campaign_id = ? ORDER BY local_date",
                (member, campaign),
            )
        )
        state = ParticipationCountState(member, campaign, max(0, total), days)
        items.append(msgspec.Raw(encode(state)))
    cursor = str(rows[-1][3]) if rows else (str(since) if since else "")
    return encode(MemberStatePage(cursor, more, tuple(items)))
