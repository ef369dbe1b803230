"""Evaluate, explain and commit at the till: the store reads, the engine decides, the store records.

Every evaluation sees the cache, the member's counts and the wallet as
this connection reads them now; gift coupons already due are released
first, so the wallet is current even while the daemon is down. A commit
runs the evaluation inside its write transaction, against the wallet as
it is then: of two tills presenting one coupon, the second sees it
redeemed and commits its order without it.

The gift machinery (the engine's accrual and grant rules, the ledger and
the gift coupons' writes) is imported only when a coupon is due or the
till has a live gift activity: a till without one never loads it
(``tests/store/test_store_lean_start.py``).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import TYPE_CHECKING

import msgspec

from pos_promo.engine.clock import LocalMoment, local_moment
from pos_promo.engine.evaluate import evaluate, explain
from pos_promo.engine.receipts import build_receipt
from pos_promo.model.cart import Cart, MemberCounts
from pos_promo.model.coupon import Coupon
from pos_promo.model.order import Payment
from pos_promo.model.result import Applied, EvaluationResult, NotApplied
from pos_promo.store import gift_coupons, orders, outbox
from pos_promo.store import wallet as wallet_store
from pos_promo.store.connection import immediate
from pos_promo.store.counts import member_counts
from pos_promo.till.cache import CampaignCache
from pos_promo.till.checks import check_total

if TYPE_CHECKING:
    from pos_promo.store.gift_coupons import EventRow

__all__ = ["commit_order", "evaluate_cart", "explain_campaign"]


def _release_due(conn: sqlite3.Connection, store_id: str, instant: dt.datetime) -> None:
    """Issue the gift coupons due by ``instant`` (a read first: no write lock
    unless one is due), so the evaluation sees the member's wallet whole."""
    if gift_coupons.has_due(conn, instant):
        from pos_promo.store import gifts  # only when a gift coupon is due

        with immediate(conn):
            gifts.release(conn, store_id, instant)


def _counts(conn: sqlite3.Connection, cart: Cart, now: LocalMoment) -> MemberCounts | None:
    """The member's participation counts as this till knows them on ``now``'s day."""
    member = cart.member
    return None if member is None else member_counts(conn, member.id, now.day)


def _evaluate(
    conn: sqlite3.Connection,
    cache: CampaignCache,
    cart: Cart,
    instant: dt.datetime,
    now: LocalMoment,
    counts: MemberCounts | None = None,
) -> tuple[EvaluationResult, dict[str, Coupon], MemberCounts | None]:
    """Evaluate against the cache, the counts and the wallet as this connection
    sees them now (``now``: ``instant`` on the store's clock, whose day the
    daily counts are for; ``counts``, when given, instead of the
    database's); the wallet entries of the presented coupons and the counts
    used come back for the receipt."""
    cache.refresh(conn)
    presented = wallet_store.presented(conn, cart.coupons) if cart.coupons else {}
    if counts is None:
        counts = _counts(conn, cart, now)
    result = evaluate(
        cart,
        cache.index,
        at=instant,
        counts=counts,
        plans=cache.plans,
        wallet=presented,
        order=cache.order,
        now=now,
    )
    return result, presented, counts


def evaluate_cart(
    conn: sqlite3.Connection,
    cache: CampaignCache,
    cart: Cart,
    instant: dt.datetime,
    counts: MemberCounts | None,
) -> EvaluationResult:
    """What the cart would get at ``instant`` and what it would add to each
    cumulative gift (a preview: nothing granted, nothing recorded)."""
    _release_due(conn, cache.store.id, instant)
    now = local_moment(instant, cache.gifts.zone)
    result = _evaluate(conn, cache, cart, instant, now, counts)[0]
    if not cache.gifts.activities:
        return result
    from pos_promo.till.gifts import decide_order_gifts  # a till with a gift activity

    decided = decide_order_gifts(conn, cache.gifts, cart, result, (), now, grant=False)
    return msgspec.structs.replace(result, accruals=tuple(d.preview for d in decided))


def explain_campaign(
    conn: sqlite3.Connection,
    cache: CampaignCache,
    cart: Cart,
    campaign_id: str,
    instant: dt.datetime,
    counts: MemberCounts | None,
) -> Applied | NotApplied:
    """One campaign's verdict with exactly the inputs :func:`evaluate_cart` uses."""
    _release_due(conn, cache.store.id, instant)  # the wallet evaluate would see
    now = local_moment(instant, cache.gifts.zone)
    cache.refresh(conn)
    presented = wallet_store.presented(conn, cart.coupons) if cart.coupons else {}
    return explain(
        cart,
        cache.index,
        campaign_id,
        at=instant,
        counts=counts if counts is not None else _counts(conn, cart, now),
        plans=cache.plans,
        wallet=presented,
        order=cache.order,
    )


def commit_order(
    conn: sqlite3.Connection,
    cache: CampaignCache,
    cart: Cart,
    instant: dt.datetime,
    paid: tuple[Payment, ...] | None,
    till: str,
) -> EvaluationResult:
    """Evaluate and record the order (inside the caller's write transaction).

    A repeated order id returns the first result marked ``repeat``;
    ``paid`` (``None``: the caller passed no payments) must add up to the
    total the evaluation gives. ``till``: the database's identity
    (:func:`pos_promo.store.meta.till_identity`), for the event ids.
    """
    first = orders.find_result(conn, cart.order_id)
    if first is not None:
        return msgspec.structs.replace(first, repeat=True)
    # coupons due by now are the member's to use in this very order
    if gift_coupons.has_due(conn, instant):
        from pos_promo.store import gifts  # only when a gift coupon is due

        gifts.release(conn, cache.store.id, instant)
    now = local_moment(instant, cache.gifts.zone)
    result, presented, counts = _evaluate(conn, cache, cart, instant, now)
    if paid is not None:
        check_total(paid, result.total)
    payments = paid or ()
    gift_events: list[EventRow] = []
    if cache.gifts.activities:  # the engine decides, the store records
        from pos_promo.store import gifts
        from pos_promo.till.gifts import decide_order_gifts

        decided = decide_order_gifts(conn, cache.gifts, cart, result, payments, now, grant=True)
        gift_events = gifts.record_commit(conn, cache.store.id, cart, result, decided)
        result = msgspec.structs.replace(result, accruals=tuple(d.preview for d in decided))
    receipt = build_receipt(
        cart,
        result,
        cache.index,
        now.day,
        presented,
        cache.order,
        cache.plan_versions,
        counts,
    )
    orders.record_order(conn, cart, result, receipt, payments, till=till)
    if gift_events:
        outbox.add_events(conn, gift_events)
    return result
