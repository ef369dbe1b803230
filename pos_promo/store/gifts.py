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

from pos_promo.engine.accrual import (
    CompiledActivity,
    LineUnits,
    accrual_basis,
    preview,
    result_units,
)
from pos_promo.engine.accrual import standing as standing_of
from pos_promo.engine.audience import Blocked, Context
from pos_promo.engine.clock import LocalMoment
from pos_promo.engine.grants import grant_coupons, grant_id, plan_coupons, to_grant, to_revoke
from pos_promo.model.cart import Cart, StoreContext
from pos_promo.model.common import Sharing
from pos_promo.model.coupon import CouponTemplate
from pos_promo.model.gift import AccrualChange, CumulativeGift, RevokedGrant
from pos_promo.model.gift_events import GiftAccrued, GiftGranted, GiftRevoked
from pos_promo.model.order import Payment
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
from pos_promo.store.outbox import event_id

__all__ = [
    "GiftSetup",
    "RefundGifts",
    "commit_gifts",
    "preview_gifts",
    "refund_gifts",
    "release",
]


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


def preview_gifts(
    conn: sqlite3.Connection,
    setup: GiftSetup,
    cart: Cart,
    result: EvaluationResult,
    now: LocalMoment,
) -> tuple[AccrualPreview, ...]:
    """What the order would add to each activity and which gifts it would trigger."""
    if not setup.activities:
        return ()
    ctx = _context(setup, cart, now)
    standings = standing(conn, cart.member.id) if cart.member is not None else {}
    units = result_units(result)
    previews = []
    for activity in setup.activities:
        verdict = accrual_basis(activity, ctx, result, (), setup.plans)
        adds = 0 if isinstance(verdict, Blocked) else standing_of(verdict, units)
        mine = standings.get(activity.id, Standing())
        previews.append(
            preview(activity, verdict, adds, mine.total, mine.granted, setup.store.currency)
        )
    return tuple(previews)


def _grant(
    conn: sqlite3.Connection,
    setup: GiftSetup,
    activity: CumulativeGift,
    member_id: str,
    ordinal: int,
    order_id: str,
    at: dt.datetime,
    total: int,
) -> list[EventRow]:
    store_id = setup.store.id
    gid = grant_id(activity.id, member_id, ordinal)
    eid = event_id(store_id, order_id, f"gift.granted/{gid}")
    set_grant(
        conn,
        GrantRow(
            gid,
            activity.id,
            activity.version,
            member_id,
            ordinal,
            "granted",
            at,
            order_id,
            store_id,
            "local",
            eid,
        ),
        at,
    )
    payload = GiftGranted(
        gid, activity.id, activity.version, member_id, ordinal, store_id, order_id, at, total
    )
    events: list[EventRow] = [(eid, "gift.granted", order_id, payload)]
    planned = plan_coupons(activity, member_id, ordinal, at, setup.zone, setup.templates)
    events += gift_coupons.place_coupons(conn, store_id, order_id, member_id, activity.id, planned)
    return events


