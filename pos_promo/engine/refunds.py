"""Refunds re-evaluate what the customer keeps (SPEC §9, issue 10). Pure.

A partial refund is not the sum of what the returned units were given: the
kept units may no longer earn the discount (spend $100 save $10 with A $60 +
B $50; B goes back and A alone is $60, not $50). So the engine re-runs on
the kept units with the order's own receipt (the same campaign and coupon
versions, sharing plans, execution order, instant, member facts and
counts), restricted to the benefits the order applied: a benefit may change
tier, shrink or drop out, never join. The money given back is what the
customer has paid so far minus what the kept units now cost, never below
zero.

The caller (the till's store, or HQ replaying a refund) looks the versions
up and builds the index; everything here is arithmetic on values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence

import msgspec

from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import CampaignIndex
from pos_promo.errors import InvalidRefund
from pos_promo.model.cart import Cart, MemberCounts
from pos_promo.model.common import Sharing
from pos_promo.model.coupon import Coupon, ExecutionOrder
from pos_promo.model.order import RefundLine, TakenBack
from pos_promo.model.receipt import LineAllocation, Receipt
from pos_promo.model.result import EvaluationResult

__all__ = [
    "Settlement",
    "applied_benefits",
    "kept_cart",
    "reevaluate",
    "restricted_cart",
    "settle",
    "units_back",
]


def applied_benefits(receipt: Receipt) -> frozenset[str]:
    """Every benefit that gave the order something: member price, member
    discount, promotion ids and coupon ids (what its lines' shares name)."""
    return frozenset(share.benefit_id for line in receipt.lines for share in line.benefits)


def units_back(cart: Cart, held: Mapping[str, int], asked: Mapping[str, int]) -> dict[str, int]:
    """The units going back, by line: those ``asked`` (already checked against
    ``held``), plus the sides and modifiers the returned main units carry.

    A side or modifier goes back with its main unit: returning one of two
    lattes returns its syrups too. A child may also be returned alone, as
    long as what is kept of it is still a whole number per kept main unit
    (each kept latte keeps as many syrups as the others).
    """
    back = {line_id: units for line_id, units in asked.items() if units}
    for line in cart.lines:
        if line.role == "main" or line.parent_line_id is None:
            continue
        main = line.parent_line_id
        main_held, child_held = held.get(main, 0), held.get(line.line_id, 0)
        if main_held == 0:
            continue
        per_unit = child_held // main_held
        implied = back.get(main, 0) * per_unit
        if implied > back.get(line.line_id, 0):
            back[line.line_id] = implied
        main_kept = main_held - back.get(main, 0)
        child_kept = child_held - back.get(line.line_id, 0)
        if main_kept and child_kept % main_kept:
            raise InvalidRefund(
                f"$.lines[{line.line_id!r}]",
                f"must leave a whole number per kept unit of main line {main!r} "
                f"({main_kept} kept, {child_kept} of this line would be)",
                back.get(line.line_id, 0),
            )
    return back


def kept_cart(cart: Cart, kept: Mapping[str, int]) -> Cart:
    """The cart with each line at its kept quantity; lines kept at zero left out."""
    lines = tuple(
        msgspec.structs.replace(line, quantity=kept[line.line_id])
        for line in cart.lines
        if kept.get(line.line_id, 0) > 0
    )
    return msgspec.structs.replace(cart, lines=lines)


def restricted_cart(cart: Cart, applied: Collection[str]) -> Cart:
    """The cart offering only the member benefits and coupons the order applied:
    a member price or member discount the order did not use, or a presented
    coupon it did not redeem, must not join on a refund."""
    member = cart.member
    if member is not None and member.discount_rate_bp and "member_discount" not in applied:
        member = msgspec.structs.replace(member, discount_rate_bp=None)
    lines = cart.lines
    if "member_price" not in applied and any(line.member_unit_price is not None for line in lines):
        lines = tuple(msgspec.structs.replace(line, member_unit_price=None) for line in lines)
    coupons = tuple(c for c in cart.coupons if c in applied)
    return msgspec.structs.replace(cart, member=member, lines=lines, coupons=coupons)


def reevaluate(
    cart: Cart,
    kept: Mapping[str, int],
    applied: Collection[str],
    index: CampaignIndex,
    *,
    at: dt.datetime,
    counts: MemberCounts | None,
    plans: Mapping[str, Sharing],
    wallet: Mapping[str, Coupon],
    order: ExecutionOrder | None,
) -> EvaluationResult | None:
    """The kept units evaluated with the order's receipt; ``None`` if none are kept.

    ``index`` must hold only the campaign and coupon template versions the
    order applied (the caller looks them up by the receipt's refs).
    """
    if not any(kept.values()):
        return None
    cart = restricted_cart(kept_cart(cart, kept), applied)
    return evaluate(
        cart,
        index,
        at=at,
        counts=counts,
        plans=plans,
        wallet={cid: c for cid, c in wallet.items() if cid in applied},
        order=order,
    )


class Settlement(msgspec.Struct, frozen=True):
    """What one refund gives back and takes back (see RefundRecord)."""

    lines: tuple[RefundLine, ...]
    amount: int
    discount: int
    benefits: tuple[TakenBack, ...]
    paid_before: int
    kept_cost: int
    kept_discount_lost: int
    shortfall: int
    dropped: tuple[str, ...]
    kept: tuple[LineAllocation, ...]
    full: bool


def _standing(lines: Sequence[LineAllocation]) -> dict[str, int]:
    found: dict[str, int] = {}
    for line in lines:
        for share in line.benefits:
            found[share.benefit_id] = found.get(share.benefit_id, 0) + share.amount
    return found


def settle(
    held: Sequence[LineAllocation],
    back: Mapping[str, int],
    paid_before: int,
    kept: EvaluationResult | None,
) -> Settlement:
    """Compare the order as it stood (``held``: each line at the units held
    and their discounts) with the re-evaluation of what is kept.

    ``paid_before`` is what the customer has paid so far (the order's total
    minus the money earlier refunds gave back). Within a line the last units
    go back first; that only splits the figures per line, since every unit
    of a line is alike and the money back is decided by the totals.
    """
    after = {line.line_id: line for line in kept.lines} if kept is not None else {}
    returned: list[RefundLine] = []
    state: list[LineAllocation] = []
    lost = 0
    for line in held:
        units = back.get(line.line_id, 0)
        stays = line.quantity - units
        discounts = line.unit_discounts
        if units:
            taken = sum(discounts[stays:])
            returned.append(RefundLine(line.line_id, units, line.unit_price * units - taken, taken))
        now = after.get(line.line_id)
        new_units = now.unit_discounts if now is not None else ()
        lost += sum(discounts[:stays]) - sum(new_units)
        state.append(
            LineAllocation(
                line.line_id,
                line.item_id,
                stays,
                line.unit_price,
                tuple(new_units),
                now.benefits if now is not None else (),
            )
        )
    before = _standing(held)
    standing = _standing(state)
    changes = {
        b: before.get(b, 0) - standing.get(b, 0) for b in sorted(before.keys() | standing.keys())
    }
    taken_back = tuple(TakenBack(b, v) for b, v in changes.items() if v)
    kept_cost = kept.total if kept is not None else 0
    applied_now = {a.id for a in kept.applied} if kept is not None else set()
    return Settlement(
        lines=tuple(returned),
        amount=max(0, paid_before - kept_cost),
        discount=sum(changes.values()),
        benefits=taken_back,
        paid_before=paid_before,
        kept_cost=kept_cost,
        kept_discount_lost=lost,
        shortfall=max(0, kept_cost - paid_before),
        dropped=tuple(b for b in sorted(before) if before[b] and b not in applied_now),
        kept=tuple(state),
        full=all(line.quantity == 0 for line in state),
    )
