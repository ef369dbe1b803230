"""Campaigns as HQ publishes them: who and when (SPEC §3) and what (SPEC §4).

Every campaign kind shares :class:`CampaignBase`; the kinds form a tagged
union on ``kind`` so new kinds slot in without touching old documents. New
fields always get defaults, and unknown fields from a newer HQ are ignored.
Periods, slots and dates are store-local wall clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta, Struct

from pos_promo.model.common import (
    ALL_CHANNELS,
    ALL_SERVICE_TYPES,
    Channel,
    ChildRule,
    Id,
    ItemScope,
    PositiveMoney,
    Quantity,
    ServiceType,
    Sharing,
)

__all__ = [
    "ApplicationOrder",
    "Campaign",
    "CampaignBase",
    "CampaignStatus",
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

CampaignStatus = Literal["active", "paused", "archived"]
ApplicationOrder = Literal["low_to_high", "high_to_low"]
LocalDateTime = Annotated[dt.datetime, Meta(tz=False, description="Store-local wall clock.")]
ClockTime = Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM")]
Weekday = Annotated[int, Meta(ge=1, le=7, description="ISO weekday: 1 = Monday, 7 = Sunday.")]


class Period(Struct, frozen=True, forbid_unknown_fields=False):
    """The campaign's validity, store-local, both ends included (to the second)."""

    start: LocalDateTime
    end: LocalDateTime


class TimeSlot(Struct, frozen=True, forbid_unknown_fields=False):
    """A daily window on some weekdays; ``start`` included, ``end`` excluded.

    A slot whose end is not after its start wraps midnight and belongs to
    the weekday it starts on (Monday 22:00-02:00 covers Tuesday 01:30).
    """

    start: ClockTime
    end: ClockTime
    weekdays: frozenset[Weekday] = frozenset(range(1, 8))


class StoreSelection(Struct, frozen=True, forbid_unknown_fields=False):
    """Listed stores and/or every store under listed organisation nodes."""

    store_ids: frozenset[Id] = frozenset()
    org_ids: frozenset[Id] = frozenset()


StoreScope = Literal["all"] | StoreSelection


class Participants(Struct, frozen=True, forbid_unknown_fields=False):
    """Who may take part. Each non-empty list must match (any one of its values)."""

    tiers: frozenset[Id] = frozenset()
    tags: frozenset[Id] = frozenset()
    card_programs: frozenset[Id] = frozenset()


class Limits(Struct, frozen=True, forbid_unknown_fields=False):
    """Participations allowed per member: over the whole period, and per local day."""

    per_member_total: Quantity | None = None
    per_member_daily: Quantity | None = None


class CampaignBase(Struct, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """What every campaign kind shares: identity, lifecycle and audience (SPEC §3)."""

    id: Id
    version: Annotated[int, Meta(ge=1)] = 1
    status: CampaignStatus = "active"
    name: str = ""
    code: str = ""
    description: str = ""
    period: Period
    time_slots: tuple[TimeSlot, ...] = ()
    dates: frozenset[dt.date] = frozenset()
    stores: StoreScope = "all"
    channels: frozenset[Channel] = ALL_CHANNELS
    service_types: frozenset[ServiceType] = ALL_SERVICE_TYPES
    participants: Participants = Participants()
    priority: int = 0
    sharing: Sharing = Sharing()
    sharing_plan: Id | None = None


class SpendTier(Struct, frozen=True, forbid_unknown_fields=False):
    """Spend ``spend`` (minor units) on eligible items, save ``save``."""

    spend: PositiveMoney
    save: PositiveMoney


class ItemsTier(Struct, frozen=True, forbid_unknown_fields=False):
    """Buy ``items`` eligible items, save ``save``."""

    items: Quantity
    save: PositiveMoney


class FreeTier(Struct, frozen=True, forbid_unknown_fields=False):
    """Buy ``buy`` eligible items and get ``free`` more free (needs buy + free units)."""

    buy: Quantity
    free: Quantity


class SpendSave(Struct, frozen=True, tag="spend_save", tag_field="type"):
    """Spend X save Y: a money threshold on eligible items."""

    tiers: Annotated[tuple[SpendTier, ...], Meta(min_length=1, max_length=5)]


class ItemsSave(Struct, frozen=True, tag="items_save", tag_field="type"):
    """Buy X items save Y: a unit-count threshold on eligible main items."""

    tiers: Annotated[tuple[ItemsTier, ...], Meta(min_length=1, max_length=5)]


class ItemsFree(Struct, frozen=True, tag="items_free", tag_field="type"):
    """Buy X items get Y free: the Y units first in application order are free."""

    tiers: Annotated[tuple[FreeTier, ...], Meta(min_length=1, max_length=5)]


SpendSaveRule = SpendSave | ItemsSave | ItemsFree


class StoreRule(Struct, frozen=True, forbid_unknown_fields=False):
    """A store-specific replacement for the rule, cap and/or application order.

    ``None`` keeps the campaign-wide setting.
    """

    store_ids: Annotated[frozenset[Id], Meta(min_length=1)]
    rule: SpendSaveRule | None = None
    max_discount: PositiveMoney | None = None
    application_order: ApplicationOrder | None = None


class SpendAndSave(CampaignBase, frozen=True, kw_only=True, tag="spend_and_save", tag_field="kind"):
    """A Spend & Save promotion (SPEC §4)."""

    rule: SpendSaveRule
    items: ItemScope = ItemScope(all_items=True)
    application_order: ApplicationOrder = "low_to_high"
    max_discount: PositiveMoney | None = None
    sides: ChildRule = ChildRule()
    modifiers: ChildRule = ChildRule()
    store_rules: tuple[StoreRule, ...] = ()
    limits: Limits = Limits()
    auto_apply: bool = True


Campaign = SpendAndSave
