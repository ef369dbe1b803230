"""Member price and member discount as benefits (SPEC §5).

Member price runs first: every line with a member unit price drops to it.
Member discount runs second, at the member's rate, on the lines not already
at member price. The rate becomes money once, on the total it applies to
(rounded half up), and is split over the line units by largest remainder in
the lines' content order (line id last), so no line goes below zero and the parts add up exactly.
"""

from __future__ import annotations

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


def _at_member_price(view: CartView, prices: Prices, index: int) -> bool:
    """Only member price runs before the member discount, so a line with a
    member price whose units went down is at member price."""
    line = view.lines[index]
    member = line.member_unit_price
    return member is not None and member < line.unit_price and prices[index] != view.base[index]


def member_discount(view: CartView, prices: Prices, rate_bp: int) -> Outcome | Miss:
    """``rate_bp`` off every line not at member price."""
    order = sorted(range(len(view.lines)), key=lambda i: (view.content(i), view.lines[i].line_id))
    units: list[UnitRef] = []
    weights: list[int] = []
    for index in order:
        if _at_member_price(view, prices, index):
            continue
        for k, net in enumerate(prices[index]):
            if net > 0:
                units.append((index, k))
                weights.append(net)
    amount = percent_of(sum(weights), rate_bp)
    if amount == 0:
        return NOTHING
    allocation = spread(amount, units, weights)
    return Outcome(amount, 0, False, allocation)
