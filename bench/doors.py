"""What the doors cost, and what refusing a hostile input costs.

Run ``python bench/doors.py``. Every figure is the median of many runs in
this process, printed beside a baseline measured the same way in the same
process (the evaluation of an ordinary 5-line cart), so the ratios hold on
any machine:

- decoding a 5-line and a 500-line cart from JSON (the depth scan alone
  too), and re-checking the same cart built in Python (``accept_cart``:
  encode, then the JSON door);
- refusing a cart with quantity 10^18, an amount of 2^63, a document nested
  100,000 deep, and a 16 MiB body;
- evaluating a cart at the unit limit (2,000 units) against three promotions;
- committing one order that reaches 1,000 ordinals of an "every 1.00" gift
  (one order grants 10) on a till database with ``durability="normal"``.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from pos_promo import build_index, decode_campaigns, evaluate
from pos_promo.codec import decode_cart, too_deep
from pos_promo.doors import accept_cart
from pos_promo.embedded import Engine
from pos_promo.errors import PromoError
from pos_promo.limits import MAX_CART_UNITS, MAX_DOCUMENT_BYTES
from pos_promo.model.cart import StoreContext
from tests.gifts.builders import STORE as GIFT_STORE
from tests.gifts.builders import activity, gift_cart, template
from tests.helpers import campaign, cart, line


def median_ms(action: Callable[[], Any], runs: int = 30) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        with contextlib.suppress(PromoError):
            action()
        times.append((time.perf_counter_ns() - start) / 1e6)
    return statistics.median(times)


def main() -> None:
    promotions = decode_campaigns(
        json.dumps(
            [
                campaign("spend"),
                campaign("free", rule={"type": "items_free", "tiers": [{"buy": 2, "free": 1}]}),
                campaign(
                    "items", rule={"type": "items_save", "tiers": [{"items": 3, "save": 100}]}
                ),
            ]
        )
    )
    index = build_index(promotions, StoreContext("s1"))
    small = json.dumps(cart(*(line(f"L{i}", 300 + i, qty=2) for i in range(5)))).encode()
    big = json.dumps(cart(*(line(f"L{i}", 300 + i, qty=2) for i in range(500)))).encode()
    small_cart, big_cart = decode_cart(small), decode_cart(big)
    half = MAX_CART_UNITS // 2
    at_limit = decode_cart(
        json.dumps(
            cart(
                line("A", 300, qty=half // 2),
                line("B", 500, qty=half // 2),
                line("S", 10, qty=half, role="side", parent_line_id="A"),
            )
        )
    )
    base = median_ms(lambda: evaluate(small_cart, index), 200)
    rows = [
        ("decode a 5-line cart (JSON door)", median_ms(lambda: decode_cart(small), 200)),
        ("re-check a 5-line Cart struct", median_ms(lambda: accept_cart(small_cart), 200)),
        ("decode a 500-line cart (JSON door)", median_ms(lambda: decode_cart(big), 50)),
        ("re-check a 500-line Cart struct", median_ms(lambda: accept_cart(big_cart), 50)),
        ("  of which the depth scan", median_ms(lambda: too_deep(big), 50)),
        (
            "refuse quantity 10^18",
            median_ms(lambda: decode_cart(json.dumps(cart(line("A", 100, qty=10**18)))), 200),
        ),
        (
            "refuse an amount of 2^63",
            median_ms(lambda: decode_cart(json.dumps(cart(line("A", 2**63)))), 200),
        ),
        (
            "refuse a document nested 100,000 deep",
            median_ms(lambda: decode_cart("[" * 100_000 + "]" * 100_000), 20),
        ),
        (
            "refuse a 16 MiB body",
            median_ms(lambda: decode_cart(b" " * (MAX_DOCUMENT_BYTES + 1)), 20),
        ),
        (
            f"evaluate {MAX_CART_UNITS} units, 3 promotions",
            median_ms(lambda: evaluate(at_limit, index), 10),
        ),
    ]
    with tempfile.TemporaryDirectory() as folder:
        till = Engine.open(Path(folder) / "t.db", GIFT_STORE, durability="normal")
        till.import_campaigns(json.dumps([template(), activity(threshold=100)]))
        orders = iter(range(10**6))
        rows.append(
            (
                "commit an order reaching 1,000 gift ordinals",
                median_ms(
                    lambda: till.commit(gift_cart(f"o-{next(orders)}", line("A", 100_000))), 10
                ),
            )
        )
        till.close()
    print(f"baseline: evaluate a 5-line cart, 3 promotions: {base:.3f} ms")
    for name, value in rows:
        print(f"{name:48} {value:9.3f} ms  {value / base:8.1f}x baseline")


if __name__ == "__main__":
    main()
