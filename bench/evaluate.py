"""How long one evaluation takes as the campaign set grows.

Run ``python bench/evaluate.py`` (``--quick`` for a smoke run). For 10, 100,
1,000 and 10,000 campaigns of a generated chain (see ``bench/generate.py``)
it prints, for one store:

- the decode time of the whole campaign payload (``decode_campaigns``) and
  the index build time (``build_index``), each the median of a few runs;
- for carts of 5, 30 and 100 lines (already decoded, index already built):
  the median and p99 of ``evaluate(cart, index, at=...)`` over many
  different carts, and how many campaigns each evaluation considered;
- the ratios between campaign-set sizes, and the two targets of the issue.

Timings are wall clock (``perf_counter_ns``) with the garbage collector on,
as on a till. The twelve cells take turns (one pass over their carts per
round, ten rounds), so load from elsewhere on the machine weighs on all of
them alike and the ratios stay fair; the four indexes stay built meanwhile.
Everything is seeded: two runs see the same documents.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import make_campaigns, make_carts, make_chain, scope_mix
from pos_promo.codec import decode_campaigns, decode_cart
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import CampaignIndex, build_index
from pos_promo.model.cart import Cart, StoreContext

CAMPAIGNS = (10, 100, 1_000, 10_000)
LINES = (5, 30, 100)
TARGET_MS = 1.0  # 30 lines x 1,000 campaigns, median
TARGET_RATIO = 3.0  # 10,000 vs 1,000 campaigns

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    carts: int  # distinct carts per cart size
    rounds: int  # passes over every cell's carts, the cells taking turns
    budget_s: float  # stop starting new rounds after this long (at least 2 rounds)
    setup_runs: int  # decode / build repetitions


FULL = Settings(carts=200, rounds=10, budget_s=45.0, setup_runs=5)
QUICK = Settings(carts=30, rounds=2, budget_s=1.0, setup_runs=1)


@dataclass(frozen=True)
class Cell:
    campaigns: int
    lines: int
    median_ms: float
    p99_ms: float
    samples: int
    considered_median: float
    considered_max: int
    applied_mean: float


def _p99(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def _median_time(run: Callable[[], T], times: int) -> tuple[float, T]:
    taken = []
    result = run()  # warm-up, not timed
    for _ in range(times):
        gc.collect()
        start = time.perf_counter_ns()
        result = run()
        taken.append(time.perf_counter_ns() - start)
    return statistics.median(taken) / 1e6, result


def _time_pass(index: CampaignIndex, carts: list[Cart], samples: list[int]) -> None:
    """Evaluate every cart once, appending each evaluation's wall time (ns)."""
    clock = time.perf_counter_ns
    for cart in carts:
        at = cart.at
        start = clock()
        evaluate(cart, index, at=at)
        samples.append(clock() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few carts, short timings")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", default="store-000", help="the store the till is in")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    began = time.perf_counter()

    chain = make_chain(args.seed)
    store = msgspec.convert(chain.store(args.store), StoreContext)
    carts = {
        n: [
            decode_cart(msgspec.json.encode(doc))
            for doc in make_carts(chain, store.id, n, settings.carts)
        ]
        for n in LINES
    }
    print(
        f"pos_promo evaluate benchmark  seed {args.seed}  "
        f"Python {platform.python_version()}  msgspec {msgspec.__version__}"
        f"{'  (quick)' if args.quick else ''}"
    )
    print(
        f"chain: {len(chain.stores)} stores under "
        f"{len(chain.brands) + sum(map(len, chain.regions.values()))} organisation nodes, "
        f"{len(chain.items):,} items in {len(chain.leaves) + len(chain.departments)} categories; "
        f"store {store.id} ({store.timezone}, orgs {', '.join(sorted(store.org_ids))})"
    )
    print(f"{settings.carts} different carts per size; evaluation at each cart's own instant\n")

    print("campaign set      all/org/local  payload  decode ms  µs/campaign  build ms  in store")
    indexes: dict[int, CampaignIndex] = {}
    for n in CAMPAIGNS:
        raw = msgspec.json.encode(make_campaigns(chain, n, args.seed))
        decode_ms, campaigns = _median_time(partial(decode_campaigns, raw), settings.setup_runs)
        build_ms, index = _median_time(partial(build_index, campaigns, store), settings.setup_runs)
        in_store = sum(1 for c in index.by_id.values() if c.in_store)
        mix = "/".join(str(part) for part in scope_mix(n))
        print(
            f"{n:>12,}  {mix:>17}  {len(raw) / 1024:>5.0f} KB  {decode_ms:>9.2f}  "
            f"{decode_ms * 1000 / n:>11.1f}  {build_ms:>8.2f}  {in_store:>8,}"
            f" ({len(index.store_wide)} store-wide)"
        )
        indexes[n] = index
        del campaigns, raw

    # The cells take turns, one pass over their carts each per round, so a
    # burst of load from elsewhere on the machine spreads over all of them
    # instead of skewing one campaign-set size against another.
    grid = [(n, lines) for n in CAMPAIGNS for lines in LINES]
    samples: dict[tuple[int, int], list[int]] = {cell: [] for cell in grid}
    for n, lines in grid:  # warm-up pass, not timed
        _time_pass(indexes[n], carts[lines], [])
    gc.collect()
    started = time.perf_counter()
    for done in range(settings.rounds):
        if done >= 2 and time.perf_counter() - started > settings.budget_s:
            break
        for n, lines in grid:
            _time_pass(indexes[n], carts[lines], samples[n, lines])

    cells: list[Cell] = []
    for n, lines in grid:
        index, sample, taken = indexes[n], carts[lines], samples[n, lines]
        considered = [len(index.considered(cart)) for cart in sample]
        applied = [len(evaluate(cart, index, at=cart.at).applied) for cart in sample]
        cells.append(
            Cell(
                n,
                lines,
                statistics.median(taken) / 1e6,
                _p99(taken) / 1e6,
                len(taken),
                statistics.median(considered),
                max(considered),
                statistics.fmean(applied),
            )
        )

    print("\ncampaigns  lines  considered med/max  applied avg  median ms  p99 ms  samples")
    for cell in cells:
        print(
            f"{cell.campaigns:>9,}  {cell.lines:>5}  {cell.considered_median:>10.0f} /"
            f" {cell.considered_max:<4}  {cell.applied_mean:>11.2f}  {cell.median_ms:>9.3f}"
            f"  {cell.p99_ms:>6.3f}  {cell.samples:>7,}"
        )

    by = {(c.campaigns, c.lines): c for c in cells}
    print("\nratio of median time (and of campaigns considered) between set sizes")
    steps = list(itertools.pairwise(CAMPAIGNS))
    print("lines  " + "  ".join(f"{f'{b:,} vs {a:,}':>22}" for a, b in steps))
    for lines in LINES:
        parts = []
        for a, b in steps:
            time_ratio = by[b, lines].median_ms / by[a, lines].median_ms
            seen_ratio = by[b, lines].considered_median / max(by[a, lines].considered_median, 1)
            parts.append(f"{time_ratio:>9.2f}x ({seen_ratio:>5.2f}x)")
        print(f"{lines:>5}  " + "  ".join(f"{p:>22}" for p in parts))

    base, big = by[1_000, 30], by[10_000, 30]
    ratio = big.median_ms / base.median_ms
    verdict = ("met", "MISSED")
    if args.quick:
        verdict = ("met (quick run: too few carts to judge)", "missed (quick run: too few carts)")
    print(
        f"\ntarget: 30 lines x 1,000 campaigns, median <= {TARGET_MS:g} ms: "
        f"{base.median_ms:.3f} ms, {verdict[base.median_ms > TARGET_MS]}"
    )
    print(
        f"target: 30 lines x 10,000 campaigns <= {TARGET_RATIO:g}x the 1,000 figure: "
        f"{big.median_ms:.3f} ms = {ratio:.2f}x, {verdict[ratio > TARGET_RATIO]}"
    )
    print("(the all-live shape and the stacking sizes: bench/plot.py)")
    print(f"\nwhole run {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
