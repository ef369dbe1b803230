"""A cart seen as units: every main unit with the share of its sides and
modifiers it carries (a bundle unit), and the net price of every line unit.

Benefits run one after another, each on the prices the earlier ones left
(SPEC §5), so prices are an immutable :data:`Prices` value: applying a
benefit makes a new one and leaves the old for the other branches of the
stacking search.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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
    return CartView(cart, lines, mains, children, per_unit, base)


def apply(prices: Prices, allocation: Allocation) -> Prices:
    """The prices left once ``allocation`` is taken off."""
    touched: dict[int, list[int]] = {}
    for (line, unit), amount in allocation.items():
        row = touched.get(line)
        if row is None:
            row = touched[line] = list(prices[line])
        row[unit] -= amount
    return tuple(tuple(touched[i]) if i in touched else row for i, row in enumerate(prices))
