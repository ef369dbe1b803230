"""Which cents a refund of some units gives back: pure arithmetic on a receipt.

Units are refunded from the end of the line: the last unit sold goes back
first. What a unit was given is its entry in the line's ``unit_discounts``,
so a refund reverses exactly what those units received, never an average.

A line's discount may come from several benefits. Each unit's discount is
split over the benefits in proportion to what each still has left on the
line (largest remainder, ties to the earlier benefit), walking the units in
refund order. That split depends only on the receipt, never on how the
refunds were batched, so refunding a line in several steps reverses, per
benefit and in total, exactly what one refund of all units would: the last
unit always takes what is left, and no share ever goes below zero.
"""

from __future__ import annotations

import msgspec

from pos_promo.engine.money import split
from pos_promo.model.receipt import LineAllocation

__all__ = ["UNATTRIBUTED", "UnitsBack", "refund_units", "unit_shares"]

UNATTRIBUTED = ""
"""Benefit key for discount a receipt does not attribute to any benefit (none today)."""


class UnitsBack(msgspec.Struct, frozen=True):
    """What refunding some units of one line gives back."""

    units: int
    amount: int  # money back to the customer: what those units were paid
    discount: int  # discount reversed
    benefits: dict[str, int]  # discount reversed per benefit id (only non-zero)


def unit_shares(line: LineAllocation) -> list[dict[str, int]]:
    """Per unit, in refund order (last unit first), the discount each benefit gave it."""
    weights = {share.benefit_id: share.amount for share in line.benefits}
    rest = sum(line.unit_discounts) - sum(weights.values())
    if rest > 0:
        weights[UNATTRIBUTED] = weights.get(UNATTRIBUTED, 0) + rest
    keys = list(weights)
    left = [weights[k] for k in keys]
    shares = []
    for unit in reversed(range(line.quantity)):
        parts = split(line.unit_discounts[unit], left)
        left = [have - part for have, part in zip(left, parts, strict=True)]
        shares.append({k: part for k, part in zip(keys, parts, strict=True) if part})
    return shares


def refund_units(line: LineAllocation, already: int, units: int) -> UnitsBack:
    """Refund ``units`` more units of ``line`` after ``already`` were refunded."""
    order = list(reversed(range(line.quantity)))[already : already + units]
    shares = unit_shares(line)[already : already + units]
    discount = sum(line.unit_discounts[u] for u in order)
    amount = line.unit_price * len(order) - discount
    benefits: dict[str, int] = {}
    for unit in shares:
        for key, part in unit.items():
            benefits[key] = benefits.get(key, 0) + part
    return UnitsBack(len(order), amount, discount, benefits)
