"""A cart seen as units: every main unit with the share of its sides and
modifiers it carries (a bundle unit), and the net price of every line unit.

Benefits run one after another, each on the prices the earlier ones left
(SPEC §5), so prices are an immutable :data:`Prices` value: applying a
benefit makes a new one and leaves the old for the other branches of the
stacking search.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pos_promo.model.cart import Cart, Line

__all__ = ["Allocation", "CartView", "Prices", "UnitRef", "apply", "view_cart"]

UnitRef = tuple[int, int]  # (line index in the cart, unit index within the line)
Prices = tuple[tuple[int, ...], ...]  # net price of each unit of each line
Allocation = Mapping[UnitRef, int]  # what one benefit takes off each line unit


@dataclass(frozen=True, slots=True)
class CartView:
    """Cart lines indexed for the engine; built once per evaluation."""

    cart: Cart
    lines: tuple[Line, ...]
    mains: tuple[int, ...]
    children: Mapping[int, tuple[int, ...]]  # main line -> child lines, by line_id
    per_unit: Mapping[int, int]  # child line -> units it has per main unit
    base: Prices
    # every main unit in application order, so a promotion only filters it:
    # by (unit price, line id, unit) rising, and by (-unit price, line id, unit)
    low_to_high: tuple[UnitRef, ...] = ()
    high_to_low: tuple[UnitRef, ...] = ()
    # main unit -> the child units it carries, children by line id: (child unit, is a side)
    bundle: Mapping[UnitRef, tuple[tuple[UnitRef, bool], ...]] = field(default_factory=dict)
    # when line ids are unique (a checked cart), the units of one main line sit
    # together in both orders, so ordering main lines is enough: their place
    # in each order, by line index (-1 for a child line)
    rank_low: tuple[int, ...] = ()
    rank_high: tuple[int, ...] = ()
    # by line index: the side and modifier setting bits that matter to a main
    # line (3: it has a side, 12: a modifier; see compiled.child_bits)
    relevant: tuple[int, ...] = ()
    # per evaluation memo of what promotions share on ``base`` prices (spend_and_save)
    memo: dict[object, Any] = field(default_factory=dict)

    def child_units(self, child: int, main_unit: int) -> range:
        share = self.per_unit[child]
        return range(main_unit * share, (main_unit + 1) * share)


def view_cart(cart: Cart) -> CartView:
    lines = cart.lines
    position = {line.line_id: index for index, line in enumerate(lines)}
    mains = tuple(i for i, line in enumerate(lines) if line.role == "main")
    kids: dict[int, list[int]] = {m: [] for m in mains}
    per_unit: dict[int, int] = {}
    for index, line in enumerate(lines):
        if line.role != "main":
            main = position[line.parent_line_id or ""]
            kids[main].append(index)
            per_unit[index] = line.quantity // lines[main].quantity
    children = {m: tuple(sorted(c, key=lambda i: lines[i].line_id)) for m, c in kids.items()}
    base = tuple((line.unit_price,) * line.quantity for line in lines)
    units = [(m, k) for m in mains for k in range(lines[m].quantity)]
    low_to_high = tuple(
        sorted(units, key=lambda u: (lines[u[0]].unit_price, lines[u[0]].line_id, u[1]))
    )
    high_to_low = tuple(
        sorted(units, key=lambda u: (-lines[u[0]].unit_price, lines[u[0]].line_id, u[1]))
    )
    bundle: dict[UnitRef, tuple[tuple[UnitRef, bool], ...]] = {}
    for m, k in units:
        carried: list[tuple[UnitRef, bool]] = []
        for child in children[m]:
            side = lines[child].role == "side"
            share = per_unit[child]
            carried.extend(((child, j), side) for j in range(k * share, (k + 1) * share))
        bundle[m, k] = tuple(carried)
    rank_low: tuple[int, ...] = ()
    rank_high: tuple[int, ...] = ()
    if len(position) == len(lines):
        low = [-1] * len(lines)
        high = [-1] * len(lines)
        by_price = sorted(mains, key=lambda m: (lines[m].unit_price, lines[m].line_id))
        for place, m in enumerate(by_price):
            low[m] = place
        by_price = sorted(mains, key=lambda m: (-lines[m].unit_price, lines[m].line_id))
        for place, m in enumerate(by_price):
            high[m] = place
        rank_low, rank_high = tuple(low), tuple(high)
    relevant = [0] * len(lines)
    for m, kids_of in children.items():
        for c in kids_of:
            relevant[m] |= 3 if lines[c].role == "side" else 12
    return CartView(
        cart,
        lines,
        mains,
        children,
        per_unit,
        base,
        low_to_high,
        high_to_low,
        bundle,
        rank_low,
        rank_high,
        tuple(relevant),
    )


def apply(prices: Prices, allocation: Allocation) -> Prices:
    """The prices left once ``allocation`` is taken off."""
    touched: dict[int, list[int]] = {}
    for (line, unit), amount in allocation.items():
        row = touched.get(line)
        if row is None:
            row = touched[line] = list(prices[line])
        row[unit] -= amount
    rows = list(prices)
    for line, row in touched.items():
        rows[line] = tuple(row)
    return tuple(rows)
