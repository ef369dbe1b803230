"""Evaluate when every campaign is live at one store, against a bare evaluator.

The "all active at one store" shape of issue 12: the generated chain's
campaigns all running and offered at the till's store (see
``generate.all_active``), at 1,000 and 10,000 campaigns, carts of 5, 30,
100 and 300 lines, and 50,000 campaigns with one cart of 5 and 30 lines
(every cart size with ``--huge``; none with ``--quick``). Each cell is timed in CPU
time (``process_time_ns``, so other load on the machine does not count),
next to the minimal indexed evaluator of ``bench/minimal.py`` on the same
carts; the cells take turns round by round. Prints, per cell, the engine's
min and median, the minimal evaluator's, their ratios, the qualifying
benefits and how many carts the search settled exactly.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import all_active, make_campaigns, make_carts, make_chain
from bench.minimal import MinimalIndex, best_single
from pos_promo.codec import decode_campaigns, decode_cart
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import CampaignIndex, build_index
from pos_promo.model.campaign import Campaign
from pos_promo.model.cart import Cart, StoreContext

__all__ = ["Row", "main"]

LINES = (5, 30, 100, 300)
HUGE_LINES = (5, 30)  # the 50,000 cell without --huge: one cart each, a few seconds
PAGE = 10_000  # campaigns per decoded payload


@dataclass(frozen=True)
class Row:
    campaigns: int
    lines: int
    carts: int
    engine_min: float  # ms, CPU
    engine_median: float
    bare_min: float
    bare_median: float
    qualifying: float  # median per cart
    exact: int  # carts settled exactly

    @property
    def ratio_min(self) -> float:
        return self.engine_min / self.bare_min

    @property
    def ratio_median(self) -> float:
        return self.engine_median / self.bare_median


def _qualifying(cart: Cart, index: CampaignIndex) -> tuple[int, bool]:
    result = evaluate(cart, index, at=cart.at)
    losers = {"not_shareable", "not_best"}
    count = len(result.applied) + sum(1 for n in result.not_applied if n.reason in losers)
    return count, result.selection == "exact"


def _decoded(docs: list[dict[str, Any]]) -> list[Campaign]:
    """The documents decoded as a till decodes HQ's payload, in pages
    (one payload may not pass the codec's size limit at 50,000)."""
    found: list[Campaign] = []
    for start in range(0, len(docs), PAGE):
        found.extend(decode_campaigns(msgspec.json.encode(docs[start : start + PAGE])))
    return found


def main(argv: list[str] | None = None) -> list[Row]:
    argv = argv or []
    quick, huge = "--quick" in argv, "--huge" in argv
    sizes: list[tuple[int, int, tuple[int, ...]]] = [
        (1_000, 3 if quick else 12, LINES),
        (10_000, 1 if quick else 3, LINES),
    ]
    if huge or not quick:  # one cart per cell; every cart size only with --huge
        sizes.append((50_000, 1, LINES if huge else HUGE_LINES))
    rounds = 1 if quick else 3
    chain = make_chain(7)
    store = msgspec.convert(chain.store("store-000"), StoreContext)
    print("all campaigns live at one store (generate.all_active), CPU time")
    cells: list[tuple[int, int, list[Cart], CampaignIndex, MinimalIndex]] = []
    for n, carts_per_cell, cart_sizes in sizes:
        campaigns = _decoded(all_active(make_campaigns(chain, n, 7)))
        start = time.process_time()
        index = build_index(campaigns, store)
        built = time.process_time() - start
        bare = MinimalIndex.build(list(campaigns))
        print(f"  {n:>6,} campaigns: index built in {built * 1000:,.0f} ms CPU")
        for lines in cart_sizes:
            docs = make_carts(chain, store.id, lines, carts_per_cell, seed=11)
            carts = [decode_cart(msgspec.json.encode(d)) for d in docs]
            cells.append((n, lines, carts, index, bare))
    engine_ns: dict[tuple[int, int], list[int]] = {(c[0], c[1]): [] for c in cells}
    bare_ns: dict[tuple[int, int], list[int]] = {(c[0], c[1]): [] for c in cells}
    clock = time.process_time_ns
    for _ in range(rounds):  # the cells take turns
        for n, lines, carts, index, bare in cells:
            for cart in carts:
                start = clock()
                evaluate(cart, index, at=cart.at)
                engine_ns[n, lines].append(clock() - start)
                start = clock()
                for _ in range(10):  # ten, so the clock's grain does not count
                    best_single(cart, bare)
                bare_ns[n, lines].append((clock() - start) // 10)
    rows = []
    for n, lines, carts, index, _ in cells:
        seen = [_qualifying(cart, index) for cart in carts]
        e, b = engine_ns[n, lines], bare_ns[n, lines]
        rows.append(
            Row(
                n,
                lines,
                len(carts),
                min(e) / 1e6,
                statistics.median(e) / 1e6,
                max(min(b), 1) / 1e6,
                max(statistics.median(b), 1) / 1e6,
                statistics.median(q for q, _ in seen),
                sum(1 for _, exact in seen if exact),
            )
        )
    print(
        "campaigns  lines  carts  qualifying  engine min/median ms  bare min/median ms"
        "  ratio min/median  exact"
    )
    for r in rows:
        print(
            f"{r.campaigns:>9,}  {r.lines:>5}  {r.carts:>5}  {r.qualifying:>10.0f}"
            f"  {r.engine_min:>9.3f} / {r.engine_median:<9.3f}"
            f"  {r.bare_min:>7.3f} / {r.bare_median:<7.3f}"
            f"  {r.ratio_min:>7.1f} / {r.ratio_median:<7.1f}  {r.exact}/{r.carts}"
        )
    by = {(r.campaigns, r.lines): r for r in rows}
    for lines in LINES:
        for n in (10_000, 50_000):
            if (n, lines) in by:
                growth = by[n, lines].engine_median / by[1_000, lines].engine_median
                print(f"  {lines:>3} lines: {n:,} vs 1,000 campaigns, median {growth:.1f}x")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
