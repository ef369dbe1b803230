"""Properties of accrual and grants over random orders, payments and refunds.

Whatever the orders, tenders and refund batching, on a real SQLite file:
the member's total is the sum of what each order still earns; refunding
everything takes back exactly what was accrued; and the ordinals granted
are always exactly those the total reaches, each once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_promo.embedded import Engine
from tests.gifts.builders import MEMBER, STORE, activity, dump, gift_cart, template
from tests.helpers import line

EVERY = 5000

orders = st.lists(
    st.tuples(
        st.lists(
            st.tuples(st.integers(1, 4), st.integers(0, 4000)), min_size=1, max_size=4
        ),  # (quantity, unit price) per line
        st.integers(0, 100),  # percent paid with prepaid balance, which does not accrue
    ),
    min_size=1,
    max_size=5,
)


def standing(engine: Engine) -> tuple[int, list[int]]:
    mine = engine.member(MEMBER)
    total = sum(a.total for a in mine.activities)
    return total, sorted(g.ordinal for g in mine.grants if g.status == "granted")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders=orders, refunds=st.randoms(use_true_random=False))
def test_grants_always_match_the_total_and_refunding_everything_takes_it_all_back(
    orders: list[tuple[list[tuple[int, int]], int]], refunds: object
) -> None:
    import random

    assert isinstance(refunds, random.Random)
    with tempfile.TemporaryDirectory() as folder:
        engine = Engine.open(Path(folder) / "till.db", STORE, durability="normal")
        try:
            engine.import_campaigns(
                dump([template(), activity(threshold=EVERY, assets={"prepaid_balance": False})])
            )
            held: dict[str, dict[str, int]] = {}
            for n, (lines, prepaid) in enumerate(orders):
                order = f"o-{n}"
                cart = gift_cart(
                    order, *(line(f"L{i}", price, qty) for i, (qty, price) in enumerate(lines))
                )
                total = engine.evaluate(cart).total
                part = total * prepaid // 100
                payments = [{"tender": "prepaid_balance", "amount": part}] if part else []
                if total - part:
                    payments.append({"tender": "cash", "amount": total - part})
                engine.commit(cart, payments)
                held[order] = {f"L{i}": qty for i, (qty, _) in enumerate(lines)}
                total_now, granted = standing(engine)
                assert granted == list(range(1, total_now // EVERY + 1))
            while held:
                order = refunds.choice(sorted(held))
                line_id = refunds.choice(sorted(held[order]))
                units = refunds.randint(1, held[order][line_id])
                engine.refund(order, {line_id: units})
                held[order][line_id] -= units
                if not held[order][line_id]:
                    del held[order][line_id]
                if not held[order]:
                    del held[order]
                total_now, granted = standing(engine)
                assert granted == list(range(1, total_now // EVERY + 1))
            assert standing(engine) == (0, [])
        finally:
            engine.close()
