"""HQ's storage: one interface, two backends.

SQLite is the embedded default (the demo, development, the quick tests);
PostgreSQL, through psycopg 3 and its pool, is the production backend that
any number of HQ processes on any number of machines share.
:func:`open_database` picks one from its target: a ``postgresql://`` URL
means PostgreSQL, anything else is a SQLite file.

The business modules (:mod:`.ingest`, :mod:`.gifts`, :mod:`.members`,
:mod:`.replay`, :mod:`.report`, :mod:`.catalog`) write one portable SQL:
``?`` placeholders (translated for psycopg), ``INSERT ... ON CONFLICT``,
columns qualified by their table inside ``DO UPDATE``, sums cast back to
``BIGINT``. They see a :class:`Connection`, never a driver.

Everything that must hold across processes is held by the database, never
by process memory: writes run in :func:`write` (``BEGIN IMMEDIATE`` on
SQLite, which makes writers take turns: a read-then-write under a plain
``BEGIN`` fails with "database is locked" under contention, ARCHITECTURE
"Traps"; ``BEGIN`` on PostgreSQL, where :meth:`Connection.lock` takes a
transaction-scoped advisory lock and row locks do the rest), ids are
primary keys, and every member-state change takes its number from one row
(:func:`next_seq`) that a writer holds until it commits, so numbers are
handed out in commit order and a cursor never skips a row.

Schema migrations (:mod:`.migrations`) are applied at start, each in its
own transaction under a lock, and recorded in ``schema_migrations``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import re
import sqlite3
import time
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import psycopg
import psycopg_pool
from pos_promo_hq.migrations import MIGRATIONS

__all__ = [
    "Connection",
    "Cursor",
    "Database",
    "DatabaseError",
    "PostgresDatabase",
    "SQLiteDatabase",
    "is_postgres_url",
    "next_seq",
    "next_seqs",
    "open_database",
    "query_in",
    "select_in",
    "snapshot",
    "write",
]

Dialect = Literal["sqlite", "postgresql"]


class DatabaseError(Exception):
    """HQ cannot open or prepare its database (one line for the operator)."""


class Cursor(Protocol):
    """What a query answers, on either backend."""

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed (the ingest path counts its inserts this way)."""

    def fetchone(self) -> Any:
        """The next row, or ``None``: both drivers answer the same way."""

    def fetchall(self) -> list[Any]:
        """Every remaining row, as a list on both drivers."""

    def __iter__(self) -> Iterator[Any]: ...


class Connection(ABC):
    """One connection running HQ's portable SQL."""

    dialect: Dialect

    @abstractmethod
    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        """Run one statement with ``?`` placeholders."""

    @abstractmethod
    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> Cursor:
        """Run one statement for each row (pipelined on PostgreSQL); its ``rowcount``
        is the rows they changed (inside :meth:`pipeline`: once the block ends)."""

    def pipeline(self) -> contextlib.AbstractContextManager[object]:
        """Statements in this block go to the server without waiting for each answer;
        reading a result waits for all sent before it (SQLite: each runs at once)."""
        return contextlib.nullcontext()

    @property
    @abstractmethod
    def in_transaction(self) -> bool:
        """Whether a transaction is open, so :meth:`rollback` and the write helpers never issue a
        stray ``ROLLBACK``/``BEGIN``."""

    @abstractmethod
    def begin(self) -> None:
        """Start a write transaction."""

    @abstractmethod
    def begin_read(self) -> None:
        """Start a read transaction that sees one snapshot for all its statements."""

    def commit(self) -> None:
        """End the write transaction :meth:`begin` started; portable SQL, so both drivers share
        it."""
        self.execute("COMMIT")

    def rollback(self) -> None:
        """Undo the open transaction, if any: safe to call on an error path that may have failed
        before ``BEGIN``."""
        if self.in_transaction:
            self.execute("ROLLBACK")

    def lock(self, key: str) -> None:
        """Hold ``key`` until this transaction ends (SQLite: writers already take turns)."""
        del key

    def skip_locked(self) -> str:
        """The suffix that claims rows no other worker holds (SQLite: none needed)."""
        return ""


class _SQLiteConnection(Connection):
    dialect: Dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        return self.raw.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> Cursor:
        return self.raw.executemany(sql, [tuple(row) for row in rows])

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def begin(self) -> None:
        self.raw.execute("BEGIN IMMEDIATE")

    def begin_read(self) -> None:
        self.raw.execute("BEGIN")  # WAL: the first read fixes the snapshot


