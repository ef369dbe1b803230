"""Stacking benchmark: 5, 10, 20 and 40 qualifying benefits on one member cart.

Member price, member discount, promotions and presented coupons (a fifth of
the benefits) all qualify on their own. Three mixes: the vendor's default
scheme (promotions do not combine with each other; a few open to all), one
where every promotion and coupon combines with every other (the most sets
to weigh), and promotions that all combine on disjoint categories (no member
or coupon benefit). Prints the CPU median and min per evaluation, the search
runs spent, and whether the search settled it exactly or hit its budget.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from pos_promo.codec import campaign_from_obj, cart_from_obj
from pos_promo.engine import evaluate as evaluate_module
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import build_index
from pos_promo.model.cart import StoreContext
from pos_promo.model.coupon import Coupon

__all__ = [
    "MIXES",
    "SIZES",
    "TARGET_MS",
    "Cell",
    "main",
    "prepare",
    "time_cells",
]

TARGET_MS = 2.0
STORE = StoreContext("s1", "America/New_York")
AT = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)
PERIOD = {"start": "2026-01-01T00:00:00", "end": "2026-12-31T23:59:59"}
WINDOW = (dt.datetime(2026, 11, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


def _campaigns(open_all: bool, promotions: int = 14, coupons: int = 4) -> list[Any]:
    docs: list[dict[str, Any]] = []
    for i in range(promotions):
        rule: dict[str, Any]
        if i % 3 == 0:
            rule = {
                "type": "spend_save",
                "tiers": [{"spend": 2000 + 500 * i, "save": 200 + 30 * i}],
            }
        elif i % 3 == 1:
            rule = {"type": "items_save", "tiers": [{"items": 2 + i % 4, "save": 150 + 20 * i}]}
        else:
            rule = {"type": "items_free", "tiers": [{"buy": 2, "free": 1}]}
        doc: dict[str, Any] = {
            "kind": "spend_and_save",
            "id": f"promo-{i:02d}",
            "name": f"Promotion {i}",
            "period": PERIOD,
            "priority": i % 5,
            "rule": rule,
            "items": {"category_ids": [f"cat-{i % 4}"]} if i % 2 else {"all_items": True},
        }
        if open_all or i % 4 == 0:
            doc["sharing"] = {"promotions": {"mode": "all"}, "coupons": {"mode": "all"}}
        docs.append(doc)
    for i in range(coupons):
        benefit: dict[str, Any] = (
            {"type": "percent_off", "rate_bp": 500 + 100 * i, "cap": 800}
            if i % 2
            else {"type": "amount_off", "amount": 300 + 100 * i, "min_spend": 2000}
        )
        template: dict[str, Any] = {
            "kind": "coupon_template",
            "id": f"tpl-{i}",
            "name": f"Coupon {i}",
            "period": PERIOD,
            "benefit": benefit,
        }
        if open_all:
            template["sharing"] = {"coupons": {"mode": "all"}}
        docs.append(template)
    return [campaign_from_obj(doc) for doc in docs]


def _cart(size: int = 30, coupons: int = 4, member: bool = True, groups: int = 4) -> Any:
    lines = []
    for i in range(size):
        line: dict[str, Any] = {
            "line_id": f"L{i:02d}",
            "item_id": f"item-{i}",
            "category_ids": [f"cat-{i % groups}"],
            "quantity": 1 + i % 3,
            "unit_price": 250 + 75 * i,
        }
        if i % 5 == 0:
            line["member_unit_price"] = 200 + 70 * i
        lines.append(line)
    doc: dict[str, Any] = {"order_id": "bench", "store_id": "s1", "lines": lines}
    if member:
        doc["member"] = {"id": "m1", "tier": "gold", "discount_rate_bp": 500}
    if coupons:
        doc["coupons"] = [f"c-{i}" for i in range(coupons)]
    return cart_from_obj(doc)


def _disjoint(promotions: int) -> list[Any]:
    """Promotions that all combine, each on its own category (no member or
    coupon benefit, which would touch every line)."""
    docs = []
    for i in range(promotions):
        docs.append(
            {
                "kind": "spend_and_save",
                "id": f"promo-{i:02d}",
                "name": f"Promotion {i}",
                "period": PERIOD,
                "rule": {"type": "spend_save", "tiers": [{"spend": 300, "save": 50 + 5 * i}]},
                "items": {"category_ids": [f"cat-{i}"]},
                "sharing": {"promotions": {"mode": "all"}},
            }
        )
    return [campaign_from_obj(doc) for doc in docs]


MIXES = ("default scheme", "all combine", "disjoint")
SIZES = (5, 10, 20, 40)


@dataclass
class Cell:
    """One mix and size, ready to time: its cart, index and wallet, and what
    the first evaluation found (qualifying, applied, selection, saved, runs)."""

    mix: str
    size: int
    cart: Any
    index: Any
    wallet: dict[str, Coupon]
    qualifying: int
    applied: int
    selection: str
    saved: int
    runs: int
    taken: list[int] = field(default_factory=list)  # CPU ns per evaluation

    def evaluate(self) -> None:
        evaluate(self.cart, self.index, at=AT, wallet=self.wallet)


def prepare(mix: str, size: int) -> Cell:
    """The cell of ``size`` qualifying benefits of ``mix``, evaluated once."""
    if mix == "disjoint":
        index = build_index(_disjoint(size), STORE)
        cart = _cart(max(30, size), coupons=0, member=False, groups=size)
        wallet: dict[str, Coupon] = {}
    else:
        coupons = max(1, size // 5)
        index = build_index(_campaigns(mix == "all combine", size - 2 - coupons, coupons), STORE)
        cart = _cart(max(30, size), coupons=coupons)
        wallet = {f"c-{i}": Coupon(f"c-{i}", f"tpl-{i}", "m1", *WINDOW) for i in range(coupons)}
    spent = {"runs": 0}
    real = evaluate_module.select

    def counting(*args: Any, **kwargs: Any) -> Any:
        chosen = real(*args, **kwargs)
        spent["runs"] = chosen.runs
        return chosen

    evaluate_module.select = counting  # type: ignore[assignment]
    try:
        result = evaluate(cart, index, at=AT, wallet=wallet)
    finally:
        evaluate_module.select = real  # type: ignore[assignment]
    losers = {"not_shareable", "not_best"}
    qualifying = len(result.applied) + sum(1 for n in result.not_applied if n.reason in losers)
    return Cell(
        mix,
        size,
        cart,
        index,
        wallet,
        qualifying,
        len(result.applied),
        result.selection,
        result.total_discount,
        spent["runs"],
    )


def time_cells(cells: list[Cell], rounds: int) -> None:
    """Time every cell ``rounds`` times, the cells taking turns round by
    round, so that a ratio between two cells compares evaluations made
    under the same load (a busy spell of the machine lands on all of them)."""
    clock = time.process_time_ns
    for _ in range(rounds):
        for cell in cells:
            start = clock()
            cell.evaluate()
            cell.taken.append(clock() - start)


def main(argv: list[str] | None = None) -> dict[tuple[str, int], tuple[Any, ...]]:
    quick = bool(argv and "--quick" in argv)
    rounds = 5 if quick else 60
    print(f"stacking: qualifying benefits per mix, CPU time per evaluation ({rounds} rounds,")
    print("the cells taking turns)")
    print("mix              size  qualifying  applied  saved  selection  runs  median ms  min ms")
    cells = [prepare(mix, size) for mix in MIXES for size in SIZES]
    time_cells(cells, rounds)
    table: dict[tuple[str, int], tuple[Any, ...]] = {}
    for cell in cells:
        median, low = statistics.median(cell.taken) / 1e6, min(cell.taken) / 1e6
        table[cell.mix, cell.size] = (
            median,
            low,
            cell.qualifying,
            cell.applied,
            cell.selection,
            cell.saved,
            cell.runs,
        )
        print(
            f"{cell.mix:<15} {cell.size:>5}  {cell.qualifying:>10}  {cell.applied:>7}"
            f"  {cell.saved:>5}  {cell.selection:<9}  {cell.runs:>4}  {median:>9.3f}  {low:>6.3f}"
        )
    twenty = table["default scheme", 20][0]
    print(
        f"target: 20 benefits, default scheme, median <= {TARGET_MS:g} ms: "
        f"{'met' if twenty <= TARGET_MS else 'MISSED'} ({twenty:.3f} ms)"
    )
    five, combine = table["all combine", 5], table["all combine", 20]
    print(
        f"target: 20 that all combine exact and <= 4x the cost of 5: {combine[4]}, "
        f"{combine[0] / five[0]:.1f}x (min/min {combine[1] / five[1]:.1f}x)"
    )
    for mix in ("default scheme", "disjoint"):
        forty = table[mix, 40]
        print(f"target: 40 benefits, {mix}, exact and <= 10 ms: {forty[4]}, {forty[0]:.3f} ms")
    return table


if __name__ == "__main__":
    main(sys.argv[1:])
