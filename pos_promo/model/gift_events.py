"""Outbox events of the cumulative spending gift (members of the event union).

Two kinds: ``gift.accrued``, one per order (or refund) and activity, with
the grants it made or the grants it revoked inside it, and
``gift.coupon_issued``, one per delayed coupon released. HQ adds accruals
up per member and activity across stores, merges grants and coupons by
their derived ids (two tills granting the same ordinal offline send the
same ``grant_id`` and coupon ids), and grants the ordinals only the
combined total reaches. Amounts are signed: a refund's accrual is negative.
"""

import datetime as dt

from msgspec import Struct

from pos_promo.model.common import Id, Ordinal, SignedOrderMoney, Total, Version
from pos_promo.model.gift import Measure

__all__ = [
    "GiftAccrued",
    "GiftCouponIssued",
    "GiftGranted",
    "GiftRevoked",
    "GrantCoupon",
]


class GrantCoupon(Struct, gc=False, frozen=True):
    """A coupon a grant put in the wallet in the same commit."""

    coupon_id: Id
    template_id: Id
    valid_from: dt.datetime
    valid_until: dt.datetime


class GiftGranted(Struct, gc=False, frozen=True):
    """An ordinal the accrual's total reached and the till granted.

    ``version`` is the activity version whose gifts the grant issues;
    ``coupons`` the instant coupons it put in the wallet there and then.
    Delayed ones are sent as ``gift.coupon_issued`` when released.
    """

    grant_id: Id
    ordinal: Ordinal
    version: Version
    coupons: tuple[GrantCoupon, ...] = ()


class GiftRevoked(Struct, gc=False, frozen=True):
    """A granted ordinal a refund's total no longer reaches, taken back.

    ``voided``: its coupons that were still unused; ``kept``: those already
    redeemed, which stay redeemed; ``cancelled``: releases not yet due.
    """

    grant_id: Id
    ordinal: Ordinal
    voided: tuple[Id, ...] = ()
    kept: tuple[Id, ...] = ()
    cancelled: tuple[Id, ...] = ()


class GiftAccrued(Struct, gc=False, frozen=True, tag="gift.accrued", tag_field="kind"):
    """An order added to (or a refund of it took from) a member's activity total.

    ``total`` is the member's total as this till saw it afterwards. The
    grants the order made and the grants a refund revoked travel inside the
    event that caused them: one outbox row per order and activity, which
    keeps the commit path's page writes down.
    """

    order_id: Id
    store_id: Id
    activity_id: Id
    member_id: Id
    measure: Measure
    amount: SignedOrderMoney
    at: dt.datetime
    refund_id: Id | None = None
    total: Total = 0
    grants: tuple[GiftGranted, ...] = ()
    revoked: tuple[GiftRevoked, ...] = ()


class GiftCouponIssued(Struct, gc=False, frozen=True, tag="gift.coupon_issued", tag_field="kind"):
    """A delayed coupon of a grant went into the member's wallet when it was due."""

    coupon_id: Id
    grant_id: Id
    template_id: Id
    member_id: Id
    valid_from: dt.datetime
    valid_until: dt.datetime
    store_id: Id
    order_id: Id
    at: dt.datetime
