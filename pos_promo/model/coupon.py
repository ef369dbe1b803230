"""Coupons (SPEC §7): the templates HQ publishes and the instances in a wallet.

A template says what a coupon gives, on which items, with what it combines
and how long an issued coupon stays valid; an instance belongs to one member
and is issued, redeemed or void. Templates share the audience fields of
every campaign (stores, channels, service types, period), so the same checks
decide where a coupon can be used.
"""

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta, Struct

from pos_promo.limits import MAX_LIST
from pos_promo.model.base import CampaignBase, LocalDateTime
from pos_promo.model.common import Id, ItemScope, Money, PositiveMoney, Sharing, Version

__all__ = [
    "AmountOff",
    "Coupon",
    "CouponBenefit",
    "CouponStatus",
    "CouponTemplate",
    "ExecutionOrder",
    "FixedValidity",
    "FreeItem",
    "PercentOff",
    "RelativeValidity",
    "SharingPlan",
    "Validity",
]

CouponStatus = Literal["issued", "redeemed", "void"]
Instant = Annotated[dt.datetime, Meta(tz=True)]


class AmountOff(Struct, gc=False, frozen=True, tag="amount_off", tag_field="type"):
    """``amount`` off the eligible items once they reach ``min_spend``."""

    amount: PositiveMoney
    min_spend: Money = 0


class PercentOff(Struct, gc=False, frozen=True, tag="percent_off", tag_field="type"):
    """``rate_bp`` of the eligible items (1000 = 10 %), at most ``cap``."""

    rate_bp: Annotated[int, Meta(ge=1, le=10_000)]
    cap: PositiveMoney | None = None
    min_spend: Money = 0


class FreeItem(Struct, gc=False, frozen=True, tag="free_item", tag_field="type"):
    """The cheapest eligible main unit is free (its sides and modifiers are not)."""

    min_spend: Money = 0


CouponBenefit = AmountOff | PercentOff | FreeItem


class RelativeValidity(Struct, gc=False, frozen=True, tag="relative", tag_field="type"):
    """Valid for ``days`` days from the moment the coupon is issued."""

    days: Annotated[int, Meta(ge=1, le=3660)]


class FixedValidity(Struct, gc=False, frozen=True, tag="fixed", tag_field="type"):
    """Valid in a fixed store-local window, whenever it was issued."""

    start: LocalDateTime
    end: LocalDateTime


Validity = RelativeValidity | FixedValidity


class CouponTemplate(
    CampaignBase, gc=False, frozen=True, kw_only=True, tag="coupon_template", tag_field="kind"
):
    """A coupon kind HQ publishes; ``period`` bounds when any of its coupons redeems."""

    benefit: CouponBenefit
    items: ItemScope = ItemScope(all_items=True)
    validity: Validity = RelativeValidity(days=30)


class Coupon(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """One coupon in one member's wallet."""

    id: Id
    template_id: Id
    member_id: Id
    valid_from: Instant
    valid_until: Instant
    status: CouponStatus = "issued"


class SharingPlan(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """A named stacking scheme many campaigns point to (the vendor's
    "Sharing & Mutual Exclusion Plan"); a campaign's own settings win."""

    id: Id
    sharing: Sharing
    version: Version = 1


class ExecutionOrder(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """The order HQ publishes for promotions and for coupon templates.

    Listed ids run first, in the listed order; the rest follow by priority
    (high first), then id.
    """

    promotions: Annotated[tuple[Id, ...], Meta(max_length=MAX_LIST)] = ()
    coupons: Annotated[tuple[Id, ...], Meta(max_length=MAX_LIST)] = ()
    version: Version = 1
