"""The cumulative gift at the till: accrue at commit, grant, release, take back.

This module ties the pure rules (:mod:`pos_promo.engine.accrual`,
:mod:`pos_promo.engine.grants`) to the ledger and the wallet inside the
caller's ``BEGIN IMMEDIATE`` transaction, and returns the outbox events
the transaction must write with them:

* a commit writes one accrual entry per activity the order adds to, then
  grants every ordinal the member's total now reaches and has not been
  granted (several in one order if earned), each with its coupons: instant
  ones go into the wallet, delayed ones are scheduled;
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

from pos_promo.engine.accrual import (
    CompiledActivity,
    LineUnits,
    accrual_basis,
    preview,
    prorate,
    result_units,
)
from pos_promo.engine.accrual import standing as standing_of
from pos_promo.engine.audience import Blocked, Context
from pos_promo.engine.clock import LocalMoment
from pos_promo.engine.grants import grant_coupons, grant_id, plan_coupons, to_grant, to_revoke
from pos_promo.model.cart import Cart, StoreContext
from pos_promo.model.common import Sharing
from pos_promo.model.coupon import CouponTemplate
from pos_promo.model.gift import AccrualBasis, AccrualChange, CumulativeGift, RevokedGrant
from pos_promo.model.gift_events import GiftAccrued, GiftGranted, GiftRevoked
from pos_promo.model.order import Payment, RefundRecord
from pos_promo.model.receipt import LineAllocation, Receipt
from pos_promo.model.result import AccrualPreview, EvaluationResult
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
    "commit_gifts",
    "preview_gifts",
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


def _context(setup: GiftSetup, cart: Cart, now: LocalMoment) -> Context:
    return Context(cart, setup.store, now, {})


def _assess(
    conn: sqlite3.Connection,
    setup: GiftSetup,
    cart: Cart,
    result: EvaluationResult,
    payments: Sequence[Payment],
    now: LocalMoment,
) -> list[tuple[CompiledActivity, AccrualBasis | Blocked, int, Standing]]:
    """Each live activity: its verdict on the order, what it adds, the member's standing."""
    ctx = _context(setup, cart, now)
    standings = standing(conn, cart.member.id) if cart.member is not None else {}
    units: dict[str, LineUnits] | None = None
    found = []
    for activity in setup.activities:
        verdict = accrual_basis(activity, ctx, result, payments)
        adds = 0
        if isinstance(verdict, Blocked):
            pass
        elif verdict.all_lines:  # every line, every unit held: what the order costs
            adds = prorate(result.total, verdict.shareable, verdict.paid)
        else:
            if units is None:
                units = result_units(result)
            adds = standing_of(verdict, units)
        found.append((activity, verdict, adds, standings.get(activity.id) or Standing()))
    return found


def preview_gifts(
    conn: sqlite3.Connection,
    setup: GiftSetup,
    cart: Cart,
    result: EvaluationResult,
    now: LocalMoment,
) -> tuple[AccrualPreview, ...]:
    """What the order would add to each activity and which gifts it would trigger.

    Assumes tenders that accrue; the commit prorates by the real payments.
    """
    if not setup.activities:
        return ()
    return tuple(
        preview(activity, verdict, adds, mine.total, mine.granted, setup.templates)
        for activity, verdict, adds, mine in _assess(conn, setup, cart, result, (), now)
    )


def _grant(
    conn: sqlite3.Connection,
    setup: GiftSetup,
    activity: CumulativeGift,
    member_id: str,
    ordinal: int,
    order_id: str,
    at: dt.datetime,
    event: str,
) -> GiftGranted:
    """Grant one ordinal with its coupons; ``event`` is the accrual event that tells HQ."""
    gid = grant_id(activity.id, member_id, ordinal)
    row = GrantRow(
        gid,
        activity.id,
        activity.version,
        member_id,
        ordinal,
        "granted",
        at,
        order_id,
        setup.store.id,
        "local",
        event,
    )
    set_grant(conn, row, at)
    planned = plan_coupons(activity, member_id, ordinal, at, setup.zone, setup.templates)
    issued = gift_coupons.place_coupons(
        conn, member_id, activity.id, ordinal, order_id, at, planned, event
    )
    return GiftGranted(gid, ordinal, activity.version, tuple(issued))


def commit_gifts(
    conn: sqlite3.Connection,
    setup: GiftSetup,
    cart: Cart,
    result: EvaluationResult,
    payments: Sequence[Payment],
    now: LocalMoment,
) -> tuple[tuple[AccrualPreview, ...], list[EventRow]]:
    """Accrue the committed order and grant what it earned.

    Returns what the order did to each activity (the result's
    ``accruals``) and the events to write after the order's own.
    """
    if not setup.activities:
        return (), []
    member = cart.member
    store_id, order_id, at = setup.store.id, cart.order_id, result.at
    till = till_identity(conn)
    stamp = at.astimezone(dt.UTC).isoformat()
    rows: list[AccrualRow] = []
    events: list[EventRow] = []
    previews = []
    for activity, verdict, amount, mine in _assess(conn, setup, cart, result, payments, now):
        previews.append(
            preview(activity, verdict, amount, mine.total, mine.granted, setup.templates)
        )
        if member is None or isinstance(verdict, Blocked) or amount <= 0:
            continue
        gift = activity.campaign
        eid = event_id(store_id, order_id, f"gift.accrued/{gift.id}", till=till)
        rows.append((eid, order_id, gift.id, member.id, amount, None, stamp, basis_json(verdict)))
        total = mine.total + amount
        grants = tuple(
            _grant(conn, setup, gift, member.id, ordinal, order_id, at, eid)
            for ordinal in to_grant(gift.condition, total, mine.granted)
        )
        payload = GiftAccrued(
            order_id,
            store_id,
            gift.id,
            member.id,
            gift.condition.measure,
            amount,
            at,
            total=total,
            grants=grants,
        )
        events.append((eid, "gift.accrued", order_id, payload))
    if rows:
        record_accruals(conn, rows)
    return tuple(previews), events


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
