"""The cumulative gift's ledger: accrual entries, confirmed totals and grants.

A member's total for an activity is, like a participation count::

    HQ-confirmed total + sum of local entries HQ has not confirmed yet

Each local entry (positive at commit, negative at refund) carries the id of
the outbox event that tells HQ; the sync layer stores HQ's totals and flags
the entries they include (:func:`confirm_accruals`), so nothing is counted
twice. The entry written at commit also keeps the order's
:class:`~pos_promo.model.gift.AccrualBasis`, from which a refund recomputes
what the order still earns.

Grants are keyed by their derived id; a grant is ``granted`` or
``revoked`` and remembers the order that (re)granted it and whether it
came from this till or from HQ. Functions here read and write; the caller
holds the ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence

import msgspec

from pos_promo.decoders import LazyDecoder
from pos_promo.model.gift import AccrualBasis

__all__ = [
    "AccrualRow",
    "GrantRow",
    "Standing",
    "accrual_rows",
    "basis_json",
    "confirm_accruals",
    "grants_of",
    "order_accruals",
    "record_accruals",
    "set_confirmed_total",
    "set_grant",
    "standing",
]

AccrualRow = tuple[str, str, str, str, int, str | None, str, str | None]
"""``(event_id, order_id, activity_id, member_id, amount, refund_id, at, basis)``."""

_BASIS = LazyDecoder[AccrualBasis](AccrualBasis)
_encode = msgspec.json.Encoder().encode

_STANDING = """
SELECT activity_id, SUM(total), GROUP_CONCAT(ordinal) FROM (
    SELECT activity_id, total, NULL AS ordinal FROM gift_confirmed_totals WHERE member_id = :m
    UNION ALL
    SELECT activity_id, amount, NULL FROM gift_accruals WHERE member_id = :m AND confirmed = 0
    UNION ALL
    SELECT activity_id, 0, ordinal FROM gift_grants WHERE member_id = :m AND status = 'granted'
) GROUP BY activity_id
"""


class Standing(msgspec.Struct):
    """One member's standing in one activity: total, and ordinals granted now."""

    total: int = 0
    granted: set[int] = msgspec.field(default_factory=set)


def standing(conn: sqlite3.Connection, member_id: str) -> dict[str, Standing]:
    """The member's total and granted ordinals per activity (activities with either).

    One query: the commit path asks it for every member order.
    """
    return {
        activity: Standing(int(total), {int(k) for k in ordinals.split(",")} if ordinals else set())
        for activity, total, ordinals in conn.execute(_STANDING, {"m": member_id})
    }


def basis_json(basis: AccrualBasis) -> str:
    """The basis as stored with the commit's ledger entry: a refund decodes it to recompute what
    the order still earns."""
    return _encode(basis).decode()


def record_accruals(conn: sqlite3.Connection, rows: Sequence[AccrualRow]) -> None:
    """Append ledger entries (inside the transaction of their order or refund)."""
    conn.executemany(
        "INSERT INTO gift_accruals (event_id, order_id, activity_id, member_id, amount, "
        "refund_id, at, basis) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def order_accruals(
    conn: sqlite3.Connection, member_id: str, order_id: str
) -> list[tuple[AccrualBasis, int]]:
    """Each activity the order accrued to: its basis and what it still counts for."""
    found: dict[str, tuple[AccrualBasis | None, int]] = {}
    for activity, amount, basis in conn.execute(
        "SELECT activity_id, amount, basis FROM gift_accruals "
        "WHERE member_id = ? AND order_id = ? ORDER BY activity_id",
        (member_id, order_id),
    ):
        known, total = found.get(activity, (None, 0))
        found[activity] = (_BASIS.decode(basis) if basis else known, total + amount)
    return [(basis, total) for basis, total in found.values() if basis is not None]


def set_confirmed_total(
    conn: sqlite3.Connection, member_id: str, activity_id: str, measure: str, total: int
) -> None:
    """Store HQ's confirmed total for one member and activity (replacing the older one)."""
    conn.execute(
        "INSERT INTO gift_confirmed_totals (member_id, activity_id, measure, total) "
        "VALUES (?, ?, ?, ?) ON CONFLICT(member_id, activity_id) DO UPDATE SET "
        "measure = excluded.measure, total = excluded.total",
        (member_id, activity_id, measure, total),
    )


def confirm_accruals(
    conn: sqlite3.Connection, member_id: str, activity_id: str, event_ids: Iterable[str]
) -> int:
    """Flag a member's local entries in one activity that HQ's confirmed total includes."""
    cur = conn.executemany(
        "UPDATE gift_accruals SET confirmed = 1 WHERE member_id = ? AND activity_id = ? "
        "AND event_id = ? AND confirmed = 0",
        [(member_id, activity_id, eid) for eid in event_ids],
    )
    return cur.rowcount


class GrantRow(msgspec.Struct, frozen=True):
    """A grant as the till holds it."""

    grant_id: str
    activity_id: str
    version: int
    member_id: str
    ordinal: int
    status: str
    at: dt.datetime
    order_id: str | None
    store_id: str | None
    source: str
    pending_event: str | None = None


def set_grant(conn: sqlite3.Connection, grant: GrantRow, stamp: dt.datetime) -> None:
    """Insert or replace one grant's state."""
    conn.execute(
        "INSERT INTO gift_grants (grant_id, activity_id, version, member_id, ordinal, status, "
        "at, order_id, store_id, source, pending_event, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(member_id, activity_id, ordinal) DO UPDATE SET "
        "version = excluded.version, status = excluded.status, at = excluded.at, "
        "order_id = excluded.order_id, store_id = excluded.store_id, source = excluded.source, "
        "pending_event = excluded.pending_event, updated_at = excluded.updated_at",
        (
            grant.grant_id,
            grant.activity_id,
            grant.version,
            grant.member_id,
            grant.ordinal,
            grant.status,
            grant.at.astimezone(dt.UTC).isoformat(),
            grant.order_id,
            grant.store_id,
            grant.source,
            grant.pending_event,
            stamp.astimezone(dt.UTC).isoformat(),
        ),
    )


def grants_of(conn: sqlite3.Connection, member_id: str) -> list[GrantRow]:
    """Every grant the till holds for the member, revoked ones included, as ``pos-promo member``
    shows them."""
    return [
        GrantRow(
            gid,
            activity,
            version,
            member,
            ordinal,
            status,
            dt.datetime.fromisoformat(at),
            order,
            store,
            source,
            pending,
        )
        for gid, activity, version, member, ordinal, status, at, order, store, source, pending in (
            conn.execute(
                "SELECT grant_id, activity_id, version, member_id, ordinal, status, at, "
                "order_id, store_id, source, pending_event FROM gift_grants "
                "WHERE member_id = ? ORDER BY activity_id, ordinal",
                (member_id,),
            )
        )
    ]


def accrual_rows(conn: sqlite3.Connection, member_id: str) -> list[tuple[str, int, int]]:
    """``(activity, confirmed total, unconfirmed local sum)`` per activity of a member."""
    found: dict[str, list[int]] = {}
    for activity, total in conn.execute(
        "SELECT activity_id, total FROM gift_confirmed_totals WHERE member_id = ?", (member_id,)
    ):
        found.setdefault(activity, [0, 0])[0] = total
    for activity, local in conn.execute(
        "SELECT activity_id, SUM(amount) FROM gift_accruals WHERE member_id = ? "
        "AND confirmed = 0 GROUP BY activity_id",
        (member_id,),
    ):
        found.setdefault(activity, [0, 0])[1] = local
    return [(activity, c, u) for activity, (c, u) in sorted(found.items())]
