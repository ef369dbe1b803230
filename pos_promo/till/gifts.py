"""The cumulative gift in a commit and a refund: store reads, engine decides, store records.

A commit (or a preview) reads the member's standing, lets
:func:`pos_promo.engine.gift_orders.order_gifts` decide what the order
adds and grants, and the commit records that. A refund reads the order's
accrual entries, lets :mod:`pos_promo.engine.gift_refunds` compute what
the order no longer earns, records it, reads the new standing, lets the
engine name the grants that total no longer reaches, and records their
revocation; all inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence

import msgspec

from pos_promo.engine.audience import Context
from pos_promo.engine.clock import LocalMoment
from pos_promo.engine.gift_orders import OrderGift, order_gifts
from pos_promo.engine.gift_refunds import accrual_changes, revocations, units_left
from pos_promo.model.cart import Cart
from pos_promo.model.gift import RevokedGrant
from pos_promo.model.gift_events import GiftAccrued
from pos_promo.model.order import Payment, RefundRecord
from pos_promo.model.result import EvaluationResult
from pos_promo.store import gift_ledger, gifts
from pos_promo.store.gift_coupons import EventRow
from pos_promo.till.cache import GiftSetup

__all__ = ["decide_order_gifts", "settle_refund_gifts"]


def decide_order_gifts(
    conn: sqlite3.Connection,
    setup: GiftSetup,
    cart: Cart,
    result: EvaluationResult,
    payments: Sequence[Payment],
    now: LocalMoment,
    *,
    grant: bool,
) -> tuple[OrderGift, ...]:
    """The engine's decision for each live gift activity, from the member's
    standing as this connection reads it (``grant``: a commit, else a preview)."""
    member = cart.member
    standings = gift_ledger.standing(conn, member.id) if member is not None else {}
    return order_gifts(
        setup.activities,
        Context(cart, setup.store, now, {}),
        result,
        payments,
        standings,
        setup.templates,
        setup.zone,
        grant=grant,
    )


def settle_refund_gifts(
    conn: sqlite3.Connection, setup: GiftSetup, record: RefundRecord
) -> RefundRecord:
    """Take back what the order no longer earns; revoke what the total no longer reaches.

    Call after the refund's units were written: what the order still
    counts for is recomputed from its basis and the units it still holds,
    at what they cost now (a re-evaluated refund's kept allocation, else
    the receipt's). Returns the record completed with its gift side, which
    is also stored; an order whose standing did not move writes nothing.
    """
    basis = gifts.refund_basis(conn, record.order_id)
    if basis is None:
        return record
    if record.reevaluated:
        lines = units_left(record.kept)
    else:
        lines = units_left(basis.receipt.lines, basis.refunded)
    changes = accrual_changes(basis.accrued, lines)
    if not changes:
        return record
    member_id, order_id = basis.member_id, record.order_id
    at: dt.datetime = record.at or basis.ordered_at
    store_id = setup.store.id
    event_ids = gifts.record_refund_accruals(
        conn, store_id, order_id, member_id, record.refund_id, at, changes
    )
    standings = gift_ledger.standing(conn, member_id)
    measures = {b.activity_id: b.measure for b, _ in basis.accrued}
    revoked: list[RevokedGrant] = []
    events: list[EventRow] = []
    for eid, change in zip(event_ids, changes, strict=True):
        aid = change.activity_id
        activity = setup.every.get(aid)
        mine = standings.get(aid) or gift_ledger.Standing()
        gone = revocations(activity, member_id, mine.total, mine.granted) if activity else ()
        facts = [gifts.revoke_grant(conn, aid, member_id, r, eid, at) for r in gone]
        revoked += [grant for grant, _ in facts]
        payload = GiftAccrued(
            order_id,
            store_id,
            aid,
            member_id,
            measures[aid],
            change.amount,
            at,
            record.refund_id,
            total=mine.total,
            revoked=tuple(fact for _, fact in facts),
        )
        events.append((eid, "gift.accrued", order_id, payload))
    record = msgspec.structs.replace(record, accruals=changes, revoked=tuple(revoked))
    gifts.complete_refund(conn, record, events)
    return record
