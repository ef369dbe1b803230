"""Participation counts for per-member limits: HQ-confirmed plus local.

A participation is an order in which a promotion gave a discount (SPEC §4).
The local ledger holds +1 at commit and -1 when the order is fully
refunded, each row carrying the id of the outbox event that tells HQ. The
sync layer stores HQ's confirmed totals (whole period, and per store-local
day) and flags the local rows those totals already include, so a member's
count is always::

    confirmed (HQ) + sum of local rows HQ has not confirmed yet

Days are store-local dates: the day of a participation is the local date
of its order, and a refund on a later day gives back the original day's.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping, Sequence

from pos_promo.model.cart import MemberCounts, ParticipationCount

__all__ = [
    "ParticipationRow",
    "confirm_participations",
    "member_counts",
    "record_participations",
    "set_confirmed_counts",
]

# event_id, order_id, campaign_id, member_id, local_date (ISO), delta
ParticipationRow = tuple[str, str, str, str | None, str, int]

_COUNTS = """
SELECT campaign_id, SUM(total), SUM(today) FROM (
    SELECT campaign_id, total, 0 AS today FROM confirmed_counts WHERE member_id = :m
    UNION ALL
    SELECT campaign_id, 0, count FROM confirmed_daily_counts
        WHERE member_id = :m AND local_date = :d
    UNION ALL
    SELECT campaign_id, delta, CASE WHEN local_date = :d THEN delta ELSE 0 END
        FROM participations WHERE member_id = :m AND confirmed = 0
) GROUP BY campaign_id
"""


def record_participations(conn: sqlite3.Connection, rows: Sequence[ParticipationRow]) -> None:
    """Append ledger rows (inside the write transaction of their order or refund)."""
    conn.executemany(
        "INSERT INTO participations "
        "(event_id, order_id, campaign_id, member_id, local_date, delta) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )


def member_counts(conn: sqlite3.Connection, member_id: str, day: dt.date) -> MemberCounts:
    """The member's participations per campaign: in total, and on local day ``day``."""
    found = {
        campaign: ParticipationCount(max(0, total), max(0, today))
        for campaign, total, today in conn.execute(_COUNTS, {"m": member_id, "d": day.isoformat()})
    }
    return MemberCounts(found)


def set_confirmed_counts(
    conn: sqlite3.Connection,
    member_id: str,
    campaign_id: str,
    total: int,
    daily: Mapping[dt.date, int] | None = None,
) -> None:
    """Store HQ's confirmed counts for one member and campaign (replacing older ones).

    ``daily`` maps store-local dates to that day's confirmed count; days not
    given keep their previous value.
    """
    conn.execute(
        "INSERT INTO confirmed_counts (member_id, campaign_id, total) VALUES (?, ?, ?) "
        "ON CONFLICT(member_id, campaign_id) DO UPDATE SET total = excluded.total",
        (member_id, campaign_id, total),
    )
    conn.executemany(
        "INSERT INTO confirmed_daily_counts (member_id, campaign_id, local_date, count) "
        "VALUES (?, ?, ?, ?) ON CONFLICT(member_id, campaign_id, local_date) "
        "DO UPDATE SET count = excluded.count",
        [(member_id, campaign_id, day.isoformat(), n) for day, n in (daily or {}).items()],
    )


def confirm_participations(conn: sqlite3.Connection, event_ids: Iterable[str]) -> int:
    """Flag local rows whose events HQ's confirmed counts now include."""
    cur = conn.executemany(
        "UPDATE participations SET confirmed = 1 WHERE event_id = ? AND confirmed = 0",
        [(eid,) for eid in event_ids],
    )
    return cur.rowcount
