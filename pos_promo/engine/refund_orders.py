"""What one refund of a committed order gives back, decided without I/O.

The embedded :class:`~pos_promo.embedded.Engine` orchestrates a refund
(:mod:`pos_promo.till.refunds`): the store reads the order as it was sold
(cart, receipt, total, earlier refunds, the versions its receipt names),
this module checks the request and decides the refund record, and the
store records exactly that (:mod:`pos_promo.store.refunds`). Two ways to
decide, so the store never needs to know which arithmetic applies:

* :func:`reevaluated_refund`: the kept units re-evaluated with the order's
  own receipt (:mod:`pos_promo.engine.refunds`);
* :func:`reversed_refund`: for an order of an earlier release whose
  versions this till no longer has, the returned units' own discounts
  (:mod:`pos_promo.engine.reversal`), as that release did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import msgspec

from pos_promo.engine.index import build_index
from pos_promo.engine.refunds import applied_benefits, reevaluate, settle, units_back
from pos_promo.engine.reversal import UNATTRIBUTED, refund_units
from pos_promo.errors import InvalidRefund, RefundExceedsSale
from pos_promo.model.campaign import Campaign
from pos_promo.model.cart import Cart, StoreContext
from pos_promo.model.coupon import ExecutionOrder, SharingPlan
from pos_promo.model.order import RefundLine, RefundRecord, TakenBack
from pos_promo.model.receipt import LineAllocation, Receipt

__all__ = [
    "KeptVersions",
    "RefundKey",
    "reevaluated_refund",
    "requested_units",
    "reversed_refund",
]


class RefundKey(NamedTuple):
    """Who a refund record is: its id, its order, its place among the
    order's refunds, and the caller's instant (the engine reads no clock)."""

    refund_id: str
    order_id: str
    seq: int
    at: dt.datetime | None


class KeptVersions(msgspec.Struct, frozen=True):
    """The versions an order's receipt names, as the till kept them: the
    campaigns and coupon templates it applied, its sharing plans by id and
    its execution order. A re-evaluation must run on exactly these."""

    campaigns: Sequence[Campaign] = ()
    plans: Mapping[str, SharingPlan] = msgspec.field(default_factory=dict)
    order: ExecutionOrder | None = None


def requested_units(
    order_id: str, lines: Mapping[str, int] | None, remaining: Mapping[str, int]
) -> dict[str, int]:
    """Line id -> units to refund now, checked against what the order still holds.

    ``None`` asks for everything left; a line the order does not have, a
    count that is not a whole number >= 1 or more units than are left is
    refused with the line's JSON path.
    """
    if lines is None:
        wanted = {line_id: left for line_id, left in remaining.items() if left}
        if not wanted:
            raise RefundExceedsSale(order_id, None, 0, 0)
        return wanted
    if not lines:
        raise InvalidRefund("$.lines", "must name at least one line (or be null for all)", {})
    for line_id, units in lines.items():
        if line_id not in remaining:
            raise InvalidRefund(
                f"$.lines[{line_id!r}]", f"names no line of order {order_id!r}", line_id
            )
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise InvalidRefund(f"$.lines[{line_id!r}]", "must be a whole number >= 1", units)
        if units > remaining[line_id]:
            raise RefundExceedsSale(order_id, line_id, units, remaining[line_id])
    return dict(lines)


def reevaluated_refund(
    store: StoreContext,
    cart: Cart,
    receipt: Receipt,
    held: Sequence[LineAllocation],
    asked: Mapping[str, int],
    paid_before: int,
    versions: KeptVersions,
    key: RefundKey,
) -> RefundRecord:
    """The refund decided by re-evaluating what the customer keeps.

    ``held`` is the order as the last refund left it (the receipt's lines
    before the first); ``paid_before`` what the customer has paid so far.
    The index is built for the store at the order's own time zone, from
    the kept versions only, so the re-evaluation sees what the sale saw.
    """
    held_units = {line.line_id: line.quantity for line in held}
    back = units_back(cart, held_units, asked)
    kept = {line_id: units - back.get(line_id, 0) for line_id, units in held_units.items()}
    inputs = receipt.inputs
    context = msgspec.structs.replace(store, timezone=inputs.timezone)
    result = reevaluate(
        cart,
        kept,
        applied_benefits(receipt),
        build_index(versions.campaigns, context),
        at=inputs.at,
        counts=inputs.counts,
        plans={pid: plan.sharing for pid, plan in versions.plans.items()},
        wallet={coupon.id: coupon for coupon in inputs.wallet},
        order=versions.order,
    )
    done = settle(held, back, paid_before, result)
    return RefundRecord(
        refund_id=key.refund_id,
        order_id=key.order_id,
        seq=key.seq,
        lines=done.lines,
        amount=done.amount,
        discount=done.discount,
        benefits=done.benefits,
        order_fully_refunded=done.full,
        at=key.at,
        paid_before=done.paid_before,
        kept_cost=done.kept_cost,
        kept_discount_lost=done.kept_discount_lost,
        shortfall=done.shortfall,
        dropped=done.dropped,
        kept=done.kept,
        reevaluated=True,
    )


def reversed_refund(
    receipt: Receipt,
    refunded: Mapping[str, int],
    asked: Mapping[str, int],
    remaining: Mapping[str, int],
    key: RefundKey,
) -> RefundRecord:
    """The earlier release's arithmetic: the returned units' own discounts.

    ``refunded`` counts the units earlier refunds took per line, so the
    next units back are the ones before them (the last sold goes first).
    """
    back_lines: list[RefundLine] = []
    benefits: dict[str, int] = {}
    for line in receipt.lines:  # receipt order, so records read like the order
        units = asked.get(line.line_id)
        if not units:
            continue
        back = refund_units(line, refunded.get(line.line_id, 0), units)
        back_lines.append(RefundLine(line.line_id, back.units, back.amount, back.discount))
        for benefit, part in back.benefits.items():
            benefits[benefit] = benefits.get(benefit, 0) + part
    amount = sum(x.amount for x in back_lines)
    return RefundRecord(
        refund_id=key.refund_id,
        order_id=key.order_id,
        seq=key.seq,
        lines=tuple(back_lines),
        amount=amount,
        discount=sum(x.discount for x in back_lines),
        benefits=tuple(TakenBack(k, v) for k, v in sorted(benefits.items()) if k != UNATTRIBUTED),
        order_fully_refunded=all(remaining[k] == asked.get(k, 0) for k in remaining),
        at=key.at,
        reevaluated=False,
    )
