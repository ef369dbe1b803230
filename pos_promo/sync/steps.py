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
import logging
import sqlite3
from collections.abc import Callable
from typing import Protocol, TypeVar

from pos_promo.sync import changes, members
from pos_promo.sync.client import HQClient
from pos_promo.sync.errors import HQProtocolError, RequestTooLarge
from pos_promo.sync.local import get_cursor
from pos_promo.sync.outbox import (
    PushReport,
    event_size,
    next_batch,
    record_results,
    record_too_large,
)
from pos_promo.sync.protocol import Cursor, PushEvent

__all__ = [
    "DEFAULT_PUSH_BYTES",
    "Clock",
    "pull_changes",
    "pull_member_state",
    "push_events",
]

Clock = Callable[[], dt.datetime]
log = logging.getLogger("pos_promo.sync")


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


DEFAULT_PUSH_BYTES = 4 * 1024 * 1024
"""Push bodies stay under this many bytes (past their first event) unless configured."""


def push_events(
    conn: sqlite3.Connection,
    client: HQClient,
    clock: Clock,
    *,
    batch_size: int = 500,
    max_batches: int = 200,
    max_bytes: int = DEFAULT_PUSH_BYTES,
) -> PushReport:
    """Push pending events, oldest first, one batch per request, until none is left.

    A batch is bounded by ``batch_size`` events and ``max_bytes`` of body.
    If HQ (or a proxy before it) still answers 413, the batch is split in
    halves, down to single events, and the rest of the run keeps batches
    under the size that was refused; an event refused alone becomes a dead
    letter with HQ's answer as its reason, so nothing after it is held back.
    """
    report = PushReport()
    limit = [max_bytes]
    for _ in range(max_batches):
        batch = next_batch(conn, batch_size, limit[0])
        if not batch:
            break
        before = get_cursor(conn, members.STREAM)
        report += _push(conn, client, clock, batch, limit)
        members.rewind_if_moved(conn, before, clock())
        if report.backlog == 0:
            break
    else:
        return report
    if report.batches == 0:
        left = conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()
        report = PushReport(backlog=int(left[0]))
    return report


def _push(
    conn: sqlite3.Connection,
    client: HQClient,
    clock: Clock,
    batch: list[PushEvent],
    limit: list[int],
) -> PushReport:
    """Push one batch; on a 413 push its halves (``limit[0]`` shrinks for the run)."""
    pending = conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
    try:
        response = client.push(batch, backlog=int(pending.fetchone()[0]) - len(batch))
    except RequestTooLarge as exc:
        if len(batch) == 1:
            log.warning("event %s refused alone as too large: dead letter", batch[0].id)
            return record_too_large(conn, batch[0], str(exc), clock())
        limit[0] = max(1, min(limit[0], sum(event_size(e) for e in batch) // 2))
        half = len(batch) // 2
        first = _push(conn, client, clock, batch[:half], limit)
        return first + _push(conn, client, clock, batch[half:], limit)
    return record_results(conn, batch, response.results, clock())