@functools.lru_cache(maxsize=1024)
def _to_psycopg(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return re.sub(r"\?", "%s", sql.replace("%", "%%"))


class _PostgresConnection(Connection):
    dialect: Dialect = "postgresql"

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        if params:
            return self.raw.execute(_to_psycopg(sql), tuple(params), prepare=True)
        return self.raw.execute(sql.encode())

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> Cursor:
        # psycopg sends every row's statement before reading any answer (pipeline mode)
        cur = self.raw.cursor()
        cur.executemany(_to_psycopg(sql), [tuple(row) for row in rows])
        return cur

    def pipeline(self) -> contextlib.AbstractContextManager[object]:
        return self.raw.pipeline()

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def begin(self) -> None:
        self.raw.execute(b"BEGIN")

    def begin_read(self) -> None:
        self.raw.execute(b"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def lock(self, key: str) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?)", (zlib.crc32(key.encode()),))

    def skip_locked(self) -> str:
        return " FOR UPDATE SKIP LOCKED"


@contextlib.contextmanager
def snapshot(conn: Connection) -> Iterator[None]:
    """Several reads that must agree with each other (a report whose replay
    counts and flags are read one after another would otherwise mix what a
    replay worker committed in between)."""
    conn.begin_read()
    try:
        yield
    finally:
        conn.rollback()


@contextlib.contextmanager
def write(conn: Connection | sqlite3.Connection) -> Iterator[None]:
    """One write transaction, rolled back on any exception."""
    if isinstance(conn, sqlite3.Connection):
        conn = _SQLiteConnection(conn)
    conn.begin()
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def next_seq(conn: Connection | sqlite3.Connection) -> int:
    """The next member-state number (inside a write transaction, which then holds it)."""
    row = conn.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'state_seq' RETURNING value"
    ).fetchone()
    return int(row[0])


def next_seqs(conn: Connection, count: int) -> range:
    """``count`` member-state numbers in one statement (inside a write transaction)."""
    if count <= 0:
        return range(0)
    row = conn.execute(
        "UPDATE meta SET value = value + ? WHERE key = 'state_seq' RETURNING value", (count,)
    ).fetchone()
    last = int(row[0])
    return range(last - count + 1, last + 1)


_IN_SIZES = (1, 4, 16, 64, 256, 500)


def query_in(
    conn: Connection,
    sql: str,
    values: Sequence[object],
    before: Sequence[object] = (),
    after: Sequence[object] = (),
) -> Callable[[], list[Any]]:
    """Send ``sql`` for the rows whose ``{marks}`` list holds each of ``values``; read
    them by calling the answer (inside :meth:`Connection.pipeline`, queries sent
    before the first read all come back in one round trip).

    The values go in chunks of at most 500, each padded (by repeating its
    last value, which ``IN`` ignores) to one of a few lengths, so PostgreSQL
    prepares a handful of statements rather than one per batch size.
    """
    unique = list(dict.fromkeys(values))
    cursors: list[Cursor] = []
    for start in range(0, len(unique), _IN_SIZES[-1]):
        chunk = unique[start : start + _IN_SIZES[-1]]
        size = next(n for n in _IN_SIZES if n >= len(chunk))
        chunk += [chunk[-1]] * (size - len(chunk))
        query = sql.replace("{marks}", ", ".join("?" * size))
        cursors.append(conn.execute(query, (*before, *chunk, *after)))
    return lambda: [row for cur in cursors for row in cur.fetchall()]


def select_in(
    conn: Connection,
    sql: str,
    values: Sequence[object],
    before: Sequence[object] = (),
    after: Sequence[object] = (),
) -> list[Any]:
    """The rows of :func:`query_in`, read at once."""
    return query_in(conn, sql, values, before, after)()


class Database(ABC):
    """HQ's database: hands out connections, one per request or job."""

    dialect: Dialect
    target: str

    @abstractmethod
    def connection(self) -> contextlib.AbstractContextManager[Connection]:
        """Borrow one connection of the database's pool for a ``with`` block; it goes back even
        when the block fails, so a failed request never leaks one."""

    @abstractmethod
    def close(self) -> None:
        """Close every connection the database opened; HQ calls it once on shutdown."""

    def migrate(self) -> list[str]:
        """Apply the migrations this database lacks, in order; their names."""
        applied: list[str] = []
        with self.connection() as conn:
            with write(conn):  # HQ processes starting together take turns
                conn.lock("pos_promo_hq.migrate")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
            for name, statements, step in MIGRATIONS:
                with write(conn):
                    conn.lock("pos_promo_hq.migrate")
                    done = conn.execute(
                        "SELECT 1 FROM schema_migrations WHERE name = ?", (name,)
                    ).fetchone()
                    if done:
                        continue
                    for statement in statements(conn.dialect):
                        conn.execute(statement)
                    if step is not None:
                        step(conn)
                    conn.execute(
                        "INSERT INTO schema_migrations (name, applied_at) "
                        "VALUES (?, CAST(CURRENT_TIMESTAMP AS TEXT))",
                        (name,),
                    )
                    applied.append(name)
        return applied


