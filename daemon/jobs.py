"""The daemon's jobs: each run calls one sync step and leaves one log line.

:class:`Jobs` is everything the scheduler calls, and nothing in it knows
about the scheduler: tests call :meth:`Jobs.run` directly with an injected
clock (a live scheduler under frozen time deadlocks, ARCHITECTURE "Traps").
Each job has its own database connection and its own HTTP session, since
APScheduler runs jobs on a thread pool and neither a SQLite connection's
transaction nor a ``requests.Session`` is safe to share between threads.

A run records its outcome in ``sync_runs`` (``pos-promo status`` shows it),
whatever ended it: an unexpected exception is recorded and logged as one
line like any failure (its traceback only at debug level), so the scheduler
never logs a traceback and the failure is never silent. A 401 or 403 stops
that job: it is marked stopped with the reason and skipped until the daemon
is restarted (with a fixed token), instead of retrying forever. Any other
failure is logged and retried at the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec
import requests
from pos_promo_daemon.config import DaemonConfig

from pos_promo.errors import PromoError, StoreMismatch
from pos_promo.store import gifts
from pos_promo.store.connection import immediate
from pos_promo.store.meta import recorded_store
from pos_promo.sync import steps
from pos_promo.sync.client import HQClient, RetryPolicy
from pos_promo.sync.errors import HQRefused, SyncCancelled
from pos_promo.sync.local import JOBS, open_database, put_setting, record_run, stop_job
from pos_promo.sync.status import THRESHOLDS_KEY
from pos_promo.sync.steps import Clock

__all__ = [
    "JobResult",
    "Jobs",
    "housekeeping",
    "release_gifts",
]

log = logging.getLogger("daemon")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class JobResult:
    """How one run ended: ``ok``, ``failed``, ``stopped`` (by a 401/403) or ``skipped``."""

    job: str
    status: str
    detail: str


def release_gifts(conn: sqlite3.Connection, clock: Clock) -> str:
    """Issue the scheduled gift coupons that are due (``Engine.release_gifts(now)``).

    Idempotent, and safe beside the till: a release flips its row inside
    ``BEGIN IMMEDIATE``, so a commit or evaluation at the till that finds
    the same coupon due does not issue it again. Releases missed while the
    daemon was down are issued on its first run, valid from when they were
    due.
    """
    store = recorded_store(conn)
    if store is None:
        return "no store recorded yet: nothing to release"
    now = clock()
    with immediate(conn):
        released = gifts.release(conn, store.id, now)
    left = conn.execute("SELECT COUNT(*) FROM gift_releases").fetchone()
    return f"{len(released)} gift coupon(s) released, {left[0]} scheduled"


def housekeeping(conn: sqlite3.Connection, clock: Clock) -> str:
    """Prune acknowledgements no pull needs any more, and checkpoint the WAL.

    An acknowledgement matters only while a local row waits for a pull to
    include it: a participation or gift accrual not confirmed yet, or a
    grant or wallet coupon whose local change is pending. The newest one is
    kept, since it is the next pull's watermark.
    """
    del clock
    with immediate(conn):
        pruned = conn.execute(
            "DELETE FROM sync_acks WHERE ack_seq < (SELECT MAX(ack_seq) FROM sync_acks) "
            "AND event_id NOT IN (SELECT event_id FROM participations "
            "WHERE confirmed = 0 AND member_id IS NOT NULL) "
            "AND event_id NOT IN (SELECT event_id FROM gift_accruals WHERE confirmed = 0) "
            "AND event_id NOT IN (SELECT pending_event FROM gift_grants "
            "WHERE pending_event IS NOT NULL) "
            "AND event_id NOT IN (SELECT pending_event FROM wallet "
            "WHERE pending_event IS NOT NULL)"
        ).rowcount
    busy, log_pages, moved = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return f"{pruned} ack(s) pruned, WAL checkpoint {moved}/{log_pages} page(s)" + (
        " (busy)" if busy else ""
    )


@dataclass
class Jobs:
    """The five jobs over one database and one HQ; see the module docstring."""

    config: DaemonConfig
    clock: Clock = _utc_now
    stop: threading.Event = field(default_factory=threading.Event)
    session_factory: Callable[[], requests.Session] = requests.Session
    on_stopped: Callable[[str], None] = lambda job: None
    _conns: dict[str, sqlite3.Connection] = field(default_factory=dict, init=False)
    _clients: dict[str, HQClient] = field(default_factory=dict, init=False)
    _active: int = field(default=0, init=False)
    _lock: threading.Condition = field(default_factory=threading.Condition, init=False)

    def open(self) -> Jobs:
        """Open one connection and one client per job; clear stops of a previous life."""
        http = self.config.http
        for job in JOBS:
            self._conns[job] = open_database(self.config.db)
            self._clients[job] = HQClient(
                self.config.hq_url,
                self.config.bearer(),
                "",  # read from the database at every run (_store_id)
                session=self.session_factory(),
                connect_timeout=http.connect_timeout,
                read_timeout=http.read_timeout,
                retry=RetryPolicy(
                    http.attempts, http.backoff_base, http.backoff_cap, http.retry_after_cap
                ),
                verify=self.config.verify(),
                max_response_bytes=http.max_response_bytes,
                wait=self.stop.wait,
                rng=random.Random(),
                clock=self.clock,
            )
            stop_job(self._conns[job], job, None)
        put_setting(
            self._conns[JOBS[0]], THRESHOLDS_KEY, msgspec.json.encode(self.config.check).decode()
        )
        return self

    def _store_id(self, conn: sqlite3.Connection) -> str:
        """The store this till is, read from its database at every run.

        A daemon may start before the till first opened its database (no
        store recorded yet): it then pushes nothing and picks the store up
        at the first run after the till recorded it, without a restart. A
        ``store_id`` in the config is only a check against the database.
        """
        recorded = recorded_store(conn)
        if recorded is None:
            return ""
        if self.config.store_id and recorded.id != self.config.store_id:
            raise StoreMismatch(recorded.id, self.config.store_id)
        return recorded.id

    def close(self) -> None:
        """Close every job's connection and HTTP session; the scheduler has stopped, so no job
        still holds one."""
        for conn in self._conns.values():
            conn.close()
        for client in self._clients.values():
            client.session.close()
        self._conns.clear()
        self._clients.clear()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job is running (``False`` if one still was at ``timeout``)."""
        with self._lock:
            return self._lock.wait_for(lambda: self._active == 0, timeout)

    def run(self, job: str) -> JobResult:
        """Run ``job`` once: the step, its record in ``sync_runs``, one log line."""
        conn = self._conns[job]
        row = conn.execute("SELECT stopped_reason FROM sync_runs WHERE job = ?", (job,)).fetchone()
        if row is not None and row[0]:
            return JobResult(job, "skipped", f"stopped: {row[0]}")
        with self._lock:
            self._active += 1
        started = time.monotonic()
        try:
            result = self._run(job, conn)
        finally:
            with self._lock:
                self._active -= 1
                self._lock.notify_all()
        took = time.monotonic() - started
        line = f"{job} {result.status}: {result.detail} ({took:.2f}s)"
        if result.status == "ok":
            log.info(line)
        elif result.status == "stopped":
            log.error(line)
        else:
            log.warning(line)
        return result

    def _run(self, job: str, conn: sqlite3.Connection) -> JobResult:
        client = self._clients[job]
        batches = self.config.batches
        try:
            client.store_id = self._store_id(conn)
            if job == "push_events" and not client.store_id:
                detail = "no store recorded in the database yet: nothing to push"
            elif job == "pull_campaigns":
                detail = steps.pull_changes(
                    conn, client, self.clock, page_size=batches.changes_page
                ).summary()
            elif job == "pull_members":
                detail = steps.pull_member_state(
                    conn, client, self.clock, page_size=batches.member_page
                ).summary()
            elif job == "push_events":
                detail = steps.push_events(
                    conn, client, self.clock, batch_size=batches.push, max_bytes=batches.push_bytes
                ).summary()
            elif job == "release_gifts":
                detail = release_gifts(conn, self.clock)
            else:
                detail = housekeeping(conn, self.clock)
        except HQRefused as exc:
            record_run(conn, job, self.clock(), error=str(exc))
            stop_job(conn, job, str(exc))
            self.on_stopped(job)
            return JobResult(job, "stopped", str(exc))
        except SyncCancelled as exc:
            return JobResult(job, "cancelled", str(exc))
        except (PromoError, sqlite3.Error, OSError) as exc:
            return self._failed(conn, job, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug or a surprise: recorded and shown, never a traceback
            log.debug("%s failed", job, exc_info=True)
            return self._failed(conn, job, f"unexpected {type(exc).__name__}: {exc}")
        try:
            record_run(conn, job, self.clock(), detail=detail)
        except sqlite3.Error as exc:
            return JobResult(job, "failed", f"{detail}; not recorded: {exc}")
        return JobResult(job, "ok", detail)

    def _failed(self, conn: sqlite3.Connection, job: str, error: str) -> JobResult:
        """Record a failed run in ``sync_runs`` (if the database lets us) and say so."""
        try:
            record_run(conn, job, self.clock(), error=error)
        except sqlite3.Error as exc:
            error += f" (not recorded: {exc})"
        return JobResult(job, "failed", error)
