"""Serving member state by need: a store reads only the members it may know.

Every change to a member's participation count, cumulative-gift total,
grant or wallet coupon gives that row a new number from one counter; a
page is the rows numbered after the cursor, across the four tables, in
number order, and each item is the whole current fact, so a till just
replaces what it held.

A store may read a member once it is linked to it (``store_members``):
when it sent an event naming the member (it served them), or when its
till looked the member up at the counter (``GET /v1/members/{id}``,
recorded here). Never the whole chain's list. A new link numbers that
member's rows afresh, so a store whose cursor is already past them still
receives the member's whole state on its next pull; other stores linked to
the member just receive the same facts again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from pos_promo_hq.db import Connection, next_seq, next_seqs, select_in

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

__all__ = ["link_member", "link_members", "lookup_member", "serve_member_state"]

_LINKED = "member_id IN (SELECT member_id FROM store_members WHERE store_id = ?)"
_SOURCES = (
    "SELECT seq, 'count', member_id, campaign_id, total, NULL, NULL, NULL, NULL "
    f"FROM participation_counts WHERE seq > ? AND {_LINKED} ORDER BY seq LIMIT ?",
    "SELECT seq, 'total', member_id, activity_id, total, measure, NULL, NULL, NULL "
    f"FROM gift_totals WHERE seq > ? AND {_LINKED} ORDER BY seq LIMIT ?",
    "SELECT seq, 'grant', member_id, activity_id, ordinal, grant_id, status, at, NULL "
    f"FROM gift_grants WHERE seq > ? AND {_LINKED} ORDER BY seq LIMIT ?",
    "SELECT seq, 'coupon', member_id, template_id, grant_id, coupon_id, status, valid_from, "
    f"valid_until FROM wallet_coupons WHERE seq > ? AND {_LINKED} ORDER BY seq LIMIT ?",
)
_TOUCH = (
    "UPDATE participation_counts SET seq = ? WHERE member_id = ? AND campaign_id = ?",
    "UPDATE gift_totals SET seq = ? WHERE member_id = ? AND activity_id = ?",
    "UPDATE gift_grants SET seq = ? WHERE member_id = ? AND grant_id = ?",
    "UPDATE wallet_coupons SET seq = ? WHERE member_id = ? AND coupon_id = ?",
)
_KEYS = (
    "SELECT campaign_id FROM participation_counts WHERE member_id = ? ORDER BY seq",
    "SELECT activity_id FROM gift_totals WHERE member_id = ? ORDER BY seq",
    "SELECT grant_id FROM gift_grants WHERE member_id = ? ORDER BY seq",
    "SELECT coupon_id FROM wallet_coupons WHERE member_id = ? ORDER BY seq",
)


def _item(conn: Connection, row: tuple[Any, ...]) -> object:
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


def serve_member_state(conn: Connection, store_id: str, since: int, limit: int) -> bytes:
    """One page of the facts of ``store_id``'s members changed after ``since``."""
    limit = max(1, min(limit, MAX_PAGE_LIMIT))
    rows = sorted(
        (
            row
            for query in _SOURCES
            for row in conn.execute(query, (since, store_id, limit + 1)).fetchall()
        ),
        key=lambda row: int(row[0]),
    )
    more = len(rows) > limit
    rows = rows[:limit]
    items = [msgspec.Raw(encode(_item(conn, row))) for row in rows]
    cursor = str(rows[-1][0]) if rows else (str(since) if since else "")
    return encode(MemberStatePage(cursor, more, tuple(items)))


def link_member(conn: Connection, store_id: str, member_id: str, via: str, stamp: str) -> bool:
    """Let ``store_id`` read ``member_id`` from now on (inside a write transaction);
    whether the link is new, in which case the member's facts are numbered afresh."""
    cur = conn.execute(
        "INSERT INTO store_members (store_id, member_id, via, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (store_id, member_id, via, stamp),
    )
    if cur.rowcount != 1:
        return False
    for keys, touch in zip(_KEYS, _TOUCH, strict=True):
        for (key,) in conn.execute(keys, (member_id,)).fetchall():
            conn.execute(touch, (next_seq(conn), member_id, key))
    return True


_FACTS = (
    ("participation_counts", "campaign_id"),
    ("gift_totals", "activity_id"),
    ("gift_grants", "grant_id"),
    ("wallet_coupons", "coupon_id"),
)


def link_members(conn: Connection, store_id: str, members: list[str], via: str, stamp: str) -> None:
    """:func:`link_member` for the members a batch newly named, in a few statements.

    The caller read (under its store's lock) that ``store_id`` was not yet
    linked to any of ``members``; a till's lookup may link one in between,
    and then its facts are numbered afresh once more, which only serves
    them again.
    """
    if not members:
        return
    conn.executemany(
        "INSERT INTO store_members (store_id, member_id, via, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [(store_id, member, via, stamp) for member in members],
    )
    for table, key in _FACTS:
        rows = select_in(
            conn,
            f"SELECT member_id, {key} FROM {table} WHERE member_id IN ({{marks}}) ORDER BY seq",
            members,
        )
        if rows:
            numbers = next_seqs(conn, len(rows))
            conn.executemany(
                f"UPDATE {table} SET seq = ? WHERE member_id = ? AND {key} = ?",
                [(n, member, k) for n, (member, k) in zip(numbers, rows, strict=True)],
            )


def lookup_member(conn: Connection, store_id: str, member_id: str, stamp: str) -> bytes:
    """A till looked ``member_id`` up at the counter: record the link (inside a
    write transaction) and answer the member's whole state as one page."""
    link_member(conn, store_id, member_id, "lookup", stamp)
    rows = sorted(
        (
            row
            for query in _SOURCES
            for row in conn.execute(
                query.replace(_LINKED, "member_id = ?"), (0, member_id, MAX_PAGE_LIMIT + 1)
            ).fetchall()
        ),
        key=lambda row: int(row[0]),
    )
    items = [msgspec.Raw(encode(_item(conn, row))) for row in rows[:MAX_PAGE_LIMIT]]
    return encode(MemberStatePage("", len(rows) > MAX_PAGE_LIMIT, tuple(items)))
