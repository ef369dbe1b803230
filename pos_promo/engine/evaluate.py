"""One cart against the campaign index: the whole answer, and nothing written.

Pure: the instant, the store, the member's counts and the sharing plans all
come in as arguments; the same inputs give the same result whatever the
order of lines or campaigns.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from operator import attrgetter

from pos_promo.codec import load_zone
from pos_promo.engine.audience import Blocked, Context, check_audience
from pos_promo.engine.clock import local_moment
from pos_promo.engine.compiled import Compiled
from pos_promo.engine.index import CampaignIndex
from pos_promo.engine.money import format_money
from pos_promo.engine.selection import Candidate, select
from pos_promo.engine.spend_and_save import Miss, Outcome, eligible_mains, run, upper_bound
from pos_promo.engine.units import CartView, Prices, apply, view_cart
from pos_promo.errors import InvalidCart
from pos_promo.model.cart import Cart, MemberCounts
from pos_promo.model.common import ShareRule, Sharing
from pos_promo.model.result import (
    Applied,
    BenefitShare,
    EvaluationResult,
    LineResult,
    NotApplied,
)

__all__ = ["DEFAULT_PROMOTION_SHARING", "assess", "evaluate", "explain"]

DEFAULT_PROMOTION_SHARING = ShareRule("none")
NO_COUNTS = MemberCounts()
NO_ITEMS = Miss("no_eligible_items")


@dataclass(frozen=True, slots=True)
class _Setup:
    ctx: Context
    view: CartView
    plans: Mapping[str, Sharing]


def _setup(
    cart: Cart,
    index: CampaignIndex,
    at: dt.datetime | None,
    counts: MemberCounts | None,
    plans: Mapping[str, Sharing] | None,
) -> _Setup:
    instant = at or cart.at
    if instant is None:
        raise InvalidCart("$.at", "is required: the engine never reads the clock, pass the instant")
    if instant.tzinfo is None:
        raise InvalidCart("$.at", "must carry a UTC offset", instant.isoformat())
    if cart.store_id != index.store.id:
        raise InvalidCart(
            "$.store_id", f"must be this engine's store {index.store.id!r}", cart.store_id
        )
    now = local_moment(instant, load_zone(index.store.timezone))
    participations = (counts or NO_COUNTS).participations
    return _Setup(Context(cart, index.store, now, participations), view_cart(cart), plans or {})


def _promotion_rule(c: Compiled, plans: Mapping[str, Sharing]) -> ShareRule:
    own = c.sharing.promotions
    if own is not None:
        return own
    plan = plans.get(c.campaign.sharing_plan or "")
    if plan is not None and plan.promotions is not None:
        return plan.promotions
    return DEFAULT_PROMOTION_SHARING


def _allows(rule: ShareRule, other: str) -> bool:
    if rule.mode == "all":
        return True
    if rule.mode == "none":
        return False
    return other not in rule.except_ids


def _miss_message(miss: Miss, currency: str) -> str:
    if miss.reason == "threshold_not_met":
        if miss.measure == "money":
            reached = format_money(miss.reached or 0, currency)
            needed = format_money(miss.needed or 0, currency)
            return f"{reached} of {needed} on eligible items."
        return f"{miss.reached} of {miss.needed} eligible items."
    if miss.reason == "no_eligible_items":
        return "No item in the cart is part of this promotion."
    return "The eligible items have nothing left to discount."


def _not_applied(c: Compiled, reason: str, message: str, **extra: object) -> NotApplied:
    return NotApplied(c.id, c.kind, reason, message, **extra)  # type: ignore[arg-type]


def assess(c: Compiled, setup: _Setup, prices: Prices) -> Blocked | Miss | Outcome:
    """One campaign on its own: blocked by audience, missing, or what it gives."""
    return _assess(c, setup, prices, None)[0]


def _assess(
    c: Compiled, setup: _Setup, prices: Prices, mains: list[int] | None
) -> tuple[Blocked | Miss | Outcome, list[int]]:
    """:func:`assess`, with the eligible main lines (``mains`` when the index
    already found them) for the runs that follow."""
    blocked = check_audience(c, setup.ctx)
    if blocked:
        return blocked, []
    plan = c.campaign.sharing_plan
    if plan is not None and plan not in setup.plans:
        return _unknown_plan(plan), []
    if mains is None:
        mains = eligible_mains(c, setup.view)
    if not mains:
        return Miss("no_eligible_items"), mains
    return run(c, setup.view, prices, mains=mains), mains


def _unknown_plan(plan: str) -> Blocked:
    return Blocked("sharing_plan_unknown", f"Its sharing plan {plan!r} is not known here yet.")


def _explained(c: Compiled, verdict: Blocked | Miss, currency: str) -> NotApplied:
    if isinstance(verdict, Blocked):
        return _not_applied(c, verdict.reason, verdict.message)
    return _not_applied(
        c,
        verdict.reason,
        _miss_message(verdict, currency),
        needed=verdict.needed,
        reached=verdict.reached,
    )


def evaluate(
    cart: Cart,
    index: CampaignIndex,
    *,
    at: dt.datetime | None = None,
    counts: MemberCounts | None = None,
    plans: Mapping[str, Sharing] | None = None,
) -> EvaluationResult:
    """Evaluate ``cart`` at the instant ``at`` (default: ``cart.at``)."""
    setup = _setup(cart, index, at, counts, plans)
    view, currency = setup.view, index.store.currency
    not_applied: list[NotApplied] = []
    standalone: list[Outcome] = []
    compiled: list[Compiled] = []
    eligible: list[list[int]] = []
    considered, hits = index.lookup(cart)
    ctx, known_plans, base = setup.ctx, setup.plans, view.base
    for c in considered:
        blocked = check_audience(c, ctx)
        if blocked is not None:
            not_applied.append(NotApplied(c.id, c.kind, blocked.reason, blocked.message))  # type: ignore[arg-type]
            continue
        plan = c.campaign.sharing_plan
        if plan is not None and plan not in known_plans:
            blocked = _unknown_plan(plan)
            not_applied.append(NotApplied(c.id, c.kind, blocked.reason, blocked.message))  # type: ignore[arg-type]
            continue
        mains = hits.get(id(c))
        if mains is None:
            mains = eligible_mains(c, view)
        verdict: Miss | Outcome = run(c, view, base, mains=mains) if mains else NO_ITEMS
        if not isinstance(verdict, Outcome):
            not_applied.append(_explained(c, verdict, currency))
            continue
        if not c.auto_apply and c.id not in cart.requested_promotions:
            saves = format_money(verdict.amount, currency)
            not_applied.append(
                _not_applied(c, "manual_only", f"Available on request: would save {saves}.")
            )
            continue
        standalone.append(verdict)
        compiled.append(c)
        eligible.append(mains)
    # (not ``requested - by_id.keys()``: that walks every key of the index)
    for wanted in sorted(w for w in cart.requested_promotions if w not in index.by_id):
        not_applied.append(
            NotApplied(
                wanted, "unknown", "unknown_campaign", f"No campaign {wanted!r} is known here."
            )
        )
    compatible = _compatibility(compiled, setup.plans)
    cands = [
        Candidate(
            c.id,
            c.priority,
            False,
            alone,
            functools.partial(run, c, view, mains=mains),
            # alone, it runs first and gives exactly that; combined, it may give more
            upper_bound(c, view, mains) if compatible[i] else alone.amount,
        )
        for i, (c, alone, mains) in enumerate(zip(compiled, standalone, eligible, strict=True))
    ]
    chosen = select(cands, compatible, view.base)
    picked = {i for i, _ in chosen.picked}
    in_order = sorted(picked)
    lost: dict[int, str] = {}  # picked index -> the message of those it beat
    for i, c in enumerate(compiled):
        if i in picked:
            continue
        rival = None
        for j in in_order:
            if not compatible[i] >> j & 1:
                rival = j
                break
        if rival is not None:
            winner = compiled[rival]
            message = lost.get(rival)
            if message is None:
                name = winner.campaign.name
                label = f"{name!r} ({winner.id})" if name else winner.id
                message = lost[rival] = f"Cannot be combined with {label}, which saves more."
            not_applied.append(
                NotApplied(c.id, c.kind, "not_shareable", message, lost_to=winner.id)
            )
            continue
        before = view.base  # the prices the benefits ahead of it in execution order left
        for j, out in chosen.picked:
            if j < i:
                before = apply(before, out.allocation)
        after = run(c, view, before, mains=eligible[i])
        if isinstance(after, Miss):
            explained = _explained(c, after, currency)
            not_applied.append(
                NotApplied(
                    explained.id,
                    explained.kind,
                    explained.reason,
                    "After the discounts before it: "
                    + explained.message[0].lower()
                    + explained.message[1:],
                    needed=after.needed,
                    reached=after.reached,
                )
            )
        else:
            not_applied.append(
                _not_applied(c, "not_best", "A combination without it saves the customer more.")
            )
    applied = tuple(
        Applied(
            compiled[i].id,
            compiled[i].kind,
            compiled[i].campaign.name,
            out.amount,
            version=compiled[i].campaign.version,
            tier=out.tier,
            capped=out.capped,
        )
        for i, out in chosen.picked
    )
    lines = _line_results(view, chosen.prices, [(compiled[i].id, out) for i, out in chosen.picked])
    subtotal = sum(line.subtotal for line in lines)
    discount = sum(line.discount for line in lines)
    return EvaluationResult(
        order_id=cart.order_id,
        store_id=cart.store_id,
        at=at or cart.at,  # type: ignore[arg-type]
        currency=currency,
        subtotal=subtotal,
        total_discount=discount,
        total=subtotal - discount,
        lines=lines,
        applied=applied,
        not_applied=tuple(sorted(not_applied, key=attrgetter("id"))),
        selection="exact" if chosen.exact else "bounded",
    )


def _compatibility(compiled: list[Compiled], plans: Mapping[str, Sharing]) -> list[int]:
    """For each candidate, the bit mask of the others it may be combined with.

    Two combine only if neither forbids the other, so a candidate whose rule
    is ``none`` combines with nobody and only the others need comparing.
    """
    rules = [_promotion_rule(c, plans) for c in compiled]
    compatible = [0] * len(compiled)
    open_ = [i for i, rule in enumerate(rules) if rule.mode != "none"]
    for i in open_:
        mask = 0
        rule, own = rules[i], compiled[i].id
        for j in open_:
            if j != i and _allows(rule, compiled[j].id) and _allows(rules[j], own):
                mask |= 1 << j
        compatible[i] = mask
    return compatible


def _line_results(
    view: CartView, prices: Prices, outcomes: list[tuple[str, Outcome]]
) -> tuple[LineResult, ...]:
    taken: list[tuple[str, dict[int, int]]] = []  # benefit id, what it took off each line
    for benefit_id, out in outcomes:
        sums: dict[int, int] = {}
        for (li, _unit), v in out.allocation.items():
            sums[li] = sums.get(li, 0) + v
        taken.append((benefit_id, sums))
    base = view.base
    results = []
    for index, line in enumerate(view.lines):
        nets = prices[index]
        if nets is base[index]:  # untouched by every benefit
            units: tuple[int, ...] = (0,) * line.quantity
        else:
            units = tuple(line.unit_price - net for net in nets)
        shares = []
        for benefit_id, sums in taken:
            amount = sums.get(index, 0)
            if amount:
                shares.append(BenefitShare(benefit_id, amount))
        subtotal = line.unit_price * line.quantity
        discount = sum(units)
        results.append(
            LineResult(
                line.line_id,
                line.item_id,
                line.quantity,
                subtotal,
                discount,
                subtotal - discount,
                tuple(shares),
                units,
            )
        )
    return tuple(results)


def explain(
    cart: Cart,
    index: CampaignIndex,
    campaign_id: str,
    *,
    at: dt.datetime | None = None,
    counts: MemberCounts | None = None,
    plans: Mapping[str, Sharing] | None = None,
) -> Applied | NotApplied:
    """Why one campaign, any campaign, does or does not apply to ``cart`` on its own."""
    from pos_promo.errors import UnknownCampaign

    c = index.by_id.get(campaign_id)
    if c is None:
        raise UnknownCampaign(campaign_id)
    setup = _setup(cart, index, at, counts, plans)
    verdict = assess(c, setup, setup.view.base)
    if isinstance(verdict, Outcome):
        return Applied(
            c.id,
            c.kind,
            c.campaign.name,
            verdict.amount,
            version=c.campaign.version,
            tier=verdict.tier,
            capped=verdict.capped,
        )
    return _explained(c, verdict, index.store.currency)