def _sqlite_connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 30000")
    _set_wal(conn)
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _set_wal(conn: sqlite3.Connection, attempts: int = 300) -> None:
    """Switch the file to WAL, waiting out processes that open it at the same time.

    Changing the journal mode needs the file to itself, and SQLite answers
    "database is locked" at once, without its busy handler, while another
    process opening a new file holds it; HQ processes started together would
    then fail. Retry for up to ~30 s instead.
    """
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1)


def _create_private(path: Path) -> None:
    """Create HQ's SQLite file (and its WAL and SHM) readable by its owner only."""
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if not file.exists():
            try:
                os.close(os.open(file, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError as exc:
                raise DatabaseError(f"cannot create HQ database {file}: {exc.strerror}") from None
        if file.stat().st_mode & 0o077:
            file.chmod(0o600)


class SQLiteDatabase(Database):
    """A fixed set of connections to one SQLite file, handed out one at a time."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: str | Path, size: int = 4) -> None:
        self.target = str(path)
        file = Path(self.target)
        if not file.parent.is_dir():
            raise DatabaseError(f"cannot create HQ database {file}: no folder {file.parent}")
        _create_private(file)
        self._free: queue.Queue[sqlite3.Connection] = queue.Queue()
        try:
            self._all = [_sqlite_connect(self.target) for _ in range(size)]
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open HQ database {file}: {exc}") from None
        for raw in self._all:
            self._free.put(raw)

    @contextlib.contextmanager
    def connection(self) -> Iterator[Connection]:
        """A free connection of the file's small pool for the block (waiting while all are out),
        back in the pool afterwards whatever happened."""
        raw = self._free.get()
        try:
            yield _SQLiteConnection(raw)
        finally:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            self._free.put(raw)

    def close(self) -> None:
        """Close every connection of the pool."""
        for raw in self._all:
            raw.close()


class PostgresDatabase(Database):
    """A psycopg pool on one PostgreSQL database (a ``search_path`` in the URL's
    ``options`` picks a schema: the contract tests give each test its own)."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, size: int = 4) -> None:
        self.target = url
        try:  # one clear failure now, rather than the pool retrying in the background
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.Error:
            raise DatabaseError(f"cannot connect to PostgreSQL at {_safe(url)}") from None
        self._pool = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, size),
            kwargs={"autocommit": True},
            open=False,
            name="pos_promo_hq",
        )
        try:
            self._pool.open(wait=True, timeout=10)
        except psycopg_pool.PoolTimeout:
            self._pool.close()
            raise DatabaseError(f"cannot connect to PostgreSQL at {_safe(url)}") from None

    @contextlib.contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection from the pool for the block; an error leaves no transaction open on it
        for the next borrower."""
        with self._pool.connection() as raw:
            conn = _PostgresConnection(raw)
            try:
                yield conn
            finally:
                conn.rollback()

    def close(self) -> None:
        """Close the pool and its connections."""
        self._pool.close()


def _safe(url: str) -> str:
    """The URL without a password, for messages."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def is_postgres_url(target: str | Path) -> bool:
    """Whether ``target`` names a PostgreSQL server rather than a SQLite file: the one switch
    between the two backends."""
    return str(target).startswith(("postgresql://", "postgres://"))


def open_database(target: str | Path, size: int = 4, migrate: bool = True) -> Database:
    """HQ's database at ``target`` (a file path or a ``postgresql://`` URL), migrated."""
    db: Database
    db = (
        PostgresDatabase(str(target), size)
        if is_postgres_url(target)
        else SQLiteDatabase(target, size)
    )
    if migrate:
        try:
            db.migrate()
        except (sqlite3.Error, psycopg.Error) as exc:
            db.close()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatabaseError(f"cannot prepare HQ database: {first}") from None
    return db
