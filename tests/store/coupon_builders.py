"""Builders for the wallet tests: coupon templates, wallet coupons, a member's cart."""

from __future__ import annotations

from typing import Any

from tests.helpers import PERIOD, cart, line

__all__ = ["AT", "MEMBER", "coupon", "member_cart", "template"]

AT = "2026-11-20T17:00:00Z"
MEMBER = {"id": "m1", "tier": "gold"}


def template(
    template_id: str = "t5", benefit: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    """A coupon template: $5 off by default, on every item."""
    doc: dict[str, Any] = {
        "kind": "coupon_template",
        "id": template_id,
        "name": template_id,
        "period": PERIOD,
        "benefit": benefit or {"type": "amount_off", "amount": 500},
    }
    doc.update(fields)
    return doc


def coupon(coupon_id: str = "c1", template_id: str = "t5", **fields: Any) -> dict[str, Any]:
    """A wallet coupon of member m1, valid all of November 2026 (UTC)."""
    doc: dict[str, Any] = {
        "id": coupon_id,
        "template_id": template_id,
        "member_id": "m1",
        "valid_from": "2026-11-01T00:00:00Z",
        "valid_until": "2026-12-01T00:00:00Z",
    }
    doc.update(fields)
    return doc


def member_cart(*coupons: str, order_id: str = "o-1", **fields: Any) -> dict[str, Any]:
    """A $20 + $10 order by member m1 presenting ``coupons``."""
    lines = fields.pop("lines", [line("A", 2000), line("B", 1000)])
    return cart(
        *lines,
        order_id=order_id,
        member=fields.pop("member", MEMBER),
        coupons=list(coupons),
        **fields,
    )
