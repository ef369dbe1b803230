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

from pos_promo.engine.money import split
from pos_promo.model.cart import Cart, Line

__all__ = ["Allocation", "CartView", "Prices", "UnitRef", "apply", "spread", "view_cart"]

UnitRef = tuple[int, int]  # (line index in the cart, unit index within the line)
Prices = tuple[tuple[int, ...], ...]  # net price of each unit of each line
Allocation = Mapping[UnitRef, int]  # what one benefit takes off each line unit


@dataclass(frozen=True, slots=True)
class CartView:
    """Cart lines indexed for the engine; built once per evaluation.

    What only some evaluations need (unit orders, ranks, bundles) is worked
    out on first use and kept in ``memo``, which promotions also use to share
    work on the cart's own prices (see spend_and_save).
    """

    cart: Cart
    lines: tuple[Line, ...]
    mains: tuple[int, ...]
    children: Mapping[int, tuple[int, ...]]  # main line -> child lines, by line_id
    per_unit: Mapping[int, int]  # child line -> units it has per main unit
    base: Prices
    # line ids are unique (a checked cart): then the units of one main line
    # sit together in both application orders, and ordering lines is enough
    unique_ids: bool = False
    # by line index: the side and modifier setting bits that matter to a main
    # line (3: it has a side, 12: a modifier; see compiled.child_bits)
    relevant: tuple[int, ...] = ()
    memo: dict[object, Any] = field(default_factory=dict)
    carried_memo: dict[int, tuple[tuple[UnitRef, bool], ...]] = field(default_factory=dict)

    def child_units(self, child: int, main_unit: int) -> range:
        share = self.per_unit[child]
        return range(main_unit * share, (main_unit + 1) * share)

    def unit_order(self, high_first: bool) -> tuple[UnitRef, ...]:
        """Every main unit in application order: by (unit price, line id,
        unit) rising, or by (-unit price, line id, unit)."""
        key = ("unit order", high_first)
        order: tuple[UnitRef, ...] | None = self.memo.get(key)
        if order is None:
            lines, sign = self.lines, -1 if high_first else 1
            units = [(m, k) for m in self.mains for k in range(lines[m].quantity)]
            order = self.memo[key] = tuple(
                sorted(
                    units,
                    key=lambda u: (sign * lines[u[0]].unit_price, lines[u[0]].line_id, u[1]),
                )
            )
        return order

    def ranks(self, high_first: bool) -> tuple[int, ...]:
        """Each main line's place in the application order (by line index, -1
        for a child line); orders units only when ``unique_ids``."""
        key = ("ranks", high_first)
        ranks: tuple[int, ...] | None = self.memo.get(key)
        if ranks is None:
            lines, sign = self.lines, -1 if high_first else 1
            places = [-1] * len(lines)
            by_price = sorted(
                self.mains, key=lambda m: (sign * lines[m].unit_price, lines[m].line_id)
            )
            for place, m in enumerate(by_price):
                places[m] = place
            ranks = self.memo[key] = tuple(places)
        return ranks

    def carried(self, main: int, unit: int) -> tuple[tuple[UnitRef, bool], ...]:
        """The child units one main unit carries, children by line id, each
        with whether it is a side (else a modifier).

        Kept once worked out: the base run and every promotion's layout ask
        for the same units, and this is the engine's innermost loop.
        """
        if not self.relevant[main]:
            return ()
        key = main << 32 | unit
        found = self.carried_memo.get(key)
        if found is None:
            lines, per_unit = self.lines, self.per_unit
            found = self.carried_memo[key] = tuple(
                [
                    ((child, j), lines[child].role == "side")
                    for child in self.children[main]
                    for j in range(unit * per_unit[child], (unit + 1) * per_unit[child])
                ]
            )
        return found


def view_cart(cart: Cart) -> CartView:
    lines = cart.lines
    position = {line.line_id: index for index, line in enumerate(lines)}
    mains = tuple(i for i, line in enumerate(lines) if line.role == "main")
    kids: dict[int, list[int]] = {m: [] for m in mains}
    per_unit: dict[int, int] = {}
    relevant = [0] * len(lines)
    for index, line in enumerate(lines):
        if line.role != "main":
            main = position[line.parent_line_id or ""]
            kids[main].append(index)
            per_unit[index] = line.quantity // lines[main].quantity
            relevant[main] |= 3 if line.role == "side" else 12
    children = {m: tuple(sorted(c, key=lambda i: lines[i].line_id)) for m, c in kids.items()}
    base = tuple((line.unit_price,) * line.quantity for line in lines)
    unique_ids = len(position) == len(lines)
    return CartView(cart, lines, mains, children, per_unit, base, unique_ids, tuple(relevant))


def spread(amount: int, refs: list[UnitRef], weights: list[int]) -> dict[UnitRef, int]:
    """``amount`` over the unit ``refs`` by their ``weights`` (largest remainder,
    ties to the earliest ref), leaving out units that get nothing."""
    return {ref: part for ref, part in zip(refs, split(amount, weights), strict=True) if part}


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
