"""The cumulative gift at the till: record accruals, grants, releases, take-backs.

The engine decides (:mod:`pos_promo.engine.gift_orders` for a commit,
:mod:`pos_promo.engine.gift_refunds` for a refund) from what this module
and :mod:`.gift_ledger` read; the embedded engine orchestrates
(:mod:`pos_promo.till.gifts`); this module records the decisions in the
ledger and the wallet inside the caller's ``BEGIN IMMEDIATE`` transaction,
and returns the outbox events the transaction must write with them:

* a commit writes one accrual entry per activity the order adds to, then
  every ordinal the engine granted (several in one order if earned), each
  with its coupons: instant ones go into the wallet, delayed ones are
  scheduled;
* a refund writes the entries the engine computed (negative: what the
  order no longer earns) and revokes the grants it named: unused coupons
  voided, pending releases cancelled, redeemed coupons kept and reported;
* :func:`release` issues the scheduled coupons that are due.

Grant and coupon ids are derived by the engine, so a till that grants an
ordinal another till (or HQ) already granted writes the same ids; HQ
merges them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping, Sequence

import msgspec

from pos_promo.decoders import LazyDecoder
from pos_promo.engine.gift_orders import OrderGift, PlannedGrant
from pos_promo.engine.gift_refunds import Revocation
from pos_promo.model.cart import Cart
from pos_promo.model.gift import AccrualBasis, AccrualChange, CumulativeGift, RevokedGrant
from pos_promo.model.gift_events import GiftAccrued, GiftGranted, GiftRevoked
from pos_promo.model.order import RefundRecord
from pos_promo.model.receipt import Receipt
from pos_promo.model.result import EvaluationResult
from pos_promo.store import gift_coupons
from pos_promo.store.gift_coupons import EventRow
from pos_promo.store.gift_ledger import (
    AccrualRow,
    GrantRow,
    basis_json,
    order_accruals,
    record_accruals,
    set_grant,
)
from pos_promo.store.meta import till_identity
from pos_promo.store.orders import refunded_units
from pos_promo.store.outbox import add_events, event_id, order_event_id

__all__ = [
    "GiftRefundBasis",
    "complete_refund",
    "record_commit",
    "record_refund_accruals",
    "refund_basis",
    "release",
    "revoke_grant",
]

_RECEIPT = LazyDecoder[Receipt](Receipt)
_encode = msgspec.json.Encoder().encode


def _grant(
    conn: sqlite3.Connection,
    store_id: str,
    activity: CumulativeGift,
    member_id: str,
    grant: PlannedGrant,
    order_id: str,
    at: dt.datetime,
    event: str,
) -> GiftGranted:
    """Record one ordinal the engine granted, with the coupons it planned;
    ``event`` is the accrual event that tells HQ."""
    row = GrantRow(
        grant.grant_id,
        activity.id,
        activity.version,
        member_id,
        grant.ordinal,
        "granted",
        at,
        order_id,
        store_id,
        "local",
        event,
    )
    set_grant(conn, row, at)
    issued = gift_coupons.place_coupons(
        conn, member_id, activity.id, grant.ordinal, order_id, at, grant.coupons, event
    )
    return GiftGranted(grant.grant_id, grant.ordinal, activity.version, tuple(issued))


def record_commit(
    conn: sqlite3.Connection,
    store_id: str,
    cart: Cart,
    result: EvaluationResult,
    decided: Sequence[OrderGift],
) -> list[EventRow]:
    """Record what the engine decided a committed order does to each activity
    (:func:`pos_promo.engine.gift_orders.order_gifts`): one ledger entry per
    activity it adds to, every grant with its coupons; the events to write
    after the order's own."""
    member = cart.member
    if member is None:
        return []
    order_id, at = cart.order_id, result.at
    till = till_identity(conn)
    stamp = at.astimezone(dt.UTC).isoformat()
    rows: list[AccrualRow] = []
    events: list[EventRow] = []
    for decision in decided:
        verdict = decision.verdict
        if not decision.accrues or not isinstance(verdict, AccrualBasis):
            continue
        gift = decision.activity.campaign
        eid = order_event_id(store_id, order_id, f"gift.accrued/{gift.id}", till=till, at=at)
        rows.append(
            (eid, order_id, gift.id, member.id, decision.adds, None, stamp, basis_json(verdict))
        )
        grants = tuple(
            _grant(conn, store_id, gift, member.id, grant, order_id, at, eid)
            for grant in decision.grants
        )
        payload = GiftAccrued(
            order_id,
            store_id,
            gift.id,
            member.id,
            gift.condition.measure,
            decision.adds,
            at,
            total=decision.total + decision.adds,
            grants=grants,
        )
        events.append((eid, "gift.accrued", order_id, payload))
    if rows:
        record_accruals(conn, rows)
    return events


