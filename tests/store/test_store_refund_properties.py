"""Refund properties over random orders (hypothesis, real SQLite files).

For random carts, campaigns, member benefits and coupons, and any sequence
of partial refunds ending in a full refund: every refund gives back >= 0,
the refunds add up to exactly what was paid, and after each refund the kept
units cost what a fresh evaluation of them gives when restricted to the
benefits the order applied (issue 10).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pos_promo.embedded import Engine
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import build_index
from pos_promo.engine.refunds import applied_benefits, kept_cart, restricted_cart
from tests.test_benefit_properties import worlds
from tests.test_properties import AT, SETTINGS, STORE


@st.composite
def refund_plans(draw: st.DrawFn, quantities: dict[str, int]) -> list[dict[str, int]]:
    """Partial refunds of main lines (their sides and modifiers follow), one
    unit at a time or several; what is left goes back in a last full refund."""
    left = dict(quantities)
    steps: list[dict[str, int]] = []
    for _ in range(draw(st.integers(0, 4))):
        open_lines = sorted(k for k, v in left.items() if v)
        if not open_lines:
            break
        chosen = draw(st.lists(st.sampled_from(open_lines), min_size=1, unique=True))
        step = {k: draw(st.integers(1, left[k])) for k in chosen}
        for k, v in step.items():
            left[k] -= v
        steps.append(step)
    return steps


@settings(SETTINGS, max_examples=60)  # each example is a real till database
@given(worlds(), st.data())
def test_refunds_add_up_to_what_was_paid_and_kept_units_cost_a_fresh_evaluation(
    world: Any, data: st.DataObject
) -> None:
    cart, campaigns, wallet = world
    mains = {line.line_id: line.quantity for line in cart.lines if line.role == "main"}
    steps = data.draw(refund_plans(mains), label="refunds")
    with (
        tempfile.TemporaryDirectory() as folder,
        Engine.open(Path(folder) / "till.db", STORE, durability="normal") as engine,
    ):
        engine.import_campaigns(list(campaigns))
        engine.add_coupons(list(wallet.values()))
        paid = engine.commit(cart, at=AT).total
        receipt = engine.order(cart.order_id).receipt
        applied = applied_benefits(receipt)
        templates = {wallet[c].template_id for c in applied if c in wallet}
        index = build_index([c for c in campaigns if c.id in applied | templates], STORE)
        backs = []
        everything = {k: sum(s.get(k, 0) for s in steps) for k in mains} == mains
        for step in steps if everything else [*steps, None]:
            record = engine.refund(cart.order_id, step)
            assert record.amount >= 0
            backs.append(record.amount)
            kept = engine.order(cart.order_id).remaining_units
            if not any(kept.values()):
                assert record.order_fully_refunded and record.kept_cost == 0
                continue
            fresh = evaluate(
                restricted_cart(kept_cart(cart, kept), applied),
                index,
                at=AT,
                wallet={c: wallet[c] for c in applied if c in wallet},
            )
            assert record.kept_cost == fresh.total
            assert {a.id for a in fresh.applied} <= applied  # nothing joins
        assert sum(backs) == paid
        assert record.order_fully_refunded
