"""The cumulative gift at the till: record accruals, grants, releases, take-backs.

The engine decides what a committed order does to each activity
(:mod:`pos_promo.engine.gift_orders`: what it adds, which ordinals it
grants, the coupons each plans) from the member's standing the store
reads; this module records that in the ledger and the wallet inside the
caller's ``BEGIN IMMEDIATE`` transaction, and returns the outbox events
the transaction must write with them:

* a commit writes one accrual entry per activity the order adds to, then
  every ordinal the engine granted (several in one order if earned), each
  with its coupons: instant ones go into the wallet, delayed ones are
  scheduled;
* a refund writes negative entries (what the order no longer earns, from
  the basis kept at commit and the units left) and revokes every grant the
  total no longer reaches: unused coupons voided, pending releases
  cancelled, redeemed coupons kept and reported;
* :func:`release` issues the scheduled coupons that are due.

Grant and coupon ids are derived, so a till that grants an ordinal another
till (or HQ) already granted writes the same ids; HQ merges them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import msgspec

from pos_promo.engine.accrual import CompiledActivity, LineUnits
from pos_promo.engine.accrual import standing as standing_of
from pos_promo.engine.audience import Blocked
from pos_promo.engine.gift_orders import OrderGift, PlannedGrant
from pos_promo.engine.grants import grant_coupons, grant_id, to_revoke
from pos_promo.model.cart import Cart, StoreContext
from pos_promo.model.common import Sharing
from pos_promo.model.coupon import CouponTemplate
from pos_promo.model.gift import AccrualChange, CumulativeGift, RevokedGrant
from pos_promo.model.gift_events import GiftAccrued, GiftGranted, GiftRevoked
from pos_promo.model.order import RefundRecord
from pos_promo.model.receipt import LineAllocation, Receipt
from pos_promo.model.result import EvaluationResult
from pos_promo.store import gift_coupons
from pos_promo.store.gift_coupons import EventRow
from pos_promo.store.gift_ledger import (
    AccrualRow,
    GrantRow,
    Standing,
    basis_json,
    order_accruals,
    record_accruals,
    set_grant,
    standing,
)
from pos_promo.store.meta import till_identity
from pos_promo.store.orders import refunded_units
from pos_promo.store.outbox import add_events, event_id

__all__ = [
    "GiftSetup",
    "RefundGifts",
    "record_commit",
    "refund_gifts",
    "release",
    "settle_refund",
]

_RECEIPT = msgspec.json.Decoder(Receipt)
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class GiftSetup:
    """What the gift rules need from the campaign cache, compiled with the index.

    ``activities`` are the store's live ones (archived and other stores'
    left out); ``every`` holds every cached activity by id, whatever its
    status, for refunds of orders an activity has since left.
    """

    store: StoreContext
    zone: zoneinfo.ZoneInfo
    activities: tuple[CompiledActivity, ...] = ()
    every: Mapping[str, CumulativeGift] = field(default_factory=dict)
    templates: Mapping[str, CouponTemplate] = field(default_factory=dict)
    plans: Mapping[str, Sharing] = field(default_factory=dict)


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
    gid = grant_id(activity.id, member_id, grant.ordinal)
    row = GrantRow(
        gid,
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
    return GiftGranted(gid, grant.ordinal, activity.version, tuple(issued))


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
        if isinstance(verdict, Blocked) or decision.adds <= 0:
            continue
        gift = decision.activity.campaign
        eid = event_id(store_id, order_id, f"gift.accrued/{gift.id}", till=till)
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


@dataclass(frozen=True)
class RefundGifts:
    """What a refund did to the member's gifts, and the events to write."""

    accruals: tuple[AccrualChange, ...] = ()
    revoked: tuple[RevokedGrant, ...] = ()
    events: tuple[EventRow, ...] = ()


