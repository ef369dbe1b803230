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
from pos_promo.render import render_receipt

__all__ = ["main"]

DEMO = Path(__file__).resolve().parent / "demo_data"
"""The sample store, campaigns and carts, shipped inside the package."""


def main(folder: Path = DEMO) -> int:
    store = decode_store((folder / "store.json").read_bytes())
    index = build_index(decode_campaigns((folder / "campaigns.json").read_bytes()), store)
    print(f"pos_promo demo: {len(index)} campaigns cached for {store.id} ({store.timezone})\n")
    for path in sorted((folder / "carts").glob("*.json")):
        cart = decode_cart(path.read_bytes())
        print("=" * 64)
        print(f"{path.stem}")
        print("=" * 64)
        print(render_receipt(evaluate(cart, index), cart, store))
    return 0


if __name__ == "__main__":
    sys.exit(main())
