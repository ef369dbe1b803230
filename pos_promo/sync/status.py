"""What the sync daemon has done, read from the till's database alone.

``pos-promo status`` is for the person standing at the till when "the
promotions look old": the last successful run of each job and its last
error, the events still waiting for HQ, the dead letters HQ rejected and
the documents in quarantine. It reads; it never migrates or writes, so it
is safe beside a running till and daemon, and it works offline.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from msgspec import Struct

from pos_promo.errors import StoreError
from pos_promo.store.connection import connect
from pos_promo.sync.local import JOBS

__all__ = [
    "DeadLetter",
    "JobStatus",
    "Quarantined",
    "SyncStatus",
    "read_status",
    "render_status",
]


class JobStatus(Struct, frozen=True):
    """One job's record; ``stopped_reason`` is set when HQ refused the token."""

    job: str
    runs: int = 0
    failures: int = 0
    last_success_at: str | None = None
    last_success_detail: str | None = None
    last_error_at: str | None = None
    last_error: str | None = None
    stopped_reason: str | None = None


class DeadLetter(Struct, frozen=True):
    """An event HQ rejected: kept, with HQ's reason, until someone requeues it."""

    event_id: str
    kind: str | None
    reason: str
    at: str | None


class Quarantined(Struct, frozen=True):
    """A document HQ published that failed validation; the last good version serves."""

    doc_type: str
    doc_id: str
    version: int
    error: str
    received_at: str | None


class SyncStatus(Struct, frozen=True):
    """Everything ``pos-promo status`` shows. ``attention`` lists what needs a person."""

    db: str
    jobs: tuple[JobStatus, ...]
    backlog: int
    oldest_pending_order_at: str | None
    sent: int
    dead_letters: tuple[DeadLetter, ...]
    quarantined: tuple[Quarantined, ...]
    cursors: dict[str, str]
    attention: tuple[str, ...]


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def read_status(path: str | Path) -> SyncStatus:
    """The sync status of the database at ``path`` (which must exist)."""
    if not Path(path).is_file():
        raise StoreError(str(path), "no such database file")
    conn = connect(path)
    try:
        return _read(conn, str(path))
    except sqlite3.Error as exc:
        raise StoreError(str(path), f"database error: {exc}") from exc
    finally:
        conn.close()


def _read(conn: sqlite3.Connection, db: str) -> SyncStatus:
    tables = _tables(conn)
    runs: dict[str, JobStatus] = {}
    dead: tuple[DeadLetter, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()
    cursors: dict[str, str] = {}
    if "sync_runs" in tables:
        for row in conn.execute(
            "SELECT job, runs, failures, last_success_at, last_success_detail, last_error_at, "
            "last_error, stopped_reason FROM sync_runs"
        ):
            runs[row[0]] = JobStatus(*row)
        dead = tuple(
            DeadLetter(*row)
            for row in conn.execute(
                "SELECT event_id, kind, reason, at FROM sync_dead_letters ORDER BY seq"
            )
        )
        quarantined = tuple(
            Quarantined(*row)
            for row in conn.execute(
                "SELECT doc_type, doc_id, version, error, received_at FROM sync_quarantine "
                "ORDER BY doc_type, doc_id"
            )
        )
        cursors = dict(conn.execute("SELECT stream, cursor FROM sync_cursors").fetchall())
    backlog = sent = 0
    oldest = None
    if "outbox" in tables:
        counts = dict(conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status"))
        backlog, sent = counts.get("pending", 0), counts.get("sent", 0)
        row = conn.execute(
            "SELECT MIN(o.at) FROM outbox e JOIN orders o ON o.order_id = e.order_id "
            "WHERE e.status = 'pending'"
        ).fetchone()
        oldest = row[0] if row else None
    jobs = tuple(runs.get(job, JobStatus(job)) for job in JOBS)
    attention = [f"job {j.job} stopped: {j.stopped_reason}" for j in jobs if j.stopped_reason]
    if dead:
        attention.append(f"{len(dead)} event(s) rejected by HQ (dead letters)")
    if quarantined:
        attention.append(f"{len(quarantined)} document(s) in quarantine")
    return SyncStatus(db, jobs, backlog, oldest, sent, dead, quarantined, cursors, tuple(attention))


def render_status(status: SyncStatus) -> str:
    """The status as a few lines of text for a person."""
    out = [f"sync status of {status.db}", ""]
    out.append(f"{'job':<15} {'last success':<33} {'runs':>5} {'fails':>5}  last error")
    for job in status.jobs:
        success = job.last_success_at or "never"
        error = job.last_error or ""
        if job.stopped_reason:
            error = "STOPPED: " + job.stopped_reason
        out.append(f"{job.job:<15} {success:<33} {job.runs:>5} {job.failures:>5}  {error[:100]}")
    out.append("")
    oldest = f" (oldest order {status.oldest_pending_order_at})" if status.backlog else ""
    out.append(f"backlog: {status.backlog} event(s) waiting for HQ{oldest}; {status.sent} sent")
    out.append(f"dead letters: {len(status.dead_letters)}")
    for d in status.dead_letters:
        out.append(f"  {d.event_id} {d.kind or ''}: {d.reason}")
    out.append(f"quarantined: {len(status.quarantined)}")
    for q in status.quarantined:
        out.append(f"  {q.doc_type} {q.doc_id} v{q.version}: {q.error}")
    if status.attention:
        out.append("")
        out.extend(f"attention: {line}" for line in status.attention)
    return "\n".join(out) + "\n"
