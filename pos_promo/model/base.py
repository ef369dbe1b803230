"""What every campaign kind shares: identity, lifecycle and audience (SPEC §3).

Spend & Save promotions, coupon templates and cumulative spending gifts all
extend :class:`CampaignBase`, so one set of checks decides when and for whom
any of them applies. Periods, slots and dates are store-local wall clock.
"""

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta, Struct

from pos_promo.limits import MAX_COUNT, MAX_LIST
from pos_promo.model.common import (
    ALL_CHANNELS,
    ALL_SERVICE_TYPES,
    Channel,
    Code,
    Count,
    Id,
    IdSet,
    Name,
    ServiceType,
    Sharing,
    Text,
    Version,
)

__all__ = [
    "CampaignBase",
    "CampaignStatus",
    "ClockTime",
    "Limits",
    "LocalDateTime",
    "Participants",
    "Period",
    "StoreScope",
    "StoreSelection",
    "TimeSlot",
    "Weekday",
]

CampaignStatus = Literal["active", "paused", "archived"]
LocalDateTime = Annotated[dt.datetime, Meta(tz=False, description="Store-local wall clock.")]
ClockTime = Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM")]
Weekday = Annotated[int, Meta(ge=1, le=7, description="ISO weekday: 1 = Monday, 7 = Sunday.")]


class Period(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """The campaign's validity, store-local, both ends included (to the second)."""

    start: LocalDateTime
    end: LocalDateTime


class TimeSlot(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """A daily window on some weekdays; ``start`` included, ``end`` excluded.

    A slot whose end is not after its start wraps midnight and belongs to
    the weekday it starts on (Monday 22:00-02:00 covers Tuesday 01:30).
    """

    start: ClockTime
    end: ClockTime
    weekdays: frozenset[Weekday] = frozenset(range(1, 8))


class StoreSelection(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """Listed stores and/or every store under listed organisation nodes."""

    store_ids: IdSet = frozenset()
    org_ids: IdSet = frozenset()


StoreScope = Literal["all"] | StoreSelection


class Participants(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """Who may take part. Each non-empty list must match (any one of its values)."""

    tiers: IdSet = frozenset()
    tags: IdSet = frozenset()
    card_programs: IdSet = frozenset()


class Limits(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """Participations allowed per member: over the whole period, and per local day."""

    per_member_total: Count | None = None
    per_member_daily: Count | None = None


class CampaignBase(Struct, gc=False, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """What every campaign kind shares: identity, lifecycle and audience (SPEC §3)."""

    id: Id
    version: Version = 1
    status: CampaignStatus = "active"
    name: Name = ""
    code: Code = ""
    description: Text = ""
    period: Period
    time_slots: Annotated[tuple[TimeSlot, ...], Meta(max_length=50)] = ()
    dates: Annotated[frozenset[dt.date], Meta(max_length=MAX_LIST)] = frozenset()
    stores: StoreScope = "all"
    channels: frozenset[Channel] = ALL_CHANNELS
    service_types: frozenset[ServiceType] = ALL_SERVICE_TYPES
    participants: Participants = Participants()
    priority: Annotated[int, Meta(ge=-MAX_COUNT, le=MAX_COUNT)] = 0
    sharing: Sharing = Sharing()
    sharing_plan: Id | None = None
