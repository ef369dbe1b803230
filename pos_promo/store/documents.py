"""Sharing plans and the execution order: the other documents HQ publishes.

They live in the store's ``documents`` table, the one place the engine
reads them from, whichever path wrote them (a catalog import at the till,
or the sync daemon's pull). The rules are the campaign cache's: a newer
``version`` replaces the kept one, the same or an older version changes
nothing, and every change bumps the cache version in the same
transaction, so every engine on the file rebuilds its in-memory copy.

The execution order is a singleton (the protocol publishes it with id
``default``): whatever id it arrives under, the till keeps one, under
:data:`EXECUTION_ORDER_ID`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence

import msgspec

from pos_promo.decoders import LazyDecoder
from pos_promo.model.coupon import ExecutionOrder, SharingPlan
from pos_promo.store.meta import bump_cache_version
from pos_promo.store.versions import keep_document

__all__ = [
    "EXECUTION_ORDER",
    "EXECUTION_ORDER_ID",
    "SHARING_PLAN",
    "apply_documents",
    "load_execution_order",
    "load_plans",
]

SHARING_PLAN = "sharing_plan"
EXECUTION_ORDER = "execution_order"
EXECUTION_ORDER_ID = "default"

_PLAN = LazyDecoder[SharingPlan](SharingPlan)
_ORDER = LazyDecoder[ExecutionOrder](ExecutionOrder)
_encode = msgspec.json.Encoder().encode


def _key(doc: SharingPlan | ExecutionOrder) -> tuple[str, str]:
    if isinstance(doc, SharingPlan):
        return SHARING_PLAN, doc.id
    return EXECUTION_ORDER, EXECUTION_ORDER_ID


def apply_documents(
    conn: sqlite3.Connection,
    documents: Sequence[SharingPlan | ExecutionOrder],
    at: dt.datetime | None = None,
) -> list[tuple[str, str]]:
    """Keep the newer versions (inside a write transaction); the keys that changed.

    A key is ``(doc_type, doc_id)``. When several versions of one document
    are given, the newest counts.
    """
    newest: dict[tuple[str, str], SharingPlan | ExecutionOrder] = {}
    for doc in documents:
        key = _key(doc)
        if key not in newest or newest[key].version < doc.version:
            newest[key] = doc
    stamp = at.astimezone(dt.UTC).isoformat() if at is not None else None
    changed = []
    for (doc_type, doc_id), doc in sorted(newest.items()):
        row = conn.execute(
            "SELECT version FROM documents WHERE doc_type = ? AND doc_id = ?", (doc_type, doc_id)
        ).fetchone()
        if row is not None and row[0] >= doc.version:
            continue
        conn.execute(
            "INSERT INTO documents (doc_type, doc_id, version, payload, imported_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(doc_type, doc_id) DO UPDATE SET "
            "version = excluded.version, payload = excluded.payload, "
            "imported_at = excluded.imported_at",
            (doc_type, doc_id, doc.version, _encode(doc).decode(), stamp),
        )
        keep_document(conn, doc_type, doc_id, doc.version, _encode(doc).decode())
        changed.append((doc_type, doc_id))
    if changed:
        bump_cache_version(conn)
    return changed


def load_plans(conn: sqlite3.Connection) -> dict[str, SharingPlan]:
    """Every sharing plan kept, by id (they were checked when they came in)."""
    return {
        doc_id: _PLAN.decode(payload)
        for doc_id, payload in conn.execute(
            "SELECT doc_id, payload FROM documents WHERE doc_type = ? ORDER BY doc_id",
            (SHARING_PLAN,),
        )
    }


def load_execution_order(conn: sqlite3.Connection) -> ExecutionOrder | None:
    """The execution order HQ published, or ``None`` for the vendor's default."""
    row = conn.execute(
        "SELECT payload FROM documents WHERE doc_type = ? AND doc_id = ?",
        (EXECUTION_ORDER, EXECUTION_ORDER_ID),
    ).fetchone()
    return None if row is None else _ORDER.decode(row[0])
