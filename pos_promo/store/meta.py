"""Facts about the database itself: which store it belongs to, and the
campaign cache version other processes watch to know the cache changed."""

from __future__ import annotations

import sqlite3

import msgspec

from pos_promo.decoders import LazyDecoder
from pos_promo.errors import StoreError
from pos_promo.model.cart import StoreContext

__all__ = [
    "TILL_IDENTITY",
    "bump_cache_version",
    "cache_version",
    "record_store",
    "recorded_store",
    "till_identity",
]

TILL_IDENTITY = "till"
"""The ``meta`` key of the till's identity: 32 random hex digits drawn once
per database (migration ``m0009_till_identity``) and mixed into every event
id, so two tills of one store never write the same id and no other store can
work out this till's ids from public facts (store, order number)."""

_STORE = LazyDecoder[StoreContext](StoreContext)


def recorded_store(conn: sqlite3.Connection) -> StoreContext | None:
    """The store this database belongs to (``None`` before the first open): one database per
    till, so a second store is refused."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'store'").fetchone()
    return None if row is None else _STORE.decode(row[0])


def till_identity(conn: sqlite3.Connection) -> str:
    """This database's random identity (see :data:`TILL_IDENTITY`)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (TILL_IDENTITY,)).fetchone()
    if row is None:
        raise StoreError("meta", "this database has no till identity: open it with migrations")
    return str(row[0])


def record_store(conn: sqlite3.Connection, store: StoreContext) -> None:
    """Remember the store (call inside a write transaction)."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('store', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (msgspec.json.encode(store).decode(),),
    )


def cache_version(conn: sqlite3.Connection) -> int:
    """A counter bumped by every import that changed the campaign cache."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'cache_version'").fetchone()
    return int(row[0]) if row else 0


def bump_cache_version(conn: sqlite3.Connection) -> int:
    """Bump and return the counter (call inside the transaction that changed the cache)."""
    conn.execute(
        "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
        "WHERE key = 'cache_version'"
    )
    return cache_version(conn)
