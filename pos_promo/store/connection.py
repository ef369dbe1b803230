"""Opening the till's SQLite file the one way that survives a second process.

Every connection runs in WAL mode (readers never block the writer) with a
busy timeout, and Python's implicit transactions are off
(``isolation_level=None``): a transaction that reads and then writes under a
plain ``BEGIN`` fails with "database is locked" when another process
writes, because SQLite cannot upgrade its read lock and will not wait.
:func:`immediate` takes the write lock up front, so it waits its turn
instead (ARCHITECTURE, "Traps already measured").

A new database file is created ``0600`` before SQLite opens it, whatever
the umask: it holds members' ids, orders and wallet coupons, and SQLite
gives its ``-wal`` and ``-shm`` files the same mode as the database file.
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import TYPE_CHECKING, Literal

from pos_promo.errors import StoreError

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

__all__ = ["BUSY_TIMEOUT_MS", "DURABILITY", "Durability", "connect", "immediate"]

Durability = Literal["full", "normal"]
"""``full``: every commit is fsynced, so a power cut loses nothing committed.
``normal``: in WAL mode a process crash loses nothing, but a power cut may
lose the last commits (the WAL is fsynced only at checkpoints)."""

DURABILITY: dict[Durability, str] = {"full": "FULL", "normal": "NORMAL"}
BUSY_TIMEOUT_MS = 10_000


def connect(path: str | Path, durability: Durability = "full") -> sqlite3.Connection:
    """A connection to ``path`` (created if missing) with WAL, busy timeout and sync level."""
    if durability not in DURABILITY:
        raise StoreError(str(path), f"durability must be 'full' or 'normal', not {durability!r}")
    _create_private(path)
    try:
        conn = sqlite3.connect(
            str(path),
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=256,
        )
    except sqlite3.Error as exc:
        raise StoreError(str(path), f"cannot open database ({exc})") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = _switch_to_wal(conn)
        if str(mode).lower() != "wal":
            raise StoreError(str(path), f"cannot switch to WAL mode (journal mode is {mode})")
        conn.execute(f"PRAGMA synchronous = {DURABILITY[durability]}")
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(str(path), f"not a usable SQLite database ({exc})") from exc
    except StoreError:
        conn.close()
        raise
    return conn


def _create_private(path: str | Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (SQLite would use 0644)."""
    if str(path) in ("", ":memory:") or str(path).startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(str(path), f"cannot create database ({exc.strerror})") from None
    os.close(fd)


def _switch_to_wal(conn: sqlite3.Connection) -> str:
    """``PRAGMA journal_mode = WAL``, retried while another connection holds the file.

    SQLite answers "database is locked" to this pragma at once, without the
    busy handler, while another process is creating or migrating a new file
    (seen in about one run in eight of the four-opener test), so it waits
    here instead, up to the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


class immediate:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; ``ROLLBACK`` on any exception.

    Use it around every read-then-write. Not re-entrant: SQLite has no
    nested transactions, and silently joining an outer one would hide
    which block owns the commit. A class rather than a generator-based
    context manager: every commit goes through it, and contextlib's
    generator costs several times more to enter and leave.
    """

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        if kind is not None:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return  # the exception goes on
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
