"""Member price and member discount as benefits (SPEC §5).

Member price runs first: every line with a member unit price drops to it.
Member discount runs second, at the member's rate, on the lines not already
at member price. The rate becomes money once, on the total it applies to
(rounded half up), and is split over the line units by largest remainder in
the lines' content order (line id last), so no line goes below zero and the parts add up exactly.
"""

from __future__ import annotations

import functools

from pos_promo.engine.money import percent_of
from pos_promo.engine.outcome import Miss, Outcome
from pos_promo.engine.units import CartView, Prices, UnitRef, spread

__all__ = ["member_discount", "member_price"]

NOTHING = Miss("nothing_to_discount")


def member_price(view: CartView, prices: Prices) -> Outcome | Miss:
    """Each unit down to its line's member unit price."""
    allocation: dict[UnitRef, int] = {}
    for index, line in enumerate(view.lines):
        member = line.member_unit_price
        if member is None or member >= line.unit_price:
            continue
        gap = line.unit_price - member
        for k, net in enumerate(prices[index]):
            take = min(gap, net)
            if take > 0:
                allocation[index, k] = take
    amount = sum(allocation.values())
    return Outcome(amount, 0, False, allocation) if amount else NOTHING


def _discount_lines(view: CartView) -> tuple[tuple[int, bool], ...]:
    """Every line in content order (line id last), each with whether it has a
    member price below its price; the same for every run on one cart, so
    sorted once (the search runs the discount again after member price)."""
    found: tuple[tuple[int, bool], ...] | None = view.memo.get("member discount lines")
    if found is None:
        lines = view.lines
        marked = []
        for i in view.content_order():
            member = lines[i].member_unit_price
            marked.append((i, member is not None and member < lines[i].unit_price))
        found = view.memo["member discount lines"] = tuple(marked)
    return found


def member_discount(view: CartView, prices: Prices, rate_bp: int) -> Outcome | Miss:
    """``rate_bp`` off every line not at member price.

    Only member price runs before the member discount, so a line with a
    member price whose units went down is at member price. The split over
    the units is worked out only when the allocation is read: alone, it
    only competes on its amount."""
    base = view.base
    units: list[UnitRef] = []
    weights: list[int] = []
    for index, has_member_price in _discount_lines(view):
        row = prices[index]
        if has_member_price and row != base[index]:
            continue  # at member price
        for k, net in enumerate(row):
            if net > 0:
                units.append((index, k))
                weights.append(net)
    amount = percent_of(sum(weights), rate_bp)
    if amount == 0:
        return NOTHING
    return Outcome(amount, 0, False, later=functools.partial(spread, amount, units, weights))
