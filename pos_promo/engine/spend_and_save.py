"""Spend & Save (SPEC §4): which tier a cart meets and where its discount falls.

Units are ordered by the application order, and the discount fills them one
at a time, each up to its bundle's discountable price; inside a bundle whose
children share the discount, a unit's part is prorated over main and
children by price (largest remainder, main first).
"""

from __future__ import annotations

from dataclasses import dataclass

from pos_promo.engine.compiled import Compiled
from pos_promo.engine.money import split
from pos_promo.engine.units import CartView, Prices, UnitRef
from pos_promo.model.campaign import ItemsFree, ItemsSave, SpendSave

__all__ = ["Miss", "Outcome", "eligible_mains", "run"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the promotion gives on these prices."""

    amount: int
    tier: int  # 1-based
    capped: bool
    allocation: dict[UnitRef, int]


@dataclass(frozen=True, slots=True)
class Miss:
    """Why the promotion gives nothing on these prices.

    ``measure`` says whether ``needed``/``reached`` are money or item counts.
    """

    reason: str
    needed: int | None = None
    reached: int | None = None
    measure: str = "money"


@dataclass(frozen=True, slots=True)
class _Unit:
    ref: UnitRef
    counted: int  # what the unit adds to a money threshold
    shared: tuple[UnitRef, ...]  # the line units that take its discount
    discountable: int


def eligible_mains(campaign: Compiled, view: CartView) -> list[int]:
    """Main lines in the campaign's item scope (children follow their main)."""
    scope = campaign.items
    found = []
    for index in view.mains:
        line = view.lines[index]
        if line.item_id in scope.excluded_item_ids:
            continue
        if (
            scope.all_items
            or line.item_id in scope.item_ids
            or not scope.category_ids.isdisjoint(line.category_ids)
        ):
            found.append(index)
    return found


def _units(campaign: Compiled, view: CartView, prices: Prices, mains: list[int]) -> list[_Unit]:
    units = []
    for main in mains:
        kids = view.children[main]
        for k, net in enumerate(prices[main]):
            counted = net
            shared: list[UnitRef] = [(main, k)]
            discountable = net
            for child in kids:
                rule = campaign.sides if view.lines[child].role == "side" else campaign.modifiers
                for j in view.child_units(child, k):
                    child_net = prices[child][j]
                    if rule.counts_toward_threshold:
                        counted += child_net
                    if rule.shares_discount:
                        shared.append((child, j))
                        discountable += child_net
            units.append(_Unit((main, k), counted, tuple(shared), discountable))
    high_first = campaign.application_order == "high_to_low"
    lines = view.lines
    units.sort(
        key=lambda u: (
            -lines[u.ref[0]].unit_price if high_first else lines[u.ref[0]].unit_price,
            lines[u.ref[0]].line_id,
            u.ref[1],
        )
    )
    return units


def _fill(amount: int, units: list[_Unit], prices: Prices) -> dict[UnitRef, int]:
    allocation: dict[UnitRef, int] = {}
    left = amount
    for unit in units:
        if left == 0:
            break
        take = min(left, unit.discountable)
        if take == 0:
            continue
        left -= take
        weights = [prices[line][k] for line, k in unit.shared]
        for ref, part in zip(unit.shared, split(take, weights), strict=True):
            if part:
                allocation[ref] = part
    return allocation


def run(campaign: Compiled, view: CartView, prices: Prices, *, mains: list[int]) -> Outcome | Miss:
    """The promotion on ``prices`` for its eligible ``mains`` (best tier, capped)."""
    units = _units(campaign, view, prices, mains)
    rule = campaign.rule
    cap = campaign.max_discount
    best: tuple[int, int, bool, list[_Unit]] | None = None  # amount, tier, capped, units
    if isinstance(rule, SpendSave):
        reached = sum(u.counted for u in units)
        room = sum(u.discountable for u in units)
        for tier, step in enumerate(rule.tiers, 1):
            if reached >= step.spend:
                best = _better(best, step.save, room, cap, tier, units)
        needed, measure = rule.tiers[0].spend, "money"
    else:
        items = [u for u in units if prices[u.ref[0]][u.ref[1]] > 0]
        reached = len(items)
        if isinstance(rule, ItemsSave):
            room = sum(u.discountable for u in items)
            for tier, items_step in enumerate(rule.tiers, 1):
                if reached >= items_step.items:
                    best = _better(best, items_step.save, room, cap, tier, items)
            needed = rule.tiers[0].items
        else:
            assert isinstance(rule, ItemsFree)
            for tier, free_step in enumerate(rule.tiers, 1):
                if reached >= free_step.buy + free_step.free:
                    free = items[: free_step.free]
                    worth = sum(u.discountable for u in free)
                    best = _better(best, worth, worth, cap, tier, free)
            needed = rule.tiers[0].buy + rule.tiers[0].free
        measure = "items"
    if best is None:
        return Miss("threshold_not_met", needed, reached, measure)
    amount, tier, capped, chosen = best
    if amount == 0:
        return Miss("nothing_to_discount")
    return Outcome(amount, tier, capped, _fill(amount, chosen, prices))


def _better(
    best: tuple[int, int, bool, list[_Unit]] | None,
    value: int,
    room: int,
    cap: int | None,
    tier: int,
    units: list[_Unit],
) -> tuple[int, int, bool, list[_Unit]]:
    """Keep the tier worth most to the customer; on a tie, the higher tier."""
    capped = cap is not None and cap < min(value, room)
    amount = min(value, room, cap) if cap is not None else min(value, room)
    if best is None or amount >= best[0]:
        return amount, tier, capped, units
    return best
