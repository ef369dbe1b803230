"""Outbox events of the cumulative spending gift (members of the event union).

HQ adds accruals up per member and activity across stores, merges grants
and coupons by their derived ids (two tills granting the same ordinal
offline send the same ``grant_id`` and coupon ids), and grants the
ordinals only the combined total reaches. Amounts are signed: a refund's
accrual is negative.
"""

from __future__ import annotations

import datetime as dt

from msgspec import Struct

from pos_promo.model.common import Id
from pos_promo.model.gift import Measure

__all__ = [
    "GiftAccrued",
    "GiftCouponIssued",
    "GiftCouponVoided",
    "GiftGranted",
    "GiftRevoked",
    "GrantCoupon",
]


class GiftAccrued(Struct, frozen=True, tag="gift.accrued", tag_field="kind"):
    """An order added to (or a refund of it took from) a member's activity total."""

    order_id: Id
    store_id: Id
    activity_id: Id
    member_id: Id
    measure: Measure
    amount: int
    at: dt.datetime
    refund_id: Id | None = None


class GrantCoupon(Struct, frozen=True):
    """A coupon a grant put in the wallet in the same commit."""

    coupon_id: Id
    template_id: Id
    valid_from: dt.datetime
    valid_until: dt.datetime


class GiftGranted(Struct, frozen=True, tag="gift.granted", tag_field="kind"):
    """The member's total reached ordinal ``ordinal`` of an activity at ``at``.

    ``version`` is the activity version whose gifts the grant issues;
    ``order_id`` the order whose accrual reached it; ``coupons`` the instant
    coupons it issued there and then (one event, not one per coupon: the
    commit path writes fewer pages). Delayed ones are sent as
    ``gift.coupon_issued`` when released.
    """

    grant_id: Id
    activity_id: Id
    version: int
    member_id: Id
    ordinal: int
    store_id: Id
    order_id: Id
    at: dt.datetime
    total: int
    coupons: tuple[GrantCoupon, ...] = ()


class GiftRevoked(Struct, frozen=True, tag="gift.revoked", tag_field="kind"):
    """A refund took the member's total below a granted ordinal.

    ``voided``: its coupons that were still unused; ``kept``: those already
    redeemed, which stay redeemed; ``cancelled``: releases not yet due.
    """

    grant_id: Id
    activity_id: Id
    member_id: Id
    ordinal: int
    store_id: Id
    order_id: Id
    at: dt.datetime
    total: int
    voided: tuple[Id, ...] = ()
    kept: tuple[Id, ...] = ()
    cancelled: tuple[Id, ...] = ()


class GiftCouponIssued(Struct, frozen=True, tag="gift.coupon_issued", tag_field="kind"):
    """A grant's coupon went into the member's wallet (at grant, or when released)."""

    coupon_id: Id
    grant_id: Id
    template_id: Id
    member_id: Id
    valid_from: dt.datetime
    valid_until: dt.datetime
    store_id: Id
    order_id: Id
    at: dt.datetime


class GiftCouponVoided(Struct, frozen=True, tag="gift.coupon_voided", tag_field="kind"):
    """An unused coupon of a revoked grant was voided."""

    coupon_id: Id
    grant_id: Id
    template_id: Id
    member_id: Id
    store_id: Id
    order_id: Id
    at: dt.datetime
