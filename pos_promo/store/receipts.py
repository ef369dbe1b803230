"""Building the evaluation receipt a committed order keeps (SPEC §9).

It records every campaign the engine considered for the cart with the
version it had, so HQ can replay the order against those versions and flag
a divergence, plus the inputs audience rules looked at and each line's
allocation per unit and per benefit, so refunds never consult the live
cache.
"""

from __future__ import annotations

import datetime as dt

from pos_promo.engine.index import CampaignIndex
from pos_promo.model.cart import Cart
from pos_promo.model.receipt import CampaignRef, LineAllocation, Receipt, ReceiptInputs
from pos_promo.model.result import EvaluationResult

__all__ = ["build_receipt"]


def build_receipt(
    cart: Cart, result: EvaluationResult, index: CampaignIndex, local_date: dt.date
) -> Receipt:
    applied = {a.id: a.version for a in result.applied}
    refs = [CampaignRef(cid, version, True) for cid, version in applied.items()]
    for item in result.not_applied:
        known = index.by_id.get(item.id)
        if known is not None:
            refs.append(CampaignRef(item.id, known.campaign.version, False))
    refs.sort(key=lambda r: r.id)
    member = cart.member
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
    )
    prices = {line.line_id: line.unit_price for line in cart.lines}
    lines = tuple(
        LineAllocation(
            line.line_id,
            line.item_id,
            line.quantity,
            prices[line.line_id],
            line.unit_discounts,
            line.benefits,
        )
        for line in result.lines
    )
    return Receipt(cart.order_id, tuple(refs), inputs, lines)
