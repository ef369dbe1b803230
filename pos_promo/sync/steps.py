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
from typing import Protocol, TypeVar

from pos_promo.sync import changes, members
from pos_promo.sync.client import HQClient
from pos_promo.sync.errors import HQProtocolError
from pos_promo.sync.local import get_cursor
from pos_promo.sync.outbox import PushReport, next_batch, record_results
from pos_promo.sync.protocol import Cursor

__all__ = [
    "Clock",
    "pull_changes",
    "pull_member_state",
    "push_events",
]

Clock = Callable[[], dt.datetime]


class _Page(Protocol):
    @property
    def cursor(self) -> Cursor: ...
    @property
    def more(self) -> bool: ...


R = TypeVar("R", bound="_Report")
P = TypeVar("P", bound=_Page)


class _Report(Protocol):
    @property
    def stale(self) -> bool: ...
    def __add__(self: R, other: R) -> R: ...


def _pull_pages(
    what: str,
    cursor: Cursor,
    fetch: Callable[[Cursor], P],
    apply: Callable[[Cursor, P], R],
    report: R,
    max_pages: int,
) -> R:
    """Fetch and apply pages from ``cursor`` until HQ has no more, a page
    turns out stale, or ``max_pages``; HQ saying "more" without moving the
    cursor is a protocol error, not a reason to loop."""
    for _ in range(max_pages):
        page = fetch(cursor)
        report = report + apply(cursor, page)
        if report.stale:
            break
        if page.more and page.cursor == cursor:
            raise HQProtocolError(what, "HQ said 'more' without moving the cursor")
        cursor = page.cursor
        if not page.more:
            break
    return report


def pull_changes(
    conn: sqlite3.Connection,
    client: HQClient,
    clock: Clock,
    *,
    page_size: int = 500,
    max_pages: int = 1000,
) -> changes.ChangesReport:
    """Pull published changes page by page until HQ has no more (or ``max_pages``)."""
    return _pull_pages(
        "pull changes",
        get_cursor(conn, changes.STREAM),
        lambda cursor: client.changes(cursor, page_size),
        lambda cursor, page: changes.apply_changes_page(conn, cursor, page, clock()),
        changes.ChangesReport(),
        max_pages,
    )


def pull_member_state(
    conn: sqlite3.Connection,
    client: HQClient,
    clock: Clock,
    *,
    page_size: int = 500,
    max_pages: int = 1000,
) -> members.MembersReport:
    """Pull confirmed member state page by page; see :mod:`pos_promo.sync.members`."""
    watermark = members.ack_watermark(conn)
    return _pull_pages(
        "pull member state",
        get_cursor(conn, members.STREAM),
        lambda cursor: client.member_state(cursor, page_size),
        lambda cursor, page: members.apply_member_page(conn, cursor, page, watermark, clock()),
        members.MembersReport(),
        max_pages,
    )


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
        before = get_cursor(conn, members.STREAM)
        response = client.push(batch)
        report += record_results(conn, batch, response.results, clock())
        members.rewind_if_moved(conn, before, clock())
        if report.backlog == 0:
            break
    else:
        return report
    if report.batches == 0:
        left = conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()
        report = PushReport(backlog=int(left[0]))
    return report
