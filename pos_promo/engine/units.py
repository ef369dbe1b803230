"""A cart seen as units: every main unit with the share of its sides and
modifiers it carries (a bundle unit), and the net price of every line unit.

The prices the units carry, and taking a benefit off them, live in
:mod:`pos_promo.engine.prices` (compiled with the search); they are
re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from pos_promo.engine.prices import Allocation, Prices, UnitRef, apply, spread
from pos_promo.model.cart import Cart, Line

__all__ = ["Allocation", "CartView", "Prices", "UnitRef", "apply", "spread", "view_cart"]


class CartView(msgspec.Struct, frozen=True):
    """Cart lines indexed for the engine; built once per evaluation.

    What only some evaluations need (unit orders, ranks, bundles) is worked
    out on first use and kept in ``memo``, which promotions also use to share
    work on the cart's own prices (see spend_and_save). A frozen struct: a
    dataclass costs a till's start a millisecond to define.
    """

    cart: Cart
    lines: tuple[Line, ...]
    mains: tuple[int, ...]
    children: Mapping[int, tuple[int, ...]]  # main line -> child lines, by content
    per_unit: Mapping[int, int]  # child line -> units it has per main unit
    base: Prices
    # line ids are unique (a checked cart): then the units of one main line
    # sit together in both application orders, and ordering lines is enough
    unique_ids: bool = False
    # by line index: the side and modifier setting bits that matter to a main
    # line (3: it has a side, 12: a modifier; see compiled.child_bits)
    relevant: tuple[int, ...] = ()
    # those bits of every main line together: the roles the cart has children of
    present: int = 0
    memo: dict[object, Any] = msgspec.field(default_factory=dict)
    carried_memo: dict[int, tuple[tuple[UnitRef, bool], ...]] = msgspec.field(default_factory=dict)
    # promotion id -> the tier it meets on the cart's own prices (see
    # spend_and_save.base_saving): a dictionary of its own, not ``memo``
    # keyed by pairs, as thousands of pairs would be thousands of objects
    # for the garbage collector to count and walk while the cart is evaluated
    base_tiers: dict[str, Any] = msgspec.field(default_factory=dict)

    def child_units(self, child: int, main_unit: int) -> range:
        """The units of child line ``child`` that ride on unit ``main_unit`` of its main line
        (each main unit carries the same number)."""
        share = self.per_unit[child]
        return range(main_unit * share, (main_unit + 1) * share)

    def unit_order(self, high_first: bool, shares: int = 10) -> tuple[UnitRef, ...]:
        """Every main unit in application order (see :meth:`ranks`); the units
        of one line are identical bundles and keep their unit order."""
        shares &= self.present  # (a role no line of the cart has orders nothing)
        key = ("unit order", high_first, shares)
        order: tuple[UnitRef, ...] | None = self.memo.get(key)
        if order is None:
            ranks = self.ranks(high_first, shares)
            units = [(m, k) for m in self.mains for k in range(self.lines[m].quantity)]
            order = self.memo[key] = tuple(sorted(units, key=lambda u: (ranks[u[0]], u[1])))
        return order

    def ranks(self, high_first: bool, shares: int = 10) -> tuple[int, ...]:
        """Each main line's place in the application order (by line index, -1
        for a child line).

        A unit is ranked by its bundle's discountable price (the main plus
        the children that share the discount: ``shares`` holds the side
        shares bit 2 and the modifier shares bit 8, see
        compiled.child_bits), then by the main's price, then by item id,
        then by what else the line holds (:meth:`content`); a line id only
        separates bundles that are alike in every way, so it never changes
        a total (SPEC §4).
        """
        # the discount a role shares changes no worth when the cart has no
        # child of that role: such settings share one order
        shares &= self.present
        key = ("ranks", high_first, shares)
        ranks: tuple[int, ...] | None = self.memo.get(key)
        if ranks is None:
            lines, sign = self.lines, -1 if high_first else 1
            places = [-1] * len(lines)

            def worth(m: int) -> int:
                total = lines[m].unit_price
                for child in self.children[m]:
                    bit = 2 if lines[child].role == "side" else 8
                    if shares & bit:
                        total += lines[child].unit_price * self.per_unit[child]
                return total

            # by (worth, price, item id), which tells most lines apart; content
            # and line id are worked out only when some of those tie
            first = {
                m: (sign * worth(m), sign * lines[m].unit_price, lines[m].item_id)
                for m in self.mains
            }
            alike: dict[tuple[int, int, str], int] = {}
            for prefix in first.values():
                alike[prefix] = alike.get(prefix, 0) + 1
            if len(alike) == len(first):
                by_price = sorted(self.mains, key=first.__getitem__)
            else:
                # content and line id only for the lines that tie on the
                # prefix: a line alone on its prefix is placed by it (the
                # rest of its key is never compared)
                by_price = sorted(
                    self.mains,
                    key=lambda m: (
                        (*first[m], self.content(m), lines[m].line_id)
                        if alike[first[m]] > 1
                        else (*first[m], (), "")
                    ),
                )
            for place, m in enumerate(by_price):
                places[m] = place
            ranks = self.memo[key] = tuple(places)
        return ranks

    def content_order(self) -> tuple[int, ...]:
        """Every line index, by (:meth:`content`, line id): the order member
        discount and coupons split over, so that ties in a split fall the
        same way whatever the ids are.

        Sorted by the line's role, item, price and member price alone when
        those tell every line apart (each item once in the cart, the usual
        case): that prefix then decides the full order, and no line's
        content is worked out."""
        order: tuple[int, ...] | None = self.memo.get("content order")
        if order is None:
            lines = self.lines
            first = [
                (
                    line.role,
                    line.item_id,
                    line.unit_price,
                    -1 if line.member_unit_price is None else line.member_unit_price,
                )
                for line in lines
            ]
            if len(set(first)) == len(first):
                found = sorted(range(len(lines)), key=first.__getitem__)
            else:
                found = sorted(range(len(lines)), key=lambda i: (self.content(i), lines[i].line_id))
            order = self.memo["content order"] = tuple(found)
        return order

    def content(self, index: int) -> tuple[object, ...]:
        """What a line is, without its line ids: item, prices, categories, and
        for a main the content of its children; a canonical key that orders
        lines the same way whatever their ids are."""
        key = ("content", index)
        found: tuple[object, ...] | None = self.memo.get(key)
        if found is None:
            own = _own(self.lines[index], self.per_unit.get(index, 1))
            kids = tuple(self.content(c) for c in self.children.get(index, ()))
            found = self.memo[key] = (own, kids)
        return found

    def carried(self, main: int, unit: int) -> tuple[tuple[UnitRef, bool], ...]:
        """The child units one main unit carries, children in content order, each
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
    """The cart's units as the evaluation walks them: main lines, their children, units per main
    unit, and base prices, worked out once per evaluation (one walk over the lines, then
    one over the children: a child may come before its main)."""
    lines = cart.lines
    position: dict[str, int] = {}
    mains: list[int] = []
    others: list[int] = []
    base: list[tuple[int, ...]] = []
    for index, line in enumerate(lines):
        position[line.line_id] = index
        base.append((line.unit_price,) * line.quantity)
        if line.role == "main":
            mains.append(index)
        else:
            others.append(index)
    per_unit: dict[int, int] = {}
    relevant = [0] * len(lines)
    # children in content order (line id last), so that proration ties fall
    # the same way whatever the ids are; every main has an entry
    children: dict[int, tuple[int, ...]] = dict.fromkeys(mains, ())
    if others:
        kids: dict[int, list[int]] = {}  # only the mains that have children
        for index in others:
            line = lines[index]
            main = position[line.parent_line_id or ""]
            found = kids.get(main)
            if found is None:
                kids[main] = [index]
            else:
                found.append(index)
            per_unit[index] = line.quantity // lines[main].quantity
            relevant[main] |= 3 if line.role == "side" else 12
        for m, c in kids.items():
            if len(c) == 1:
                children[m] = (c[0],)
            elif len(c) == 2 and lines[c[0]].role != lines[c[1]].role:
                # a side and a modifier: the role leads the content, so it alone
                # orders them (the usual bundle: no content to work out)
                a, b = c
                children[m] = (a, b) if lines[a].role < lines[b].role else (b, a)
            else:
                children[m] = tuple(
                    sorted(c, key=lambda i: (_own(lines[i], per_unit[i]), lines[i].line_id))
                )
    unique_ids = len(position) == len(lines)
    present = 0
    for bits in relevant:
        present |= bits
    return CartView(
        cart,
        lines,
        tuple(mains),
        children,
        per_unit,
        tuple(base),
        unique_ids,
        tuple(relevant),
        present,
    )


def _own(line: Line, per_unit: int) -> tuple[object, ...]:
    """A line's own content, without its ids (see :meth:`CartView.content`)."""
    return (
        line.role,
        line.item_id,
        line.unit_price,
        -1 if line.member_unit_price is None else line.member_unit_price,
        tuple(sorted(line.category_ids)),
        per_unit,
    )
