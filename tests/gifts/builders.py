"""Builders for the cumulative gift tests: activities, templates, carts, a till."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from pos_promo.model.cart import StoreContext

__all__ = [
    "AT",
    "MEMBER",
    "PERIOD",
    "STORE",
    "activity",
    "dump",
    "gift_cart",
    "rows",
    "template",
]

STORE = StoreContext("s1", "America/New_York", "USD", frozenset({"org-east"}))
PERIOD = {"start": "2026-01-01T00:00:00", "end": "2026-12-31T23:59:59"}
AT = "2026-11-20T17:00:00Z"
MEMBER = "m-1"


def template(template_id: str = "t-5off", **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "coupon_template",
        "id": template_id,
        "name": f"Coupon {template_id}",
        "period": PERIOD,
        "benefit": {"type": "amount_off", "amount": 500},
        "validity": {"type": "relative", "days": 30},
    }
    doc.update(fields)
    return doc


def activity(
    activity_id: str = "g1",
    *,
    measure: str = "spend",
    repeat: str = "every",
    threshold: int = 10000,
    gifts: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "cumulative_gift",
        "id": activity_id,
        "name": f"Activity {activity_id}",
        "period": PERIOD,
        "condition": {"measure": measure, "repeat": repeat, "threshold": threshold},
        "gifts": gifts if gifts is not None else [{"template_id": "t-5off"}],
    }
    doc.update(fields)
    return doc


def gift_cart(
    order_id: str,
    *lines: dict[str, Any],
    member: str | None = MEMBER,
    at: str = AT,
    **fields: Any,
) -> bytes:
    doc: dict[str, Any] = {
        "order_id": order_id,
        "store_id": STORE.id,
        "at": at,
        "lines": list(lines)
        or [{"line_id": "A", "item_id": "steak", "quantity": 1, "unit_price": 10000}],
    }
    if member is not None:
        doc["member"] = {"id": member, **fields.pop("member_fields", {})}
    doc.update(fields)
    return json.dumps(doc).encode()


def dump(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def rows(path: Path, *tables: str) -> dict[str, list[Any]]:
    """Whole tables, to compare databases or prove nothing was written."""
    conn = sqlite3.connect(path)
    try:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}
    finally:
        conn.close()
