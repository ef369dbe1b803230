"""What an order adds to each cumulative gift activity (SPEC §6), and the preview.

Pure functions over the cart, its :class:`EvaluationResult`, the payments
and the member's standing (total and granted ordinals); the store layer
reads and writes those. The steps:

1. the audience rules every campaign kind shares decide whether the
   activity runs for this cart at all (:func:`check_audience`), and an
   accrual always needs an identified member;
2. a benefit the activity does not share with (a coupon, a promotion,
   member price or member discount the order *used*) voids the whole
   order's accrual for that activity;
3. the eligible lines are the main lines the item scope selects plus every
   side and modifier of theirs (children follow their main);
4. the measure is what the member paid for them after every discount
   (spend), or their main units not made free (count), times the share of
   the order not paid with a non-shareable prepaid balance or points tender,
   rounded half up (SPEC §1).

The basis of step 3-4 is kept with the order (:class:`AccrualBasis`) so a
refund recomputes the standing accrual from the units left, and the
difference is exactly what it takes back.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

import msgspec

from pos_promo.engine.audience import Blocked, Context, check_audience
from pos_promo.engine.compiled import AudienceFacts, compile_audience, store_in_scope
from pos_promo.engine.grants import earned, next_target, to_grant
from pos_promo.engine.sharing import Family, Rules, allows, resolve
from pos_promo.model.base import CampaignBase
from pos_promo.model.cart import Cart, StoreContext
from pos_promo.model.common import ShareRule, Sharing
from pos_promo.model.coupon import CouponTemplate
from pos_promo.model.gift import AccrualBasis, CumulativeGift
from pos_promo.model.order import Payment
from pos_promo.model.result import AccrualPreview, Applied, EvaluationResult, GiftPreview

__all__ = [
    "ASSET_TENDERS",
    "CompiledActivity",
    "LineUnits",
    "accrual_basis",
    "compile_activities",
    "preview",
    "prorate",
    "result_units",
    "standing",
]

ASSET_TENDERS = frozenset({"prepaid_balance", "points"})
"""Tenders an activity may refuse to accrue on (the vendor's "membership assets")."""

LineUnits = tuple[int, tuple[int, ...], int]
"""A line as sold: unit price, each unit's discount (unit order), units still held."""

_ALL = ShareRule("all")
_FAMILIES: dict[str, Family] = {
    "member_price": "member_price",
    "member_discount": "member_discount",
    "coupon": "coupon",
}


class CompiledActivity(msgspec.Struct, frozen=True):
    """An activity as one store sees it: the facts the shared audience checks read."""

    campaign: CumulativeGift
    id: str
    audience: AudienceFacts  # what the shared audience checks read
    # resolved once: the stacking rules (None: its sharing plan is not known
    # here) and the tenders whose share does not accrue
    rules: Rules | None = None
    refused: frozenset[str] = frozenset()


def compile_activities(
    campaigns: Iterable[CampaignBase],
    store: StoreContext,
    plans: Mapping[str, Sharing] | None = None,
) -> tuple[CompiledActivity, ...]:
    """The store's activities (archived ones and other stores' left out), by id.

    ``plans`` are the sharing plans the till knows; an activity naming
    another one accrues nothing until it arrives (``sharing_plan_unknown``).
    """
    plans = plans or {}
    found = []
    for campaign in campaigns:
        if not isinstance(campaign, CumulativeGift) or campaign.status == "archived":
            continue
        if not store_in_scope(campaign, store):
            continue
        named = campaign.sharing_plan
        rules = (
            None
            if named is not None and named not in plans
            else resolve("gift", campaign.sharing, plans.get(named) if named else None)
        )
        assets = campaign.assets
        refused = {"prepaid_balance"} if not assets.prepaid_balance else set()
        refused |= {"points"} if not assets.points else set()
        found.append(
            CompiledActivity(
                campaign=campaign,
                id=campaign.id,
                audience=compile_audience(campaign, store, "cumulative_gift"),
                rules=rules,
                refused=frozenset(refused),
            )
        )
    found.sort(key=lambda a: a.id)
    return tuple(found)


def _family(applied: Applied) -> Family:
    return _FAMILIES.get(applied.kind, "promotion")


def _shared(rules: Rules, result: EvaluationResult) -> Blocked | None:
    for applied in result.applied:
        family = _family(applied)
        other = applied.template_id or applied.id
        if not allows(rules, family, other):
            return Blocked(
                "not_shareable", {"family": family, "other": other, "other_name": applied.name}
            )
    return None


def _eligible_lines(activity: CumulativeGift, cart: Cart) -> tuple[str, ...] | None:
    """Main lines in scope, and (for spend) the children that follow them;
    ``None`` when that is every line of the cart."""
    scope = activity.items
    count = activity.condition.measure == "count"
    if scope.all_items and not scope.excluded_item_ids:
        if not count:
            return None
        return tuple(sorted(line.line_id for line in cart.lines if line.role == "main"))
    mains = set()
    for line in cart.lines:
        if line.role != "main" or line.item_id in scope.excluded_item_ids:
            continue
        if (
            scope.all_items
            or line.item_id in scope.item_ids
            or not scope.category_ids.isdisjoint(line.category_ids)
        ):
            mains.add(line.line_id)
    if count:
        return tuple(sorted(mains))
    return tuple(
        sorted(
            line.line_id
            for line in cart.lines
            if line.line_id in mains or (line.role != "main" and line.parent_line_id in mains)
        )
    )


def accrual_basis(
    activity: CompiledActivity,
    ctx: Context,
    result: EvaluationResult,
    payments: Sequence[Payment],
) -> AccrualBasis | Blocked:
    """What the order accrues to ``activity``, or why it accrues nothing."""
    blocked = check_audience(activity.audience, ctx)
    if blocked is not None:
        return blocked
    if ctx.cart.member is None:
        return Blocked("member_required", {"for": "accrual"})
    gift = activity.campaign
    if activity.rules is None:
        return Blocked("sharing_plan_unknown", {"plan": gift.sharing_plan or ""})
    blocked = _shared(activity.rules, result)
    if blocked is not None:
        return blocked
    lines = _eligible_lines(gift, ctx.cart)
    if lines is not None and not lines:
        return Blocked("no_eligible_items")
    refused = activity.refused
    off = sum(p.amount for p in payments if p.tender in refused) if refused else 0
    paid = result.total
    return AccrualBasis(
        gift.id,
        gift.version,
        gift.condition.measure,
        paid,
        max(0, paid - off),
        lines or (),
        lines is None,
    )


def prorate(measure: int, shareable: int, paid: int) -> int:
    """``measure * shareable / paid``, rounded half up; nothing when nothing was paid."""
    if paid <= 0 or measure <= 0:
        return 0
    if shareable >= paid:
        return measure
    return (2 * measure * shareable + paid) // (2 * paid)


def standing(basis: AccrualBasis, lines: Mapping[str, LineUnits]) -> int:
    """The accrual of the units still held: what the order counts for now."""
    measure = 0
    for line_id in lines if basis.all_lines else basis.lines:
        found = lines.get(line_id)
        if found is None:
            continue
        price, discounts, held = found
        for k in range(held):
            net = price - (discounts[k] if k < len(discounts) else 0)
            if basis.measure == "spend":
                measure += net
            elif net > 0:
                measure += 1
    return prorate(measure, basis.shareable, basis.paid)


def result_units(result: EvaluationResult) -> dict[str, LineUnits]:
    """Every line of a result as sold, all units held."""
    return {
        line.line_id: (
            line.subtotal // line.quantity if line.quantity else 0,
            line.unit_discounts,
            line.quantity,
        )
        for line in result.lines
    }


def preview(
    activity: CompiledActivity,
    verdict: AccrualBasis | Blocked,
    adds: int,
    total: int,
    granted: Collection[int],
    templates: Mapping[str, CouponTemplate] | None = None,
) -> AccrualPreview:
    """How the order moves the member toward the activity's next gift.

    Facts only (the edge words ``progress`` and ``message``); the gifts
    carry their template's name from ``templates`` where it is known.
    """
    gift = activity.campaign
    condition = gift.condition
    measure, threshold = condition.measure, condition.threshold
    reaches = total + adds
    once_done = condition.repeat == "once" and earned(condition, reaches) >= 1
    target = next_target(condition, reaches)
    triggers = tuple(to_grant(condition, reaches, granted))
    counts: dict[str, int] = {}
    for item in gift.gifts:
        if triggers:
            counts[item.template_id] = counts.get(item.template_id, 0) + item.quantity * len(
                triggers
            )
    known = templates or {}
    gifts = tuple(
        GiftPreview(t, q, known[t].name if t in known else "") for t, q in sorted(counts.items())
    )
    if isinstance(verdict, Blocked):
        return AccrualPreview(
            gift.id,
            gift.name,
            measure,
            0,
            total,
            total,
            target,
            reason=verdict.reason,  # type: ignore[arg-type]
            params=verdict.params,
        )
    return AccrualPreview(
        gift.id,
        gift.name,
        measure,
        adds,
        total,
        reaches,
        target,
        triggers=triggers,
        gifts=gifts,
        params={"given": threshold} if once_done and not triggers else {},
    )
