"""Building blocks shared by every wire type: money, quantities, ids, scopes.

Constraints live in the types (msgspec ``Meta``) so a document that breaks
one is refused at decode time with the JSON path of the offending value. The
bounds come from :mod:`pos_promo.limits`, the one place they are written.
"""

from typing import Annotated, Literal

from msgspec import Meta, Struct

from pos_promo.limits import (
    MAX_AMOUNT,
    MAX_CODE_LENGTH,
    MAX_COUNT,
    MAX_ID_LENGTH,
    MAX_LIST,
    MAX_NAME_LENGTH,
    MAX_ORDER_AMOUNT,
    MAX_QUANTITY,
    MAX_TEXT_LENGTH,
    MAX_VERSION,
)

__all__ = [
    "ALL_CHANNELS",
    "ALL_SERVICE_TYPES",
    "BasisPoints",
    "Channel",
    "ChildRule",
    "Code",
    "Count",
    "Id",
    "IdSet",
    "ItemScope",
    "Money",
    "Name",
    "OrderMoney",
    "Ordinal",
    "PositiveMoney",
    "Quantity",
    "Role",
    "ServiceType",
    "ShareRule",
    "Sharing",
    "SignedOrderMoney",
    "Text",
    "Total",
    "Version",
]

Money = Annotated[int, Meta(ge=0, le=MAX_AMOUNT, description="Amount in minor units (cents).")]
# A sum within one order (a line, a benefit, the subtotal, a refund) may pass
# one amount's limit while the order stays within its own: a cart of ten
# lines at MAX_AMOUNT is valid, so what the till records of it must be too.
OrderMoney = Annotated[
    int,
    Meta(ge=0, le=MAX_ORDER_AMOUNT, description="A sum within one order, in minor units (cents)."),
]
PositiveMoney = Annotated[
    int, Meta(ge=1, le=MAX_AMOUNT, description="Amount in minor units (cents), > 0.")
]
Quantity = Annotated[int, Meta(ge=1, le=MAX_QUANTITY, description="A whole number of units, >= 1.")]
Count = Annotated[int, Meta(ge=1, le=MAX_COUNT, description="How many times, >= 1.")]
Version = Annotated[int, Meta(ge=1, le=MAX_VERSION, description="A document version, >= 1.")]
SignedOrderMoney = Annotated[
    int,
    Meta(
        ge=-MAX_ORDER_AMOUNT,
        le=MAX_ORDER_AMOUNT,
        description="A change within one order, in minor units (negative: taken back).",
    ),
]
# A member's running total across orders: unbounded by one order, but kept
# within what every JSON reader holds exactly (and far from 64-bit sums);
# signed, since a till's view may trail HQ's and a refund never waits for it.
Total = Annotated[
    int,
    Meta(
        ge=-MAX_VERSION,
        le=MAX_VERSION,
        description="A running total across orders, as one till saw it.",
    ),
]
Ordinal = Annotated[
    int, Meta(ge=1, le=MAX_VERSION, description="The n-th gift a running total reached, >= 1.")
]
BasisPoints = Annotated[int, Meta(ge=0, le=10_000, description="1000 = 10 %.")]
Id = Annotated[str, Meta(min_length=1, max_length=MAX_ID_LENGTH)]
IdSet = Annotated[frozenset[Id], Meta(max_length=MAX_LIST)]
Code = Annotated[str, Meta(max_length=MAX_CODE_LENGTH)]
Name = Annotated[str, Meta(max_length=MAX_NAME_LENGTH)]
Text = Annotated[str, Meta(max_length=MAX_TEXT_LENGTH)]

Channel = Literal["pos", "online"]
ServiceType = Literal["dine_in", "delivery", "pickup"]
Role = Literal["main", "side", "modifier"]

ALL_CHANNELS: frozenset[Channel] = frozenset({"pos", "online"})
ALL_SERVICE_TYPES: frozenset[ServiceType] = frozenset({"dine_in", "delivery", "pickup"})


class ItemScope(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """Which items a campaign looks at.

    ``all_items`` or at least one item or category id; ``excluded_item_ids``
    are removed from either. Sides and modifiers follow their main line.
    """

    all_items: bool = False
    item_ids: IdSet = frozenset()
    category_ids: IdSet = frozenset()
    excluded_item_ids: IdSet = frozenset()


class ChildRule(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """How side dishes (or, separately, modifiers) take part in a promotion.

    Both default to on, as in the vendor's back office. The vendor's
    "Excluded" example is ``counts_toward_threshold=True, shares_discount=False``.
    """

    counts_toward_threshold: bool = True
    shares_discount: bool = True


class ShareRule(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """Whether a benefit combines with one family of others (coupons or promotions).

    ``all``: with every one; ``none``: with none; ``all_except``: with every
    one but the ids listed in ``except_ids``.
    """

    mode: Literal["all", "none", "all_except"]
    except_ids: IdSet = frozenset()


class Sharing(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """A benefit's own stacking settings. ``None`` means "use the plan or default"."""

    member_price: bool | None = None
    member_discount: bool | None = None
    coupons: ShareRule | None = None
    promotions: ShareRule | None = None
