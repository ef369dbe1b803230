"""Builders for the store tests: a till's store, campaign payloads, carts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from pos_promo.model.cart import StoreContext
from tests.helpers import campaign, cart, line

__all__ = [
    "STORE",
    "campaign",
    "cart",
    "dump",
    "line",
    "row_counts",
    "stacking_campaigns",
]

STORE = StoreContext("s1", "America/New_York", "USD", frozenset({"brand-1"}))

TABLES = (
    "campaigns",
    "confirmed_counts",
    "confirmed_daily_counts",
    "documents",
    "line_refunds",
    "meta",
    "order_benefits",
    "orders",
    "outbox",
    "participations",
    "refund_benefits",
    "refunds",
    "wallet",
)


def dump(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def row_counts(path: Path) -> dict[str, Any]:
    """Every table's full contents, to prove a refused request changed nothing."""
    conn = sqlite3.connect(path)
    try:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}
    finally:
        conn.close()


def stacking_campaigns() -> list[dict[str, Any]]:
    """Two promotions that combine, so one line carries two benefits."""
    both = {"promotions": {"mode": "all"}}
    return [
        campaign(
            "spend",
            {"type": "spend_save", "tiers": [{"spend": 5000, "save": 700}]},
            sharing=both,
            priority=2,
        ),
        campaign(
            "items",
            {"type": "items_save", "tiers": [{"items": 3, "save": 500}]},
            sharing=both,
            priority=1,
            application_order="high_to_low",
        ),
    ]
