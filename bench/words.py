"""What wording costs, against the evaluation it words.

Run ``python bench/words.py`` (``--quick`` for a smoke run). For 1,000
generated campaigns at one store and 30-line carts (``bench/generate.py``),
it prints the median time of ``evaluate`` (codes and facts only), of
``localise`` (every not-applied sentence and gift preview in the store's
language) and of ``render_receipt`` (the whole receipt), in English and in
Simplified Chinese, and each as a ratio of ``evaluate`` measured in the same
process. The three take turns per cart, so load elsewhere weighs on all.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import make_campaigns, make_carts, make_chain
from pos_promo.codec import decode_campaigns, decode_cart
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import build_index
from pos_promo.i18n import localise, words_for
from pos_promo.model.cart import StoreContext
from pos_promo.render import render_receipt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--campaigns", type=int, default=1_000)
    parser.add_argument("--lines", type=int, default=30)
    args = parser.parse_args(argv)
    count, rounds = (20, 1) if args.quick else (200, 5)
    chain = make_chain(7)
    store = msgspec.convert(chain.store("store-000"), StoreContext)
    index = build_index(
        decode_campaigns(msgspec.json.encode(make_campaigns(chain, args.campaigns, 7))), store
    )
    carts = [
        decode_cart(msgspec.json.encode(doc))
        for doc in make_carts(chain, store.id, args.lines, count)
    ]
    print(f"pos_promo words benchmark: {args.campaigns:,} campaigns, {args.lines}-line carts")
    for locale in ("en_US", "zh_CN"):
        here = msgspec.structs.replace(store, locale=locale)
        words = words_for(here)
        samples: dict[str, list[int]] = {"evaluate": [], "localise": [], "render_receipt": []}
        reasons = 0
        for cart in carts:  # warm-up: catalogs and CLDR data load once
            render_receipt(localise(evaluate(cart, index), words), cart, here)
        for _ in range(rounds):
            for cart in carts:
                t0 = time.perf_counter_ns()
                result = evaluate(cart, index)
                t1 = time.perf_counter_ns()
                localise(result, words)
                t2 = time.perf_counter_ns()
                render_receipt(result, cart, here)
                t3 = time.perf_counter_ns()
                samples["evaluate"].append(t1 - t0)
                samples["localise"].append(t2 - t1)
                samples["render_receipt"].append(t3 - t2)
                reasons += len(result.not_applied)
        base = statistics.median(samples["evaluate"])
        print(f"\n{locale}: {reasons / len(samples['evaluate']):.1f} not-applied per cart")
        for name, values in samples.items():
            median = statistics.median(values)
            print(f"  {name:<15} median {median / 1e6:7.3f} ms   x{median / base:5.2f} of evaluate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