class GiftRefundBasis(msgspec.Struct, frozen=True):
    """What the gift side of a refund reads about the order: its member, when
    it was sold, each activity it accrued to (the basis kept at commit and
    what it still counts for), its receipt's lines and the units refunded."""

    member_id: str
    ordered_at: dt.datetime
    accrued: tuple[tuple[AccrualBasis, int], ...]
    receipt: Receipt
    refunded: Mapping[str, int]


def refund_basis(conn: sqlite3.Connection, order_id: str) -> GiftRefundBasis | None:
    """The order's gift facts; ``None`` if it has no member or accrued to nothing
    (then a refund has nothing to take back from any gift)."""
    row = conn.execute(
        "SELECT member_id, receipt, at FROM orders WHERE order_id = ?", (order_id,)
    ).fetchone()
    if row is None or row[0] is None:
        return None
    member_id, receipt_json, ordered_at = row
    accrued = order_accruals(conn, member_id, order_id)
    if not accrued:
        return None
    return GiftRefundBasis(
        member_id,
        dt.datetime.fromisoformat(ordered_at),
        tuple(accrued),
        _RECEIPT.decode(receipt_json),
        refunded_units(conn, order_id),
    )


def record_refund_accruals(
    conn: sqlite3.Connection,
    store_id: str,
    order_id: str,
    member_id: str,
    refund_id: str,
    at: dt.datetime,
    changes: Sequence[AccrualChange],
) -> list[str]:
    """Write the ledger entries the engine computed for a refund; the id of
    the event that will tell HQ about each, in the order of ``changes``."""
    till = till_identity(conn)
    stamp = at.astimezone(dt.UTC).isoformat()
    rows: list[AccrualRow] = []
    for change in changes:
        aid = change.activity_id
        eid = event_id(store_id, order_id, f"gift.accrued/{aid}/{refund_id}", till=till)
        rows.append((eid, order_id, aid, member_id, change.amount, refund_id, stamp, None))
    record_accruals(conn, rows)
    return [row[0] for row in rows]


def revoke_grant(
    conn: sqlite3.Connection,
    activity_id: str,
    member_id: str,
    revocation: Revocation,
    event: str,
    at: dt.datetime,
) -> tuple[RevokedGrant, GiftRevoked]:
    """Take back one grant the engine named; ``event`` is the refund's accrual
    event that tells HQ. Unused coupons are voided, pending releases
    cancelled, redeemed coupons kept; the report and the event's part."""
    ordinal = revocation.ordinal
    conn.execute(
        "UPDATE gift_grants SET status = 'revoked', pending_event = ?, updated_at = ? "
        "WHERE member_id = ? AND activity_id = ? AND ordinal = ?",
        (event, at.astimezone(dt.UTC).isoformat(), member_id, activity_id, ordinal),
    )
    voided, kept, cancelled = gift_coupons.revoke_coupons(
        conn, (member_id, activity_id, ordinal), revocation.coupons, event, at
    )
    gid = revocation.grant_id
    report = RevokedGrant(gid, activity_id, ordinal, voided, kept, cancelled)
    return report, GiftRevoked(gid, ordinal, voided, kept, cancelled)


def complete_refund(
    conn: sqlite3.Connection, record: RefundRecord, events: Sequence[EventRow]
) -> None:
    """Store the refund record completed with its gift side, and the gift events
    (inside the refund's write transaction, after the refund's own events)."""
    conn.execute(
        "UPDATE refunds SET record = ? WHERE refund_id = ?",
        (_encode(record).decode(), record.refund_id),
    )
    add_events(conn, list(events))


def release(conn: sqlite3.Connection, store_id: str, now: dt.datetime) -> tuple[str, ...]:
    """Issue every scheduled coupon due at ``now`` and write their events (inside a
    write transaction); the coupon ids released."""
    released, events = gift_coupons.release_due(conn, store_id, now)
    if events:
        add_events(conn, events)
    return tuple(released)
