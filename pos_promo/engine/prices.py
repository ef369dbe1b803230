"""Prices as the engine walks them, and the discounts taken off them.

Benefits run one after another, each on the prices the earlier ones left
(SPEC §5), so prices are an immutable :data:`Prices` value: applying a
benefit makes a new one and leaves the old for the other branches of the
stacking search. Spreading a discount over units and taking it off prices
run for every benefit the search takes (a store-wide one on every unit of
the cart), so this module is compiled with the search (see
:mod:`pos_promo.native`); :mod:`pos_promo.engine.units` re-exports it.
"""

from __future__ import annotations

from collections.abc import Mapping

from pos_promo.engine.money import split

__all__ = ["Allocation", "Prices", "UnitRef", "apply", "spread"]

UnitRef = tuple[int, int]  # (line index in the cart, unit index within the line)
Prices = tuple[tuple[int, ...], ...]  # net price of each unit of each line
Allocation = Mapping[UnitRef, int]  # what one benefit takes off each line unit


def spread(amount: int, refs: list[UnitRef], weights: list[int]) -> dict[UnitRef, int]:
    """``amount`` over the unit ``refs`` by their ``weights`` (largest remainder,
    ties to the earliest ref), leaving out units that get nothing."""
    parts = split(amount, weights)
    if len(parts) != len(refs):
        raise ValueError(f"{len(refs)} units and {len(parts)} weights")
    found: dict[UnitRef, int] = {}
    # by index, not zip(..., strict=True): compiled, a call with a keyword
    # goes through a generic call, and this runs for every bundle a fill takes
    for k in range(len(parts)):
        part = parts[k]
        if part:
            found[refs[k]] = part
    return found


def apply(prices: Prices, allocation: dict[UnitRef, int]) -> Prices:
    """The prices left once ``allocation`` is taken off: the rows of the lines
    it does not touch are the very rows of ``prices`` (the search tells an
    untouched line by identity). A ``dict`` (what every outcome holds), so
    that compiled code walks its items directly, not through a generic
    iterator (~1,600 instructions a call on 30 lines)."""
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
