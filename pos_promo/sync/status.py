"""What the sync daemon has done, read from the till's database alone.

``pos-promo status`` is for the person standing at the till when "the
promotions look old": the last successful run of each job and its last
error, the events still waiting for HQ, the dead letters HQ rejected and
the documents in quarantine. It reads; it never migrates or writes, so it
is safe beside a running till and daemon, and it works offline.

``attention`` lists what needs a person, each as one sentence, and
``status --check`` exits non-zero when it is not empty: a stopped job, dead
letters, quarantined documents, a backlog whose oldest order is older than
``backlog_age``, a job without a success for longer than ``job_silence``,
a job that failed ``failed_runs`` times in a row. The thresholds are the
daemon's (its config's ``[check]`` table, written to ``sync_settings`` when
it starts), or :class:`Thresholds`' defaults before a daemon ever ran.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from pos_promo.errors import StoreError
from pos_promo.store.connection import connect
from pos_promo.sync.local import JOBS

__all__ = [
    "THRESHOLDS_KEY",
    "DeadLetter",
    "JobStatus",
    "Quarantined",
    "SyncStatus",
    "Thresholds",
    "UnknownField",
    "read_status",
    "render_status",
]

THRESHOLDS_KEY = "check_thresholds"
"""The ``sync_settings`` key under which the daemon writes its :class:`Thresholds`."""


_NAMED = 5
"""Quarantined documents ``attention`` names; the rest are counted."""


class Thresholds(Struct, frozen=True, forbid_unknown_fields=True):
    """When ``status --check`` calls for a person (the daemon config's ``[check]``)."""

    backlog_age: Annotated[float, Meta(gt=0)] = 3600.0
    """Seconds: the oldest order still waiting for HQ may be this old."""
    job_silence: Annotated[float, Meta(gt=0)] = 7200.0
    """Seconds a job may go without a success (since its last one, or its first run)."""
    failed_runs: Annotated[int, Meta(ge=1)] = 5
    """Consecutive failed runs of one job that call for a person."""


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
    consecutive_failures: int = 0
    first_run_at: str | None = None


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


class UnknownField(Struct, frozen=True):
    """A field of an applied document this till does not know (ignored, but shown)."""

    doc_type: str
    doc_id: str
    version: int
    path: str


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
    thresholds: Thresholds = Thresholds()
    unknown_fields: tuple[UnknownField, ...] = ()


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def read_status(path: str | Path, now: dt.datetime | None = None) -> SyncStatus:
    """The sync status of the database at ``path`` (which must exist), as of ``now``."""
    if not Path(path).is_file():
        raise StoreError(str(path), "no such database file")
    conn = connect(path)
    try:
        return _read(conn, str(path), now or dt.datetime.now(dt.UTC))
    except sqlite3.Error as exc:
        raise StoreError(str(path), f"database error: {exc}") from exc
    finally:
        conn.close()


def _thresholds(conn: sqlite3.Connection, tables: set[str]) -> Thresholds:
    if "sync_settings" not in tables:
        return Thresholds()
    row = conn.execute(
        "SELECT value FROM sync_settings WHERE key = ?", (THRESHOLDS_KEY,)
    ).fetchone()
    try:
        return Thresholds() if row is None else msgspec.json.decode(row[0], type=Thresholds)
    except msgspec.MsgspecError:
        return Thresholds()


def _age(now: dt.datetime, stamp: str | None) -> float | None:
    """Seconds from ``stamp`` (ISO text) to ``now``; ``None`` if there is no stamp."""
    if not stamp:
        return None
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return (now - when).total_seconds()


def _job_trouble(job: JobStatus, limits: Thresholds, now: dt.datetime) -> list[str]:
    found = []
    if job.stopped_reason:
        found.append(f"job {job.job} stopped: {job.stopped_reason}")
    if job.consecutive_failures >= limits.failed_runs:
        found.append(
            f"job {job.job} failed {job.consecutive_failures} run(s) in a row "
            f"(limit {limits.failed_runs}): {job.last_error or ''}".rstrip(": ")
        )
    quiet = _age(now, job.last_success_at or job.first_run_at)
    if quiet is not None and quiet > limits.job_silence:
        since = "its last success" if job.last_success_at else "its first run, never succeeded"
        found.append(
            f"job {job.job} has not succeeded for {quiet:.0f}s ({since}; "
            f"limit {limits.job_silence:.0f}s)"
        )
    return found


def _read(conn: sqlite3.Connection, db: str, now: dt.datetime) -> SyncStatus:
    tables = _tables(conn)
    limits = _thresholds(conn, tables)
    runs: dict[str, JobStatus] = {}
    dead: tuple[DeadLetter, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()
    cursors: dict[str, str] = {}
    if "sync_runs" in tables:
        health = "sync_settings" in tables  # sync_0003 added the columns and the table
        extra = ", consecutive_failures, first_run_at" if health else ""
        for row in conn.execute(
            "SELECT job, runs, failures, last_success_at, last_success_detail, last_error_at, "
            f"last_error, stopped_reason{extra} FROM sync_runs"
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
    unknown: tuple[UnknownField, ...] = ()
    if "sync_unknown_fields" in tables:
        unknown = tuple(
            UnknownField(*row)
            for row in conn.execute(
                "SELECT doc_type, doc_id, version, path FROM sync_unknown_fields "
                "ORDER BY doc_type, doc_id, path"
            )
        )
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
    attention = [line for job in jobs for line in _job_trouble(job, limits, now)]
    if dead:
        attention.append(f"{len(dead)} event(s) rejected by HQ (dead letters)")
    if quarantined:
        named = ", ".join(f"{q.doc_type}:{q.doc_id}" for q in quarantined[:_NAMED])
        more = f" and {len(quarantined) - _NAMED} more" if len(quarantined) > _NAMED else ""
        attention.append(f"{len(quarantined)} document(s) in quarantine: {named}{more}")
    waited = _age(now, oldest) if backlog else None
    if waited is not None and waited > limits.backlog_age:
        attention.append(
            f"{backlog} event(s) waiting for HQ, the oldest order {waited:.0f}s old "
            f"(limit {limits.backlog_age:.0f}s)"
        )
    return SyncStatus(
        db,
        jobs,
        backlog,
        oldest,
        sent,
        dead,
        quarantined,
        cursors,
        tuple(attention),
        limits,
        unknown,
    )


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
    if status.unknown_fields:
        out.append(f"unknown fields (ignored): {len(status.unknown_fields)}")
        for u in status.unknown_fields:
            out.append(f"  {u.doc_type} {u.doc_id} v{u.version}: {u.path}")
    if status.attention:
        out.append("")
        out.extend(f"attention: {line}" for line in status.attention)
    return "\n".join(out) + "\n"
