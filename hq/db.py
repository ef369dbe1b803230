"""HQ's SQLite database: schema, a small connection pool, write transactions.

HQ serves many stores from one file; every write runs under
``BEGIN IMMEDIATE`` (a read-then-write under a plain ``BEGIN`` fails with
"database is locked" under contention, ARCHITECTURE "Traps"), and readers
use their own pooled connections in WAL mode so a long ingest never blocks
a page being served.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "SCHEMA",
    "Pool",
    "next_seq",
    "write",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('state_seq', 0);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    document TEXT NOT NULL, published_at TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS changes_key ON changes (type, id, version);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, store_id TEXT NOT NULL, kind TEXT NOT NULL,
    order_id TEXT, payload TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_store ON events (store_id, kind);
CREATE TABLE IF NOT EXISTS orders (
    store_id TEXT NOT NULL, order_id TEXT NOT NULL, event_id TEXT NOT NULL,
    member_id TEXT, at TEXT NOT NULL, local_date TEXT NOT NULL,
    subtotal INTEGER NOT NULL, total_discount INTEGER NOT NULL, total INTEGER NOT NULL,
    PRIMARY KEY (store_id, order_id));
CREATE INDEX IF NOT EXISTS orders_member ON orders (member_id);
CREATE TABLE IF NOT EXISTS refunds (
    store_id TEXT NOT NULL, refund_id TEXT NOT NULL, order_id TEXT NOT NULL,
    amount INTEGER NOT NULL, discount INTEGER NOT NULL,
    PRIMARY KEY (store_id, refund_id));
CREATE TABLE IF NOT EXISTS participation_counts (
    member_id TEXT NOT NULL, campaign_id TEXT NOT NULL, total INTEGER NOT NULL,
    seq INTEGER NOT NULL, PRIMARY KEY (member_id, campaign_id));
CREATE INDEX IF NOT EXISTS participation_counts_seq ON participation_counts (seq);
CREATE TABLE IF NOT EXISTS participation_days (
    member_id TEXT NOT NULL, campaign_id TEXT NOT NULL, local_date TEXT NOT NULL,
    count INTEGER NOT NULL, PRIMARY KEY (member_id, campaign_id, local_date));
CREATE TABLE IF NOT EXISTS redemptions (
    coupon_id TEXT NOT NULL, store_id TEXT NOT NULL, order_id TEXT NOT NULL,
    PRIMARY KEY (coupon_id, store_id, order_id));
CREATE TABLE IF NOT EXISTS gift_accruals (
    event_id TEXT PRIMARY KEY, store_id TEXT NOT NULL, order_id TEXT NOT NULL,
    activity_id TEXT NOT NULL, member_id TEXT NOT NULL, amount INTEGER NOT NULL,
    at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gift_totals (
    member_id TEXT NOT NULL, activity_id TEXT NOT NULL, measure TEXT NOT NULL,
    total INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (member_id, activity_id));
CREATE INDEX IF NOT EXISTS gift_totals_seq ON gift_totals (seq);
CREATE TABLE IF NOT EXISTS gift_grants (
    grant_id TEXT PRIMARY KEY, activity_id TEXT NOT NULL, version INTEGER NOT NULL,
    member_id TEXT NOT NULL, ordinal INTEGER NOT NULL, status TEXT NOT NULL,
    at TEXT NOT NULL, store_id TEXT, origin TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS gift_grants_seq ON gift_grants (seq);
CREATE INDEX IF NOT EXISTS gift_grants_member ON gift_grants (member_id, activity_id);
CREATE TABLE IF NOT EXISTS gift_grant_reports (
    grant_id TEXT NOT NULL, store_id TEXT NOT NULL, event_id TEXT NOT NULL,
    status TEXT NOT NULL, PRIMARY KEY (grant_id, event_id));
CREATE TABLE IF NOT EXISTS wallet_coupons (
    coupon_id TEXT PRIMARY KEY, grant_id TEXT, template_id TEXT NOT NULL,
    member_id TEXT NOT NULL, valid_from TEXT NOT NULL, valid_until TEXT NOT NULL,
    status TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS wallet_coupons_seq ON wallet_coupons (seq);
CREATE TABLE IF NOT EXISTS flags (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, store_id TEXT,
    order_id TEXT, subject TEXT, detail TEXT NOT NULL, at TEXT NOT NULL);
"""


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class Pool:
    """A fixed set of connections handed out one per request."""

    def __init__(self, path: str | Path, size: int = 4) -> None:
        self.path = str(path)
        first = _connect(self.path)
        first.executescript(SCHEMA)
        self._free: queue.Queue[sqlite3.Connection] = queue.Queue()
        self._all = [first] + [_connect(self.path) for _ in range(size - 1)]
        for conn in self._all:
            self._free.put(conn)

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        conn = self._free.get()
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._free.put(conn)

    def close(self) -> None:
        for conn in self._all:
            conn.close()


@contextlib.contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def next_seq(conn: sqlite3.Connection) -> int:
    """The next member-state sequence number (inside a write transaction)."""
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'state_seq'")
    return int(conn.execute("SELECT value FROM meta WHERE key = 'state_seq'").fetchone()[0])
