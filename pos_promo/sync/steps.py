"""The three sync steps the daemon schedules: pull changes, pull member state, push.

Each step talks to HQ through :class:`pos_promo.sync.client.HQClient` and to
the till's database through the sync modules, one page or batch per
transaction, and returns a report. A step stops at the first error and
raises it (the daemon records it and tries again later); everything applied
before the error stays applied, with its cursor, so the next run resumes
where this one stopped. Loops are bounded: a misbehaving HQ that always
says ``more`` cannot keep a step running forever.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable

from pos_promo.sync import changes, members
from pos_promo.sync.client import HQClient
from pos_promo.sync.errors import HQProtocolError
from pos_promo.sync.local import get_cursor
from pos_promo.sync.outbox import PushReport, next_batch, record_results

__all__ = [
    "Clock",
    "pull_changes",
    "pull_member_state",
    "push_events",
]

Clock = Callable[[], dt.datetime]


def pull_changes(
    conn: sqlite3.Connection,
    client: HQClient,
    clock: Clock,
    *,
    page_size: int = 200,
    max_pages: int = 1000,
) -> changes.ChangesReport:
    """Pull published changes page by page until HQ has no more (or ``max_pages``)."""
    report = changes.ChangesReport()
    cursor = get_cursor(conn, changes.STREAM)
    for _ in range(max_pages):
        page = client.changes(cursor, page_size)
        report += changes.apply_changes_page(conn, cursor, page, clock())
        if report.stale:
            break
        if page.more and page.cursor == cursor:
            raise HQProtocolError("pull changes", "HQ said 'more' without moving the cursor")
        cursor = page.cursor
        if not page.more:
            break
    return report


def pull_member_state(
    conn: sqlite3.Connection,
    client: HQClient,
    clock: Clock,
    *,
    page_size: int = 500,
    max_pages: int = 1000,
) -> members.MembersReport:
    """Pull confirmed member state page by page; see :mod:`pos_promo.sync.members`."""
    report = members.MembersReport()
    watermark = members.ack_watermark(conn)
    cursor = get_cursor(conn, members.STREAM)
    for _ in range(max_pages):
        page = client.member_state(cursor, page_size)
        report += members.apply_member_page(conn, cursor, page, watermark, clock())
        if report.stale:
            break
        if page.more and page.cursor == cursor:
            raise HQProtocolError("pull member state", "HQ said 'more' without moving the cursor")
        cursor = page.cursor
        if not page.more:
            break
    return report


def push_events(
    conn: sqlite3.Connection,
    client: HQClient,
    clock: Clock,
    *,
    batch_size: int = 500,
    max_batches: int = 200,
) -> PushReport:
    """Push pending events, oldest first, one batch per request, until none is left."""
    report = PushReport()
    for _ in range(max_batches):
        batch = next_batch(conn, batch_size)
        if not batch:
            break
        response = client.push(batch)
        report += record_results(conn, batch, response.results, clock())
        if report.backlog == 0:
            break
    else:
        return report
    if report.batches == 0:
        left = conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()
        report = PushReport(backlog=int(left[0]))
    return report
