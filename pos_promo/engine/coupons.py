"""Coupons at the till (SPEC §7): is the presented coupon usable, and what it gives.

A presented coupon is checked against the wallet entry (owner, window,
status) and its template (audience, like any campaign); then its benefit
runs on the prices the benefits before it left, like every other benefit.
Amount and percent coupons spread over the eligible line units by price
(largest remainder, lines in content order); a free-item coupon frees the cheapest
eligible main unit still above zero (its sides and modifiers stay paid).
"""

from __future__ import annotations

import datetime as dt
import functools

import msgspec

from pos_promo.engine.money import percent_of
from pos_promo.engine.outcome import Miss, Outcome
from pos_promo.engine.spend_and_save import zero_cost, zeroable
from pos_promo.engine.units import CartView, Prices, UnitRef, spread
from pos_promo.model.cart import Cart
from pos_promo.model.coupon import AmountOff, Coupon, CouponTemplate, FreeItem
from pos_promo.model.result import Params

__all__ = [
    "Invalid",
    "check_coupon",
    "coupon_bound",
    "coupon_steady",
    "run_coupon",
]


class Invalid(msgspec.Struct, frozen=True):
    """Why a presented coupon cannot be used at all: ``cause`` is a code a POS
    can translate (unknown, duplicate, void, redeemed, member_required,
    not_owner, not_yet_valid, expired, template_unknown); ``params`` hold
    the instants a validity cause names, for the edge to word."""

    cause: str
    params: Params = msgspec.field(default_factory=dict)


def check_coupon(
    coupon_id: str, coupon: Coupon | None, cart: Cart, at: dt.datetime, known_template: bool
) -> Invalid | None:
    """The wallet-side checks, in the order a cashier would check them."""
    if coupon is None:
        return Invalid("unknown")
    if coupon.status == "void":
        return Invalid("void")
    if coupon.status == "redeemed":
        return Invalid("redeemed")
    if cart.member is None:
        return Invalid("member_required")
    if coupon.member_id != cart.member.id:
        return Invalid("not_owner")
    if at < coupon.valid_from:
        return Invalid("not_yet_valid", {"valid_from": coupon.valid_from.isoformat()})
    if at > coupon.valid_until:
        return Invalid("expired", {"valid_until": coupon.valid_until.isoformat()})
    if not known_template:
        return Invalid("template_unknown", {"template": coupon.template_id})
    return None


class _Scope(msgspec.Struct):
    """A coupon scope's units on one cart (see :func:`_eligible_units`), with
    what they add up to on the prices last asked about: the coupons of a
    wallet mostly reach the same lines and are weighed on the same prices
    one after another (alone, then as rivals after the same set)."""

    refs: list[UnitRef]
    main_refs: list[UnitRef]
    last: Prices | None = None
    spent: int = 0

    def spent_on(self, prices: Prices) -> int:
        """What the units cost on ``prices``."""
        if prices is not self.last:
            self.spent = sum(prices[line][k] for line, k in self.refs)
            self.last = prices
        return self.spent


def _eligible_units(view: CartView, mains: list[int]) -> _Scope:
    """Eligible main units with the child units they carry, in content order
    (line id only between lines alike in every way, so ids never move a cent),
    and the main units alone; the same for every run on one cart (memo)."""
    key = ("coupon units", tuple(mains))
    found: _Scope | None = view.memo.get(key)
    if found is not None:
        return found
    lines = view.lines
    refs: list[UnitRef] = []
    main_refs: list[UnitRef] = []
    eligible = set(mains)
    for main in view.content_order():
        if main not in eligible:
            continue
        for k in range(lines[main].quantity):
            refs.append((main, k))
            main_refs.append((main, k))
            for child in view.children[main]:
                refs.extend((child, j) for j in view.child_units(child, k))
    found = view.memo[key] = _Scope(refs, main_refs)
    return found


def run_coupon(
    template: CouponTemplate, view: CartView, prices: Prices, *, mains: list[int]
) -> Outcome | Miss:
    """What the coupon gives on ``prices``; a miss below the minimum spend.

    The split over line units is worked out only when the allocation is
    read: most runs in the stacking search only compete on the amount.
    """
    if not mains:
        return Miss("no_eligible_items")
    scope = _eligible_units(view, mains)
    refs, main_refs = scope.refs, scope.main_refs
    spent = scope.spent_on(prices)
    benefit = template.benefit
    if spent < benefit.min_spend:
        return Miss("min_spend_not_met", benefit.min_spend, spent)
    if isinstance(benefit, FreeItem):
        priced = [ref for ref in main_refs if prices[ref[0]][ref[1]] > 0]
        if not priced:
            return Miss("nothing_to_discount")
        lines = view.lines
        cheapest = min(
            priced,
            key=lambda ref: (
                prices[ref[0]][ref[1]],
                view.content(ref[0]),
                lines[ref[0]].line_id,
                ref[1],
            ),
        )
        amount = prices[cheapest[0]][cheapest[1]]
        return Outcome(amount, 0, False, {cheapest: amount})
    if isinstance(benefit, AmountOff):
        amount, capped = min(benefit.amount, spent), False
    else:
        amount = percent_of(spent, benefit.rate_bp)
        capped = benefit.cap is not None and amount > benefit.cap
        if benefit.cap is not None:
            amount = min(amount, benefit.cap)
    if amount == 0:
        return Miss("nothing_to_discount")
    return Outcome(amount, 0, capped, later=functools.partial(_spread_over, amount, refs, prices))


def _spread_over(amount: int, refs: list[UnitRef], prices: Prices) -> dict[UnitRef, int]:
    priced: list[UnitRef] = []
    weights: list[int] = []
    for ref in refs:
        net = prices[ref[0]][ref[1]]
        if net > 0:
            priced.append(ref)
            weights.append(net)
    return spread(amount, priced, weights)


def coupon_bound(
    template: CouponTemplate, view: CartView, mains: list[int], alone: int, before: int
) -> int:
    """The most the coupon can give after other benefits that take off at
    most ``before``: its stand-alone amount, except a free item, which may
    free a dearer unit once cheaper ones are at zero. Zeroing ``z`` units
    costs at least the ``z`` cheapest costs (see ``zero_cost``), and the
    cheapest unit left is then at most the ``z + 1``-th cheapest price."""
    if not isinstance(template.benefit, FreeItem):
        return alone
    units = [m for m in mains for _ in range(view.lines[m].quantity)]
    if not units:
        return 0
    zeroed = zeroable([zero_cost(view, m) for m in units], before)
    prices = sorted(view.lines[m].unit_price for m in units)
    return prices[min(zeroed, len(prices) - 1)]


def coupon_steady(
    template: CouponTemplate, view: CartView, mains: list[int], alone: int, before: int
) -> int:
    """``alone`` if the coupon gives exactly that after benefits taking off at
    most ``before`` on its lines, else 0: an amount off or a capped percent
    still met and held with ``before`` less spent."""
    if before <= 0:
        return alone
    benefit = template.benefit
    if isinstance(benefit, FreeItem):
        return 0
    spent = _eligible_units(view, mains).spent_on(view.base) - before
    if spent < benefit.min_spend:
        return 0
    if isinstance(benefit, AmountOff):
        return alone if benefit.amount == alone and alone <= spent else 0
    capped = benefit.cap is not None and benefit.cap == alone
    return alone if capped and percent_of(spent, benefit.rate_bp) >= alone else 0
