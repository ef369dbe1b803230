"""Building the evaluation receipt a committed order keeps (SPEC §9).

It records every campaign the engine considered for the cart with the
version it had, and the version of each sharing plan those campaigns name,
so HQ can replay the order against those versions and flag a divergence;
the inputs audience rules looked at; and each line's allocation per unit
and per benefit, so refunds never consult the live cache. A presented
coupon is listed by its template (the campaign HQ replays), and the wallet
entries the engine saw are kept with the inputs; member price and member
discount are not campaigns and are not listed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from pos_promo.engine.index import CampaignIndex
from pos_promo.model.cart import Cart, MemberCounts
from pos_promo.model.coupon import Coupon, ExecutionOrder
from pos_promo.model.receipt import (
    CampaignRef,
    LineAllocation,
    PlanRef,
    Receipt,
    ReceiptInputs,
)
from pos_promo.model.result import EvaluationResult

__all__ = ["build_receipt"]


def build_receipt(
    cart: Cart,
    result: EvaluationResult,
    index: CampaignIndex,
    local_date: dt.date,
    wallet: Mapping[str, Coupon] | None = None,
    order: ExecutionOrder | None = None,
    plans: Mapping[str, int] | None = None,
    counts: MemberCounts | None = None,
) -> Receipt:
    """``wallet``: the entries the evaluation saw for the presented coupons;
    ``order``: the execution order it ran with; ``plans``: the version of
    every sharing plan the till had, by id; ``counts``: the member's counts
    it used (kept for the promotions it applied, which a refund re-runs)."""
    wallet = wallet or {}
    refs: dict[str, CampaignRef] = {}
    for a in result.applied:
        if a.kind == "coupon":  # the coupon's template is the campaign to replay
            refs[a.template_id or a.id] = CampaignRef(a.template_id or a.id, a.version, True)
        elif a.kind not in ("member_price", "member_discount"):
            refs[a.id] = CampaignRef(a.id, a.version, True)
    for item in result.not_applied:
        known = index.by_id.get(item.id)
        if known is not None:
            refs.setdefault(item.id, CampaignRef(item.id, known.campaign.version, False))
            continue
        coupon = wallet.get(item.id) if item.kind == "coupon" else None
        template = index.templates.get(coupon.template_id) if coupon is not None else None
        if template is not None:
            refs.setdefault(template.id, CampaignRef(template.id, template.version, False))
    plans = plans or {}
    named = set()
    for ref in refs.values():
        known = index.by_id.get(ref.id)
        campaign = known.campaign if known is not None else index.templates.get(ref.id)
        if campaign is not None and campaign.sharing_plan is not None:
            named.add(campaign.sharing_plan)
    member = cart.member
    used = None
    if counts is not None:
        held = counts.participations
        used = MemberCounts({a.id: held[a.id] for a in result.applied if a.id in held})
    inputs = ReceiptInputs(
        at=result.at,
        local_date=local_date,
        store_id=cart.store_id,
        timezone=index.store.timezone,
        channel=cart.channel,
        service_type=cart.service_type,
        member_id=member.id if member else None,
        member_tier=member.tier if member else None,
        member_tags=member.tags if member else frozenset(),
        member_card_programs=member.card_programs if member else frozenset(),
        coupons=cart.coupons,
        requested_promotions=cart.requested_promotions,
        wallet=tuple(wallet[c] for c in sorted(wallet)),
        execution_order_version=order.version if order is not None else None,
        sharing_plans=tuple(PlanRef(p, plans[p]) for p in sorted(named) if p in plans),
        counts=used,
    )
    # a line's subtotal is its unit price times its quantity (>= 1), exactly:
    # no need to look the price up in the cart by line id
    lines = tuple(
        [
            LineAllocation(
                line.line_id,
                line.item_id,
                line.quantity,
                line.subtotal // line.quantity,
                line.unit_discounts,
                line.benefits,
            )
            for line in result.lines
        ]
    )
    return Receipt(cart.order_id, tuple(sorted(refs.values(), key=lambda r: r.id)), inputs, lines)