def refund_gifts(
    conn: sqlite3.Connection,
    setup: GiftSetup,
    order_id: str,
    refund_id: str,
    at: dt.datetime | None,
    kept: Sequence[LineAllocation] | None = None,
) -> RefundGifts:
    """Take back what the order no longer earns; revoke what the total no longer reaches.

    Call after the refund's units were written: what the order still
    counts for is recomputed from its basis and the units it still holds,
    at what they cost now: ``kept`` is the re-evaluated allocation of the
    kept units (a refund that re-evaluated); without it, the receipt's.
    Safe to call again for the same refund: an order whose standing did
    not move writes nothing.
    """
    row = conn.execute(
        "SELECT member_id, receipt, at FROM orders WHERE order_id = ?", (order_id,)
    ).fetchone()
    if row is None or row[0] is None:
        return RefundGifts()
    member_id, receipt_json, ordered_at = row
    accrued = order_accruals(conn, member_id, order_id)
    if not accrued:
        return RefundGifts()
    at = at or dt.datetime.fromisoformat(ordered_at)
    lines: dict[str, LineUnits]
    if kept is not None:
        lines = {
            line.line_id: (line.unit_price, line.unit_discounts, line.quantity) for line in kept
        }
    else:
        refunded = refunded_units(conn, order_id)
        lines = {
            line.line_id: (
                line.unit_price,
                line.unit_discounts,
                line.quantity - refunded.get(line.line_id, 0),
            )
            for line in _RECEIPT.decode(receipt_json).lines
        }
    store_id = setup.store.id
    till = till_identity(conn)
    stamp = at.astimezone(dt.UTC).isoformat()
    rows: list[AccrualRow] = []
    taken: list[tuple[str, str, int]] = []  # event id, activity, delta
    for basis, counted in accrued:
        delta = standing_of(basis, lines) - counted
        if delta == 0:
            continue
        aid = basis.activity_id
        eid = event_id(store_id, order_id, f"gift.accrued/{aid}/{refund_id}", till=till)
        rows.append((eid, order_id, aid, member_id, delta, refund_id, stamp, None))
        taken.append((eid, aid, delta))
    if not rows:
        return RefundGifts()
    record_accruals(conn, rows)
    standings = standing(conn, member_id)
    measures = {basis.activity_id: basis.measure for basis, _ in accrued}
    revoked: list[RevokedGrant] = []
    events: list[EventRow] = []
    for eid, aid, delta in taken:
        activity = setup.every.get(aid)
        mine = standings.get(aid) or Standing()
        gone = to_revoke(activity.condition, mine.total, mine.granted) if activity else []
        facts = [
            _revoke(conn, activity, member_id, ordinal, eid, at)
            for ordinal in gone
            if activity is not None
        ]
        revoked += [grant for grant, _ in facts]
        payload = GiftAccrued(
            order_id,
            store_id,
            aid,
            member_id,
            measures[aid],
            delta,
            at,
            refund_id,
            total=mine.total,
            revoked=tuple(fact for _, fact in facts),
        )
        events.append((eid, "gift.accrued", order_id, payload))
    changes = tuple(AccrualChange(aid, delta) for _, aid, delta in taken)
    return RefundGifts(changes, tuple(revoked), tuple(events))


def settle_refund(conn: sqlite3.Connection, setup: GiftSetup, record: RefundRecord) -> RefundRecord:
    """The gift side of a refund just written: entries, revocations, events, and the
    stored record completed with them (inside the refund's write transaction)."""
    kept = record.kept if record.reevaluated else None
    done = refund_gifts(conn, setup, record.order_id, record.refund_id, record.at, kept)
    if not done.events:
        return record
    record = msgspec.structs.replace(record, accruals=done.accruals, revoked=done.revoked)
    conn.execute(
        "UPDATE refunds SET record = ? WHERE refund_id = ?",
        (_encode(record).decode(), record.refund_id),
    )
    add_events(conn, list(done.events))
    return record


def _revoke(
    conn: sqlite3.Connection,
    activity: CumulativeGift,
    member_id: str,
    ordinal: int,
    event: str,
    at: dt.datetime,
) -> tuple[RevokedGrant, GiftRevoked]:
    """Take one grant back; ``event`` is the refund's accrual event that tells HQ."""
    gid = grant_id(activity.id, member_id, ordinal)
    conn.execute(
        "UPDATE gift_grants SET status = 'revoked', pending_event = ?, updated_at = ? "
        "WHERE member_id = ? AND activity_id = ? AND ordinal = ?",
        (event, at.astimezone(dt.UTC).isoformat(), member_id, activity.id, ordinal),
    )
    voided, kept, cancelled = gift_coupons.revoke_coupons(
        conn,
        (member_id, activity.id, ordinal),
        grant_coupons(activity, member_id, ordinal),
        event,
        at,
    )
    report = RevokedGrant(gid, activity.id, ordinal, voided, kept, cancelled)
    return report, GiftRevoked(gid, ordinal, voided, kept, cancelled)


def release(conn: sqlite3.Connection, store_id: str, now: dt.datetime) -> tuple[str, ...]:
    """Issue every scheduled coupon due at ``now`` and write their events (inside a
    write transaction); the coupon ids released."""
    released, events = gift_coupons.release_due(conn, store_id, now)
    if events:
        add_events(conn, events)
    return tuple(released)
