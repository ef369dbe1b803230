"""The outbox: events for HQ, written in the transaction that caused them.

An event id is a UUID derived (uuid5) from the till database's random
identity (drawn once, :func:`pos_promo.store.meta.till_identity`), the
store, the order and the event's key within that order's history: a commit
retried after a crash, or replayed from the receipt, writes the very same
ids, so HQ, which holds each id once, applies each effect once; two tills
of one store reusing an order number write different ids; and no store can
work out another's ids from public facts to claim them first at HQ. Events
written before the identity existed keep the old form
(:func:`legacy_event_id`).

The events a commit writes lead their id with the order's instant
(:func:`order_event_id`), so the ids of one order sort together and after
those of the orders before it: the unique index on ``outbox.id`` and the
participation ledger keyed by event id take a commit's rows on their last
page instead of on one random page each (three to five pages a commit
wrote, and fsynced, fewer). Rows stay
``pending`` until the sync daemon marks them ``sent``; nothing is deleted
here.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from pos_promo.ids import uuid5, uuid5_hex
from pos_promo.model.order import OutboxCounts

__all__ = [
    "NAMESPACE",
    "ORDER_COMMITTED",
    "PendingEvent",
    "add_events",
    "event_id",
    "legacy_event_id",
    "mark_sent",
    "order_event_id",
    "outbox_counts",
    "pending_events",
]

NAMESPACE = uuid.UUID("6f1c1f4e-4b7e-5d8e-9a53-2f0d3c8f7a10")

ORDER_COMMITTED = (
    "json_object('kind', 'order.committed', 'order_id', o.order_id, 'store_id', o.store_id, "
    "'at', o.at, 'local_date', o.local_date, 'member_id', o.member_id, "
    "'subtotal', o.subtotal, 'total_discount', o.total_discount, 'total', o.total, "
    "'payments', json(o.payments), 'receipt', json(o.receipt), 'cart', json(o.cart))"
)
"""SQL composing an ``order.committed`` payload (:class:`OrderCommitted`) from
``orders AS o``. Only the order's status ever changes after commit, so the
payload reads the same every time it is composed."""
_encode = msgspec.json.Encoder().encode
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MILLISECOND = dt.timedelta(milliseconds=1)


class PendingEvent(msgspec.Struct, frozen=True):
    """An outbox row as the sync daemon pushes it."""

    seq: int
    id: str
    kind: str
    order_id: str | None
    payload: msgspec.Raw


def event_id(store_id: str, order_id: str, key: str, *, till: str) -> str:
    """The id of the event ``key`` (e.g. ``order.committed``) of one order at one till."""
    return uuid5(NAMESPACE, _event_name(store_id, order_id, key, till))


def _event_name(store_id: str, order_id: str, key: str, till: str) -> str:
    """What an order event's id hashes: one name per event, order and till."""
    return f"{store_id}\x1f{till}\x1f{order_id}\x1f{key}"


def order_event_id(store_id: str, order_id: str, key: str, *, till: str, at: dt.datetime) -> str:
    """The id of the event ``key`` a commit writes for the order committed at ``at``.

    :func:`event_id`'s hash behind the order's instant in milliseconds,
    laid out as a time-ordered UUID (RFC 9562: 48 bits of Unix time first,
    version 8, the variant, then 74 bits of the uuid5 hash in place of
    random ones): still the same id for the same order at the same till,
    still not to be worked out without the till's identity, and in order of
    the orders' instants. An instant before 1970 counts as 1970.
    """
    digits = uuid5_hex(NAMESPACE, _event_name(store_id, order_id, key, till))
    ms = max(0, (at - _EPOCH) // _MILLISECOND)
    h = f"{ms:012x}8{digits[13:]}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def legacy_event_id(store_id: str, order_id: str, key: str) -> str:
    """The id the same event had before tills drew an identity (for looking old rows up)."""
    return uuid5(NAMESPACE, f"{store_id}\x1f{order_id}\x1f{key}")


def add_events(conn: sqlite3.Connection, events: Sequence[tuple[str, str, str, Any]]) -> None:
    """Insert ``(id, kind, order_id, payload struct)`` rows (inside a write transaction).

    A ``None`` payload is only for ``order.committed``: it is composed from
    the order's row when read (:data:`ORDER_COMMITTED`).
    """
    conn.executemany(
        "INSERT INTO outbox (id, kind, order_id, payload) VALUES (?, ?, ?, ?)",
        [
            (eid, kind, oid, None if payload is None else _encode(payload).decode())
            for eid, kind, oid, payload in events
        ],
    )


def mark_sent(conn: sqlite3.Connection, ids: Iterable[str], at: dt.datetime | None = None) -> int:
    """Mark events HQ acknowledged; returns how many were pending before."""
    sent_at = at.astimezone(dt.UTC).isoformat() if at is not None else None
    cur = conn.executemany(
        "UPDATE outbox SET status = 'sent', sent_at = ? WHERE id = ? AND status = 'pending'",
        [(sent_at, eid) for eid in ids],
    )
    return cur.rowcount


def pending_events(conn: sqlite3.Connection, limit: int = 100) -> list[PendingEvent]:
    """The oldest pending events, in the order they were written, payloads complete."""
    return [
        PendingEvent(seq, eid, kind, oid, msgspec.Raw(payload.encode()))
        for seq, eid, kind, oid, payload in conn.execute(
            f"SELECT e.seq, e.id, e.kind, e.order_id, COALESCE(e.payload, {ORDER_COMMITTED}) "
            "FROM outbox AS e LEFT JOIN orders AS o ON o.order_id = e.order_id "
            "WHERE e.status = 'pending' ORDER BY e.seq LIMIT ?",
            (limit,),
        )
    ]


def outbox_counts(conn: sqlite3.Connection) -> OutboxCounts:
    """How many events wait for HQ and how many it has: what ``pos-promo outbox`` shows an
    operator."""
    counts = dict(conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())
    return OutboxCounts(pending=counts.get("pending", 0), sent=counts.get("sent", 0))
