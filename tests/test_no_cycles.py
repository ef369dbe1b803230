"""An evaluation and a commit leave nothing for the cyclic garbage collector.

Everything an evaluation makes (the cart's view and its memo, offers,
candidates and the partials the search calls) must be freed by reference
counting as soon as the result is returned. One reference cycle among them
(a candidate's partial holding the list of candidates, say) keeps the whole
evaluation alive until a collection finds it: then every evaluation feeds the
collector a hundred objects or (with thousands of live campaigns) thousands,
and the collections that follow, which walk them, cost a till ~10 % of each
evaluation. Each check runs with the collector off and counts what a
collection finds afterwards.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import given

from pos_promo.embedded import Engine
from pos_promo.model.campaign import Campaign
from pos_promo.model.cart import Cart
from tests.store.builders import STORE, cart, dump, line, stacking_campaigns
from tests.test_properties import SETTINGS, run_engine, worlds


@contextmanager
def collector_off() -> Iterator[Callable[[], int]]:
    """The collector off, after a collection; yields a function giving the
    number of unreachable objects a collection then finds."""
    gc.collect()
    gc.disable()
    try:
        yield gc.collect
    finally:
        gc.enable()


@SETTINGS
@given(worlds())
def test_an_evaluation_leaves_no_reference_cycle(world: tuple[Cart, list[Campaign]]) -> None:
    cart_, campaigns = world
    with collector_off() as unreachable:
        result = run_engine(cart_, campaigns)
        assert unreachable() == 0
    assert result.total >= 0


def test_a_commit_leaves_no_reference_cycle(tmp_path: Path) -> None:
    """Two promotions that stack on a member's order: the search's seed,
    the member's counts, the receipt and the rows written."""
    with Engine.open(tmp_path / "till.db", STORE) as engine:
        engine.import_campaigns(json.dumps(stacking_campaigns()))
        orders = [
            dump(
                cart(
                    line("A", 3000, 2),
                    line("B", 1200),
                    line("C", 900),
                    order_id=f"o-{n}",
                    member={"id": "m1"},
                )
            )
            for n in range(3)
        ]
        engine.commit(orders[0])  # the first commit reads and keeps the index
        with collector_off() as unreachable:
            first = engine.commit(orders[1])
            second = engine.commit(orders[2])
            assert unreachable() == 0
    assert [a.id for a in first.applied] == [a.id for a in second.applied] == ["spend", "items"]
    assert first.total_discount == second.total_discount == 1200
