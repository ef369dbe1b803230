"""``make demo``: ring up the sample carts against the sample campaigns.

Everything comes from the package's own ``demo_data/`` (so ``pos-promo
demo`` runs from an installed wheel in any folder; ``fixtures/demo`` in the
checkout is a link to it): a store in New York, five campaigns (a lunch
spend & save, drinks 3-for-2, a happy hour, a gold-member offer, a manual
staff meal) and four carts. Each cart's receipt is printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pos_promo.codec import decode_campaigns, decode_cart, decode_store
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import build_index
from pos_promo.model.cart import Cart
from pos_promo.model.result import EvaluationResult
from pos_promo.render import render_receipt

__all__ = ["DEMO", "evaluations", "main"]

DEMO = Path(__file__).resolve().parent / "demo_data"
"""The sample store, campaigns and carts, shipped inside the package."""


def evaluations(folder: Path = DEMO) -> list[tuple[str, Cart, EvaluationResult]]:
    """Each sample cart's name, cart and result against the sample campaigns."""
    store = decode_store((folder / "store.json").read_bytes())
    index = build_index(decode_campaigns((folder / "campaigns.json").read_bytes()), store)
    out = []
    for path in sorted((folder / "carts").glob("*.json")):
        cart = decode_cart(path.read_bytes())
        out.append((path.stem, cart, evaluate(cart, index)))
    return out


def main(folder: Path = DEMO) -> int:
    """Print the receipt of every sample cart (``pos-promo demo``, ``make demo``)."""
    store = decode_store((folder / "store.json").read_bytes())
    count = len(decode_campaigns((folder / "campaigns.json").read_bytes()))
    print(f"pos_promo demo: {count} campaigns cached for {store.id} ({store.timezone})\n")
    for name, cart, result in evaluations(folder):
        print("=" * 64)
        print(name)
        print("=" * 64)
        print(render_receipt(result, cart, store))
    return 0


if __name__ == "__main__":
    sys.exit(main())
