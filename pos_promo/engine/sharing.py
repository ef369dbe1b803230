"""Which benefits may be used together (SPEC §5), and in which order they run.

Each benefit's stacking settings come from, in order of precedence: its own
``sharing`` fields, the sharing plan it names, and the default scheme of its
family. Two benefits combine only if neither forbids the other. Member price
and member discount have no settings of their own: they forbid nothing, but
a promotion or coupon may forbid them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import msgspec

from pos_promo.model.common import ShareRule, Sharing
from pos_promo.model.coupon import ExecutionOrder

__all__ = [
    "DEFAULTS",
    "FAMILY_RANK",
    "Family",
    "Rules",
    "allows",
    "coupon_order",
    "promotion_order",
    "resolve",
]

Family = Literal["member_price", "member_discount", "promotion", "coupon", "gift"]

# The vendor's execution order between families; within promotions and
# coupons, HQ's published order (or priority) decides.
FAMILY_RANK: dict[str, int] = {
    "member_price": 0,
    "member_discount": 1,
    "promotion": 2,
    "coupon": 3,
}

_ALL = ShareRule("all")
_NONE = ShareRule("none")


class Rules(msgspec.Struct, frozen=True):
    """A benefit's effective stacking settings, every field decided (a frozen
    struct: a dataclass costs a till's start a millisecond to define)."""

    member_price: bool = True
    member_discount: bool = True
    coupons: ShareRule = _ALL
    promotions: ShareRule = _ALL


# The default scheme: a promotion combines with member price, member discount
# and coupons but not another promotion; a coupon with everything but another
# coupon; member benefits and a cumulative spending gift with everything.
DEFAULTS: dict[Family, Rules] = {
    "member_price": Rules(),
    "member_discount": Rules(),
    "promotion": Rules(promotions=_NONE),
    "coupon": Rules(coupons=_NONE),
    "gift": Rules(),
}


def resolve(family: Family, own: Sharing, plan: Sharing | None) -> Rules:
    """Own setting, else the plan's, else the family default, field by field."""
    default = DEFAULTS[family]

    def pick(name: str) -> object:
        for source in (own, plan):
            if source is not None:
                value = getattr(source, name)
                if value is not None:
                    return value
        return getattr(default, name)

    return Rules(
        member_price=bool(pick("member_price")),
        member_discount=bool(pick("member_discount")),
        coupons=pick("coupons"),  # type: ignore[arg-type]
        promotions=pick("promotions"),  # type: ignore[arg-type]
    )


def _share(rule: ShareRule, other: str) -> bool:
    if rule.mode == "all":
        return True
    if rule.mode == "none":
        return False
    return other not in rule.except_ids


def allows(rules: Rules, family: Family, other_id: str) -> bool:
    """Whether a benefit with ``rules`` lets ``other_id`` of ``family`` join it.

    Coupons are named by template id in sharing lists (the merchant picks
    coupon kinds, not single coupons); promotions by campaign id.
    """
    if family == "member_price":
        return rules.member_price
    if family == "member_discount":
        return rules.member_discount
    if family == "coupon":
        return _share(rules.coupons, other_id)
    return _share(rules.promotions, other_id)


def _ranked(listed: tuple[str, ...]) -> Mapping[str, int]:
    return {benefit_id: place for place, benefit_id in enumerate(listed)}


def promotion_order(order: ExecutionOrder | None) -> Mapping[str, int]:
    """Published places of promotions: listed ones run first, in list order."""
    return _ranked(order.promotions) if order else {}


def coupon_order(order: ExecutionOrder | None) -> Mapping[str, int]:
    """Published places of coupon templates: listed ones run first, in list order."""
    return _ranked(order.coupons) if order else {}
