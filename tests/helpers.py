"""Small builders shared by tests: a campaign or cart dict with sane defaults."""

from __future__ import annotations

from typing import Any

PERIOD = {"start": "2026-01-01T00:00:00", "end": "2026-12-31T23:59:59"}


def campaign(
    campaign_id: str = "p1", rule: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "spend_and_save",
        "id": campaign_id,
        "name": campaign_id,
        "period": PERIOD,
        "rule": rule or {"type": "spend_save", "tiers": [{"spend": 10000, "save": 1000}]},
    }
    doc.update(fields)
    return doc


def line(line_id: str, price: int, qty: int = 1, **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "line_id": line_id,
        "item_id": fields.pop("item_id", line_id.lower()),
        "quantity": qty,
        "unit_price": price,
    }
    doc.update(fields)
    return doc


def cart(*lines: dict[str, Any], **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "order_id": "o-1",
        "store_id": "s1",
        "at": "2026-11-20T17:00:00Z",
        "lines": list(lines),
    }
    doc.update(fields)
    return doc
