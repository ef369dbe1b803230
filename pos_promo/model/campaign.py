"""Campaigns as HQ publishes them: who and when (SPEC §3) and what (SPEC §4).

Every campaign kind shares :class:`CampaignBase`; the kinds form a tagged
union on ``kind`` so new kinds slot in without touching old documents. New
fields always get defaults, and unknown fields from a newer HQ are ignored.
Periods, slots and dates are store-local wall clock.
"""

from typing import Annotated, Literal

from msgspec import Meta, Struct

from pos_promo.model.base import (
    CampaignBase,
    CampaignStatus,
    Limits,
    LocalDateTime,
    Participants,
    Period,
    StoreScope,
    StoreSelection,
    TimeSlot,
)
from pos_promo.model.common import ChildRule, IdSet, ItemScope, PositiveMoney, Quantity
from pos_promo.model.coupon import CouponTemplate
from pos_promo.model.gift import CumulativeGift

__all__ = [
    "ApplicationOrder",
    "Campaign",
    "CampaignBase",
    "CampaignStatus",
    "CouponTemplate",
    "CumulativeGift",
    "FreeTier",
    "ItemsFree",
    "ItemsSave",
    "ItemsTier",
    "Limits",
    "LocalDateTime",
    "Participants",
    "Period",
    "SpendAndSave",
    "SpendSave",
    "SpendSaveRule",
    "SpendTier",
    "StoreRule",
    "StoreScope",
    "StoreSelection",
    "TimeSlot",
]

ApplicationOrder = Literal["low_to_high", "high_to_low"]


class SpendTier(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """Spend ``spend`` (minor units) on eligible items, save ``save``."""

    spend: PositiveMoney
    save: PositiveMoney


class ItemsTier(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """Buy ``items`` eligible items, save ``save``."""

    items: Quantity
    save: PositiveMoney


class FreeTier(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """Buy ``buy`` eligible items and get ``free`` more free (needs buy + free units)."""

    buy: Quantity
    free: Quantity


class SpendSave(Struct, gc=False, frozen=True, tag="spend_save", tag_field="type"):
    """Spend X save Y: a money threshold on eligible items."""

    tiers: Annotated[tuple[SpendTier, ...], Meta(min_length=1, max_length=5)]


class ItemsSave(Struct, gc=False, frozen=True, tag="items_save", tag_field="type"):
    """Buy X items save Y: a unit-count threshold on eligible main items."""

    tiers: Annotated[tuple[ItemsTier, ...], Meta(min_length=1, max_length=5)]


class ItemsFree(Struct, gc=False, frozen=True, tag="items_free", tag_field="type"):
    """Buy X items get Y free: the Y units first in application order are free."""

    tiers: Annotated[tuple[FreeTier, ...], Meta(min_length=1, max_length=5)]


SpendSaveRule = SpendSave | ItemsSave | ItemsFree


class StoreRule(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """A store-specific replacement for the rule, cap and/or application order.

    ``None`` keeps the campaign-wide setting.
    """

    store_ids: Annotated[IdSet, Meta(min_length=1)]
    rule: SpendSaveRule | None = None
    max_discount: PositiveMoney | None = None
    application_order: ApplicationOrder | None = None


class SpendAndSave(
    CampaignBase, gc=False, frozen=True, kw_only=True, tag="spend_and_save", tag_field="kind"
):
    """A Spend & Save promotion (SPEC §4)."""

    rule: SpendSaveRule
    items: ItemScope = ItemScope(all_items=True)
    application_order: ApplicationOrder = "low_to_high"
    max_discount: PositiveMoney | None = None
    sides: ChildRule = ChildRule()
    modifiers: ChildRule = ChildRule()
    store_rules: Annotated[tuple[StoreRule, ...], Meta(max_length=100)] = ()
    limits: Limits = Limits()
    auto_apply: bool = True


# Every kind HQ can publish, tagged on ``kind``.
Campaign = SpendAndSave | CouponTemplate | CumulativeGift