def commit_gifts(
    conn: sqlite3.Connection,
    setup: GiftSetup,
    cart: Cart,
    result: EvaluationResult,
    payments: Sequence[Payment],
    now: LocalMoment,
) -> list[EventRow]:
    """Accrue the committed order and grant what it earned; the events to write."""
    member = cart.member
    if member is None or not setup.activities:
        return []
    ctx = _context(setup, cart, now)
    units: dict[str, LineUnits] | None = None
    standings: dict[str, Standing] | None = None
    store_id, order_id, at = setup.store.id, cart.order_id, result.at
    stamp = at.astimezone(dt.UTC).isoformat()
    rows: list[AccrualRow] = []
    events: list[EventRow] = []
    for activity in setup.activities:
        verdict = accrual_basis(activity, ctx, result, payments, setup.plans)
        if isinstance(verdict, Blocked):
            continue
        if units is None:
            units = result_units(result)
        amount = standing_of(verdict, units)
        if amount <= 0:
            continue
        gift = activity.campaign
        eid = event_id(store_id, order_id, f"gift.accrued/{gift.id}")
        rows.append((eid, order_id, gift.id, member.id, amount, None, stamp, basis_json(verdict)))
        payload = GiftAccrued(
            order_id, store_id, gift.id, member.id, gift.condition.measure, amount, at
        )
        events.append((eid, "gift.accrued", order_id, payload))
        if standings is None:
            standings = standing(conn, member.id)
        mine = standings.get(gift.id, Standing())
        total = mine.total + amount
        for ordinal in to_grant(gift.condition, total, mine.granted):
            events += _grant(conn, setup, gift, member.id, ordinal, order_id, at, total)
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
    lines: Mapping[str, LineUnits],
    at: dt.datetime,
) -> RefundGifts:
    """Take back what the order no longer earns; revoke what the total no longer reaches.

    ``lines`` are the order's lines as sold with the units still held after
    this refund. Safe to call again for the same refund: an order whose
    standing did not move writes nothing.
    """
    row = conn.execute("SELECT member_id FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    member_id = row[0] if row else None
    if member_id is None:
        return RefundGifts()
    store_id = setup.store.id
    stamp = at.astimezone(dt.UTC).isoformat()
    rows: list[AccrualRow] = []
    changes: list[AccrualChange] = []
    events: list[EventRow] = []
    for basis, counted in order_accruals(conn, member_id, order_id):
        delta = standing_of(basis, lines) - counted
        if delta == 0:
            continue
        aid = basis.activity_id
        eid = event_id(store_id, order_id, f"gift.accrued/{aid}/{refund_id}")
        rows.append((eid, order_id, aid, member_id, delta, refund_id, stamp, None))
        changes.append(AccrualChange(aid, delta))
        payload = GiftAccrued(
            order_id, store_id, aid, member_id, basis.measure, delta, at, refund_id
        )
        events.append((eid, "gift.accrued", order_id, payload))
    if not rows:
        return RefundGifts()
    record_accruals(conn, rows)
    standings = standing(conn, member_id)
    revoked: list[RevokedGrant] = []
    for change in changes:
        activity = setup.every.get(change.activity_id)
        mine = standings.get(change.activity_id)
        if activity is None or mine is None:
            continue
        for ordinal in to_revoke(activity.condition, mine.total, mine.granted):
            grant, more = _revoke(
                conn, setup, activity, member_id, ordinal, order_id, refund_id, at, mine.total
            )
            revoked.append(grant)
            events += more
    return RefundGifts(tuple(changes), tuple(revoked), tuple(events))


def _revoke(
    conn: sqlite3.Connection,
    setup: GiftSetup,
    activity: CumulativeGift,
    member_id: str,
    ordinal: int,
    order_id: str,
    refund_id: str,
    at: dt.datetime,
    total: int,
) -> tuple[RevokedGrant, list[EventRow]]:
    store_id = setup.store.id
    gid = grant_id(activity.id, member_id, ordinal)
    eid = event_id(store_id, order_id, f"gift.revoked/{gid}/{refund_id}")
    conn.execute(
        "UPDATE gift_grants SET status = 'revoked', pending_event = ?, updated_at = ? "
        "WHERE grant_id = ?",
        (eid, at.astimezone(dt.UTC).isoformat(), gid),
    )
    voided, kept, cancelled, events = gift_coupons.revoke_coupons(
        conn,
        store_id,
        order_id,
        refund_id,
        gid,
        member_id,
        grant_coupons(activity, member_id, ordinal),
        at,
    )
    payload = GiftRevoked(
        gid,
        activity.id,
        member_id,
        ordinal,
        store_id,
        order_id,
        at,
        total,
        tuple(voided),
        tuple(kept),
        tuple(cancelled),
    )
    events.insert(0, (eid, "gift.revoked", order_id, payload))
    return RevokedGrant(
        gid, activity.id, ordinal, tuple(voided), tuple(kept), tuple(cancelled)
    ), events


def release(conn: sqlite3.Connection, store_id: str, now: dt.datetime) -> list[EventRow]:
    """Issue every scheduled coupon due at ``now`` (inside a write transaction)."""
    return gift_coupons.release_due(conn, store_id, now)
