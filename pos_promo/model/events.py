"""Events the till writes to its outbox for HQ (SPEC §9-10).

Each event has an id derived only from the store, the order and the
event's place in that order's history, so a retried commit writes the
same ids and HQ, which ignores repeats, counts it once. The payloads form
a tagged union on ``kind``; new fields get defaults, as for every wire type.
"""

import datetime as dt

from msgspec import Struct

from pos_promo.model.cart import Cart
from pos_promo.model.common import Id, Money, OrderMoney
from pos_promo.model.gift_events import GiftAccrued, GiftCouponIssued
from pos_promo.model.order import Payment, RefundRecord
from pos_promo.model.receipt import Receipt

__all__ = [
    "CouponRedeemed",
    "CouponRestored",
    "Event",
    "GiftAccrued",
    "GiftCouponIssued",
    "OrderCommitted",
    "OrderRefunded",
    "ParticipationChanged",
]


class OrderCommitted(Struct, gc=False, frozen=True, tag="order.committed", tag_field="kind"):
    """An order was committed at the till, with everything HQ needs to replay it:
    the cart as rung up, and the receipt of what the engine gave."""

    order_id: Id
    store_id: Id
    at: dt.datetime
    local_date: dt.date
    member_id: Id | None
    subtotal: OrderMoney
    total_discount: OrderMoney
    total: OrderMoney
    payments: tuple[Payment, ...]
    receipt: Receipt
    cart: Cart | None = None


class OrderRefunded(Struct, gc=False, frozen=True, tag="order.refunded", tag_field="kind"):
    """Some or all units of an order were given back."""

    store_id: Id
    refund: RefundRecord


class ParticipationChanged(
    Struct, gc=False, frozen=True, tag="participation.changed", tag_field="kind"
):
    """A member's participation in a campaign: +1 at commit, -1 on a full refund."""

    order_id: Id
    store_id: Id
    campaign_id: Id
    member_id: Id | None
    local_date: dt.date
    delta: int


class CouponRedeemed(Struct, gc=False, frozen=True, tag="coupon.redeemed", tag_field="kind"):
    """A wallet coupon was redeemed by a committed order; ``amount`` is what it saved."""

    order_id: Id
    store_id: Id
    coupon_id: Id
    template_id: Id
    member_id: Id | None
    at: dt.datetime
    amount: Money


class CouponRestored(Struct, gc=False, frozen=True, tag="coupon.restored", tag_field="kind"):
    """A full refund gave a redeemed coupon back to its owner's wallet."""

    order_id: Id
    store_id: Id
    coupon_id: Id
    template_id: Id
    member_id: Id | None
    refund_id: Id
    at: dt.datetime | None = None


Event = (
    OrderCommitted
    | OrderRefunded
    | ParticipationChanged
    | CouponRedeemed
    | CouponRestored
    | GiftAccrued
    | GiftCouponIssued
)
