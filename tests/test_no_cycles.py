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

The offers' and candidates' callables, the lazy sums and the allocations
worked out when read are untracked by the collector (``gc=False``): with
thousands of live campaigns they are most of what an evaluation keeps alive,
and tracked they made a full collection (~75 ms with 50,000 campaigns
cached) fall on about one evaluation in four. A cycle through one of those
would never be freed, and the collector could not see it: so repeated
evaluations are also held to leaving no memory block behind.
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import given

from pos_promo.codec import cart_from_obj, decode_campaigns
from pos_promo.embedded import Engine
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import build_index
from pos_promo.model.campaign import Campaign
from pos_promo.model.cart import Cart
from tests.store.builders import STORE, campaign, cart, dump, line, stacking_campaigns
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


def test_repeated_evaluations_leave_no_memory_behind() -> None:
    """Promotions that combine, on a member's cart with sides: a search that
    runs them on other prices, asks what they surely give and their bounds
    on a node's prices, and fills the allocations of those it keeps. After a
    warm-up, 300 more evaluations leave the process holding as many memory
    blocks as before, give or take the allocator's own: a cycle through an
    untracked object keeps what it holds each time (a lazy sum made to hold
    itself left 1,904 blocks over 300 evaluations)."""
    both = {"promotions": {"mode": "all"}}
    falling = {
        "type": "spend_save",
        "tiers": [{"spend": 4000, "save": 900}, {"spend": 9000, "save": 500}],
    }
    campaigns = [
        campaign("spend", sharing=both, priority=3),
        campaign("falling", falling, sharing=both, priority=2),
        campaign(
            "free",
            {"type": "items_free", "tiers": [{"buy": 2, "free": 1}]},
            sharing=both,
            priority=1,
        ),
        campaign("items", {"type": "items_save", "tiers": [{"items": 3, "save": 400}]}),
    ]
    index = build_index(decode_campaigns(dump(campaigns)), STORE)
    order = cart_from_obj(
        cart(
            line("A", 3000, 2, member_unit_price=2700),
            line("A-side", 400, 2, role="side", parent_line_id="A"),
            line("B", 1200),
            line("C", 900, 3),
            member={"id": "m1"},
        )
    )
    first = evaluate(order, index)
    assert first.selection == "exact"
    assert [a.id for a in first.applied] == ["member_price", "spend", "falling", "free"]

    def blocks_after(rounds: int) -> int:
        for _ in range(rounds):
            assert evaluate(order, index).total_discount == first.total_discount
        gc.collect()
        return sys.getallocatedblocks()

    # (the first evaluations fill caches, and the allocator's own blocks move
    # by a few dozen between rounds of 300)
    before = blocks_after(300)
    assert blocks_after(300) - before < 300


def test_an_index_keeps_its_compiled_campaigns_out_of_the_collectors_walk() -> None:
    """A till caches every campaign it can run, compiled: tens of thousands.
    Tracked, each was walked by every full collection (81 ms at 50,000 live
    on a benchmark machine, 43 ms untracked). Untracked, a compiled campaign
    must hold nothing that leads back to it: building an index, updating it
    for a sync and dropping both leave the collector nothing to find."""
    docs = [campaign(f"c{n}", items={"item_ids": [f"i{n % 3}"]}) for n in range(6)]
    docs.append(campaign("every", items={"all_items": True}))
    build_index(decode_campaigns(dump(docs)), STORE)  # (a first build fills caches: zones...)
    with collector_off() as unreachable:
        index = build_index(decode_campaigns(dump(docs)), STORE)
        assert len(index.by_id) == 7
        assert not any(gc.is_tracked(c) for c in index.by_id.values())
        moved = index.updated(decode_campaigns(dump([campaign("c1", priority=9)])))
        assert moved.by_id["c1"].priority == 9 and not gc.is_tracked(moved.by_id["c1"])
        assert moved.by_id["c2"] is index.by_id["c2"]
        del index, moved
        assert unreachable() == 0
