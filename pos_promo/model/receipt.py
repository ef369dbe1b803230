"""What a committed order keeps so HQ can replay it and a refund can reverse it.

The receipt names the exact campaign versions the engine saw, the inputs
that decided the answer, and where every cent of discount went, per line
and per unit. Nothing in it is derived at refund time from the live
campaign cache, which may have changed since the order was rung up.
"""

import datetime as dt
from typing import Annotated

from msgspec import Meta, Struct

from pos_promo.limits import MAX_QUANTITY
from pos_promo.model.cart import MemberCounts
from pos_promo.model.common import Channel, Id, Money, ServiceType, Version
from pos_promo.model.coupon import Coupon
from pos_promo.model.result import BenefitShare

__all__ = [
    "CampaignRef",
    "LineAllocation",
    "PlanRef",
    "Receipt",
    "ReceiptInputs",
]


class CampaignRef(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """A campaign the engine considered, at the version it had in the cache."""

    id: Id
    version: Version
    applied: bool


class PlanRef(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """A sharing plan a considered campaign names, at the version the till had."""

    id: Id
    version: Version


class ReceiptInputs(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """The facts of the cart that campaigns are checked against (SPEC §9).

    ``coupons`` are the ids the cart presented; ``wallet`` the wallet
    entries the engine saw for them (owner, window, status at that instant;
    an id absent from it was unknown), and ``execution_order_version`` the
    published execution order in force (``None``: the vendor's default), so
    HQ can replay coupon decisions exactly.

    ``sharing_plans`` are the plans the considered campaigns name, each at
    the version the till had; a named plan the till did not have yet is
    absent (those campaigns were blocked as ``sharing_plan_unknown``). HQ
    replays stacking with exactly these, not with its newest plans. ``None``
    comes from a till of an earlier release, which did not record them.
    """

    at: dt.datetime
    local_date: dt.date
    store_id: Id
    timezone: str
    channel: Channel
    service_type: ServiceType
    member_id: Id | None = None
    member_tier: Id | None = None
    member_tags: frozenset[Id] = frozenset()
    member_card_programs: frozenset[Id] = frozenset()
    coupons: tuple[Id, ...] = ()
    requested_promotions: frozenset[Id] = frozenset()
    wallet: tuple[Coupon, ...] = ()
    execution_order_version: Version | None = None
    sharing_plans: tuple[PlanRef, ...] | None = None
    counts: MemberCounts | None = None


class LineAllocation(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """One line as sold: its units' discounts (in unit order) and each benefit's share."""

    line_id: Id
    item_id: Id
    # 0 where a refund kept none of the line's units (kept allocations)
    quantity: Annotated[int, Meta(ge=0, le=MAX_QUANTITY)]
    unit_price: Money
    unit_discounts: tuple[Money, ...]
    benefits: tuple[BenefitShare, ...] = ()


class Receipt(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """The evaluation receipt stored with every committed order."""

    order_id: Id
    campaigns: tuple[CampaignRef, ...]
    inputs: ReceiptInputs
    lines: tuple[LineAllocation, ...]
