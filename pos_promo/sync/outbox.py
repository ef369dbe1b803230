"""The push side of the outbox: batches out, HQ's verdicts in.

The store writes events and never deletes them; this module reads the
oldest pending ones and records HQ's answer per event in one
transaction: ``accepted`` and ``duplicate`` both mean HQ holds the event,
so it is marked sent and given an acknowledgement number (see
:mod:`pos_promo.sync.members`); ``rejected``, ``conflict`` (HQ holds a
different event under this id) and ``refused`` (the id is another
store's) make it a dead letter: status ``dead`` in the outbox, the verdict
and reason in ``sync_dead_letters``, shown by ``pos-promo status`` and
never retried by itself, never dropped, never holding back the events
after it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pos_promo.store.connection import immediate
from pos_promo.store.outbox import mark_sent, pending_events
from pos_promo.sync.errors import HQProtocolError
from pos_promo.sync.local import iso
from pos_promo.sync.protocol import HELD_STATUSES, EventResult, PushEvent

__all__ = [
    "EVENT_OVERHEAD",
    "PushReport",
    "dead_reason",
    "event_size",
    "kill",
    "next_batch",
    "record_results",
    "record_too_large",
    "requeue_dead",
]


@dataclass(frozen=True)
class PushReport:
    """What one or more pushed batches did."""

    batches: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    backlog: int = 0

    def __add__(self, other: PushReport) -> PushReport:
        return PushReport(
            self.batches + other.batches,
            self.accepted + other.accepted,
            self.duplicate + other.duplicate,
            self.rejected + other.rejected,
            other.backlog,
        )

    def summary(self) -> str:
        """One line for the daemon's log: batches, accepted, duplicate and rejected events, and
        the backlog left."""
        return (
            f"{self.batches} batch(es), {self.accepted} accepted, {self.duplicate} duplicate, "
            f"{self.rejected} rejected, backlog {self.backlog}"
        )


EVENT_OVERHEAD = 64
"""Bytes one event adds to a push body besides its id, kind and payload (keys, quotes)."""


def event_size(event: PushEvent) -> int:
    """About how many bytes ``event`` adds to a push body (a bound, not exact)."""
    return len(event.payload) + len(event.id) + len(event.kind) + EVENT_OVERHEAD


def next_batch(
    conn: sqlite3.Connection, limit: int, max_bytes: int | None = None
) -> list[PushEvent]:
    """The oldest pending events as the protocol carries them: at most ``limit``
    events and, past the first, at most ``max_bytes`` of body between them.

    The first event always comes, however large: whether HQ takes it is
    HQ's to say (a 413 for it alone makes it a dead letter).
    """
    batch: list[PushEvent] = []
    size = 0
    for e in pending_events(conn, limit):
        event = PushEvent(e.id, e.kind, e.payload)
        size += event_size(event)
        if batch and max_bytes is not None and size > max_bytes:
            break
        batch.append(event)
    return batch


def record_results(
    conn: sqlite3.Connection,
    sent: Sequence[PushEvent],
    results: Sequence[EventResult],
    at: dt.datetime,
) -> PushReport:
    """Record HQ's verdicts on one pushed batch, all in one transaction."""
    if [r.id for r in results] != [e.id for e in sent]:
        raise HQProtocolError("push events", "HQ's results do not name the events pushed")
    held = [r.id for r in results if r.status in HELD_STATUSES]
    dead = [r for r in results if r.status not in HELD_STATUSES]
    with immediate(conn):
        mark_sent(conn, held, at)
        conn.executemany(
            "INSERT OR IGNORE INTO sync_acks (event_id) VALUES (?)", [(i,) for i in held]
        )
        for result in dead:
            kill(conn, result.id, dead_reason(result), at)
        backlog = conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()
    counted = {s: sum(1 for r in results if r.status == s) for s in ("accepted", "duplicate")}
    return PushReport(1, counted["accepted"], counted["duplicate"], len(dead), int(backlog[0]))


def record_too_large(
    conn: sqlite3.Connection, event: PushEvent, reason: str, at: dt.datetime
) -> PushReport:
    """One event HQ refused as too large even alone: a dead letter with ``reason``."""
    with immediate(conn):
        kill(conn, event.id, reason, at)
        backlog = conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()
    return PushReport(1, rejected=1, backlog=int(backlog[0]))


def dead_reason(result: EventResult) -> str:
    """The reason a dead letter keeps: HQ's own, named by its verdict unless "rejected"."""
    reason = result.reason or f"{result.status} by HQ"
    return reason if result.status == "rejected" else f"{result.status}: {reason}"


def kill(conn: sqlite3.Connection, event_id: str, reason: str, at: dt.datetime) -> None:
    """Make one pending event a dead letter with ``reason`` (inside a write transaction)."""
    conn.execute(
        "UPDATE outbox SET status = 'dead' WHERE id = ? AND status = 'pending'", (event_id,)
    )
    conn.execute(
        "INSERT OR REPLACE INTO sync_dead_letters (event_id, seq, kind, reason, at) "
        "SELECT id, seq, kind, ?, ? FROM outbox WHERE id = ?",
        (reason, iso(at), event_id),
    )


def requeue_dead(conn: sqlite3.Connection, event_ids: Iterable[str]) -> int:
    """Put dead letters back in the queue (after HQ was fixed); how many were requeued."""
    ids = list(event_ids)
    with immediate(conn):
        cur = conn.executemany(
            "UPDATE outbox SET status = 'pending' WHERE id = ? AND status = 'dead'",
            [(i,) for i in ids],
        )
        conn.executemany("DELETE FROM sync_dead_letters WHERE event_id = ?", [(i,) for i in ids])
    return cur.rowcount
