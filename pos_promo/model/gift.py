"""Cumulative spending gifts (SPEC §6): the activity, what an order accrues, grants.

A member accumulates spend or item count per activity over its period, at
any store, often while a till is offline; crossing a threshold grants an
*ordinal* (the 1st, 2nd, ... time it was reached), and each ordinal issues
the activity's gift coupons. Everything that names a grant or a coupon is
derived from (activity, member, ordinal, gift line, unit) alone, so two
tills that grant the same ordinal offline write the same ids and HQ merges
them instead of giving the gift twice.

The audience fields (period, stores, channels, service types, membership
card programs as participants, status, version) are those of every
campaign (:class:`~pos_promo.model.base.CampaignBase`). A gift's sharing
default differs from a promotion's: it combines with everything unless its
own settings (or its sharing plan) say otherwise (SPEC §5).
"""

from typing import Annotated, Literal

from msgspec import Meta, Struct

from pos_promo.limits import MAX_AMOUNT, MAX_COUPONS_PER_GRANT
from pos_promo.model.base import CampaignBase
from pos_promo.model.common import Id, ItemScope, OrderMoney, Ordinal, SignedOrderMoney, Version
from pos_promo.model.coupon import Validity

__all__ = [
    "MAX_GIFT_QUANTITY",
    "AccrualBasis",
    "AccrualChange",
    "AssetSharing",
    "CumulativeGift",
    "DailyRelease",
    "Distribution",
    "Gift",
    "GiftCondition",
    "HourlyRelease",
    "InstantRelease",
    "Measure",
    "Repeat",
    "RevokedGrant",
]

MAX_GIFT_QUANTITY = MAX_COUPONS_PER_GRANT
"""Coupons one gift line issues per ordinal, at most (all lines together: the same)."""

Measure = Literal["spend", "count"]
"""``spend``: minor units paid for eligible lines; ``count``: eligible main units."""

Repeat = Literal["once", "every"]
"""``once``: reach X once (ordinal 1 only); ``every``: each X reached is an ordinal."""


class GiftCondition(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """What the member must reach: ``threshold`` minor units (spend) or units (count)."""

    measure: Measure
    repeat: Repeat
    threshold: Annotated[int, Meta(ge=1, le=MAX_AMOUNT)]


class InstantRelease(Struct, gc=False, frozen=True, tag="instant", tag_field="type"):
    """Issued in the commit that granted it."""


class HourlyRelease(Struct, gc=False, frozen=True, tag="hourly", tag_field="type"):
    """Issued ``hours`` hours (elapsed time) after the order that granted it."""

    hours: Annotated[int, Meta(ge=1, le=24 * 366)]


class DailyRelease(Struct, gc=False, frozen=True, tag="daily", tag_field="type"):
    """Issued at the start of the store-local day ``days`` days after the trigger day."""

    days: Annotated[int, Meta(ge=1, le=366)]


Distribution = InstantRelease | HourlyRelease | DailyRelease


class Gift(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """One gift line: ``quantity`` coupons of a template per ordinal granted.

    ``validity`` ``None`` takes the template's own validity.
    """

    template_id: Id
    quantity: Annotated[int, Meta(ge=1, le=MAX_GIFT_QUANTITY)] = 1
    distribution: Distribution = InstantRelease()
    validity: Validity | None = None


class AssetSharing(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """Whether the share of an order paid with a member asset accrues.

    The vendor's "Non-shareable with Membership Assets": ``False`` means the
    part of the order paid with that tender does not accrue (pro rata).
    """

    prepaid_balance: bool = True
    points: bool = True


class CumulativeGift(
    CampaignBase, gc=False, frozen=True, kw_only=True, tag="cumulative_gift", tag_field="kind"
):
    """A Cumulative Spending Gift activity (SPEC §6)."""

    condition: GiftCondition
    gifts: Annotated[tuple[Gift, ...], Meta(min_length=1, max_length=20)]
    items: ItemScope = ItemScope(all_items=True)
    assets: AssetSharing = AssetSharing()


class AccrualBasis(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """What one committed order accrues to one activity, kept with the order.

    A refund recomputes the order's standing accrual from this and the
    units left on its lines, never from the live activity (which may have
    changed since): ``lines`` are the eligible line ids (mains and, for
    spend, the children that follow them; ``all_lines`` instead when every
    line of the order is), and the accrual is their measure times
    ``shareable / paid`` (the part of the order not paid with a
    non-shareable tender), rounded half up.
    """

    activity_id: Id
    version: Version
    measure: Measure
    paid: OrderMoney
    shareable: OrderMoney
    lines: tuple[Id, ...] = ()
    all_lines: bool = False


class AccrualChange(Struct, gc=False, frozen=True):
    """What an order or a refund did to one activity's total (signed)."""

    activity_id: Id
    amount: SignedOrderMoney


class RevokedGrant(Struct, gc=False, frozen=True):
    """A grant a refund took back: coupons voided, kept (already redeemed), cancelled."""

    grant_id: Id
    activity_id: Id
    ordinal: Ordinal
    voided: tuple[Id, ...] = ()
    kept: tuple[Id, ...] = ()
    cancelled: tuple[Id, ...] = ()
