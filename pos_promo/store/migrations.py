"""Named migrations, applied in the order they were registered, each once.

The sqlite-utils habit (and its companion ``sqlite-migrate``): a migration
is a function with a name; the names applied are recorded in a table, in
the same transaction as the migration itself, so a crash mid-upgrade leaves
either the old schema or the new one, never half. Each migration runs under
``BEGIN IMMEDIATE`` and re-checks the record inside it, so two processes
opening a new database at once apply every step exactly once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from pos_promo.store.connection import immediate

if TYPE_CHECKING:  # sqlite-utils is imported only when a migration runs
    from sqlite_utils import Database

__all__ = ["MIGRATIONS_TABLE", "Migrations"]

MIGRATIONS_TABLE = "_migrations"

Step = Callable[["Database"], None]


class Migrations(msgspec.Struct):
    """An ordered registry of migration steps; use an instance as a decorator."""

    steps: list[tuple[str, Step]] = msgspec.field(default_factory=list)

    def __call__(self, step: Step) -> Step:
        name = step.__name__
        if any(name == known for known, _ in self.steps):
            raise ValueError(f"migration {name!r} is registered twice")
        self.steps.append((name, step))
        return step

    @property
    def names(self) -> list[str]:
        """Every step's name in order: the schema a current database has."""
        return [name for name, _ in self.steps]

    def applied(self, conn: sqlite3.Connection) -> list[str]:
        """Names already applied to this database, in the order they were."""
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MIGRATIONS_TABLE,)
        ).fetchone()
        if not exists:
            return []
        rows = conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY seq").fetchall()
        return [name for (name,) in rows]

    def pending(self, conn: sqlite3.Connection) -> list[str]:
        """Steps this database still lacks, in order (empty in the common case, checked with one
        read)."""
        done = set(self.applied(conn))
        return [name for name in self.names if name not in done]

    def apply(self, conn: sqlite3.Connection) -> list[str]:
        """Apply every pending step, each in its own transaction; the names applied."""
        if not self.pending(conn):  # the common case: one read, no write lock
            return []
        from sqlite_utils import Database  # ~0.1 s to import: only when needed

        db = Database(conn, execute_plugins=False, recursive_triggers=False)
        ran = []
        for seq, (name, step) in enumerate(self.steps, 1):
            with immediate(conn):
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
                    "(name TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
                )
                done = conn.execute(
                    f"SELECT 1 FROM {MIGRATIONS_TABLE} WHERE name = ?", (name,)
                ).fetchone()
                if done:
                    continue
                step(db)
                conn.execute(
                    f"INSERT INTO {MIGRATIONS_TABLE} (name, seq) VALUES (?, ?)", (name, seq)
                )
                ran.append(name)
        return ran
