"""The order being rung up (SPEC §2), the store it is rung up in, and the
per-member counts a participation limit needs."""

import datetime as dt
from typing import Annotated

from msgspec import Meta, Struct

from pos_promo.limits import MAX_CART_COUPONS, MAX_COUNT, MAX_LINES, MAX_LIST
from pos_promo.model.common import (
    BasisPoints,
    Channel,
    Id,
    IdSet,
    Money,
    Name,
    Quantity,
    Role,
    ServiceType,
)

__all__ = [
    "Cart",
    "Line",
    "Member",
    "MemberCounts",
    "ParticipationCount",
    "StoreContext",
]

Instant = Annotated[dt.datetime, Meta(tz=True, description="An instant with its UTC offset.")]


class Member(Struct, gc=False, frozen=True, forbid_unknown_fields=False, omit_defaults=True):
    """The identified customer: what audience rules and member benefits look at."""

    id: Id
    tier: Id | None = None
    tags: IdSet = frozenset()
    card_programs: IdSet = frozenset()
    discount_rate_bp: BasisPoints | None = None


class Line(Struct, gc=False, frozen=True, forbid_unknown_fields=False, omit_defaults=True):
    """One cart line. Sides and modifiers name the main line they belong to.

    A child's quantity is a multiple of its main's: each main unit carries
    ``quantity / main.quantity`` of it.
    """

    line_id: Id
    item_id: Id
    quantity: Quantity
    unit_price: Money
    category_ids: IdSet = frozenset()
    member_unit_price: Money | None = None
    role: Role = "main"
    parent_line_id: Id | None = None
    name: Name = ""


class Cart(Struct, gc=False, frozen=True, forbid_unknown_fields=False, omit_defaults=True):
    """An order being rung up. ``order_id`` is unique per store (idempotency key)."""

    order_id: Id
    store_id: Id
    lines: Annotated[tuple[Line, ...], Meta(min_length=1, max_length=MAX_LINES)]
    channel: Channel = "pos"
    service_type: ServiceType = "dine_in"
    at: Instant | None = None
    member: Member | None = None
    coupons: Annotated[tuple[Id, ...], Meta(max_length=MAX_CART_COUPONS)] = ()
    requested_promotions: Annotated[frozenset[Id], Meta(max_length=MAX_CART_COUPONS)] = frozenset()


class StoreContext(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """Where the till stands: the store, the organisation nodes above it, its
    clock, and the ``locale`` (CLDR, such as en_US, de_DE, zh_CN) its cashiers
    read sentences, money, dates and times in."""

    id: Id
    timezone: Id = "UTC"
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$")] = "USD"
    org_ids: IdSet = frozenset()
    locale: Annotated[str, Meta(pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")] = "en_US"


class ParticipationCount(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """How often the member took part: in the whole period, and on the cart's local day."""

    total: Annotated[int, Meta(ge=0, le=MAX_COUNT)] = 0
    today: Annotated[int, Meta(ge=0, le=MAX_COUNT)] = 0


class MemberCounts(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """Per-campaign participation counts for the cart's member (HQ-confirmed + local)."""

    participations: Annotated[dict[Id, ParticipationCount], Meta(max_length=MAX_LIST)] = {}
