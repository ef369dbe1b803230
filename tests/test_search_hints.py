"""The hints benefits give the stacking search change no answer (hypothesis).

Real campaigns, coupons and member benefits hand the search what it may
skip work on: what a benefit surely gives, whether it fills units one by
one, and whether a "buy X get Y free" promotion frees alike after others. The same
evaluation with every hint taken away (only the plain bounds left, every
candidate searched together) must give the very same result, byte for
byte: the same set, amounts, lines and explanations.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_promo.codec import campaign_from_obj, cart_from_obj
from pos_promo.engine import evaluate as evaluate_module
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import build_index
from pos_promo.engine.selection import Candidate, select
from pos_promo.model.campaign import Campaign
from pos_promo.model.cart import Cart
from pos_promo.model.coupon import Coupon
from pos_promo.model.result import EvaluationResult
from tests import test_benefit_properties as families
from tests.test_evaluate_pruning import crowds
from tests.test_properties import AT, SETTINGS, STORE, campaign_dicts, cart_dicts

UNBOUNDED = 1 << 30


@st.composite
def open_crowds(draw: st.DrawFn) -> tuple[Cart, list[Campaign], dict[str, Coupon]]:
    """Up to eight promotions that all combine, on a cart of up to five
    mains: the shape where thresholds and frees interact the most."""
    ids = tuple(f"p{i}" for i in range(draw(st.integers(2, 8))))
    docs = []
    for cid in ids:
        doc = draw(campaign_dicts(cid, ids))
        doc["sharing"] = {"promotions": {"mode": "all"}}
        doc["auto_apply"] = True
        docs.append(doc)
    return cart_from_obj(draw(cart_dicts())), [campaign_from_obj(d) for d in docs], {}


def _plain(cands: Any, compatible: Any, base: Any, budget: int = UNBOUNDED, **_: Any) -> Any:
    """:func:`select` without hints, every candidate searched together."""
    bare = [
        Candidate(c.id, c.priority, c.is_coupon, c.standalone, c.run, c.bound, c.lines)
        for c in cands
    ]
    return select(bare, compatible, base, budget=UNBOUNDED, split=False)


def _evaluate(world: Any) -> EvaluationResult:
    cart, campaigns, wallet = world
    return evaluate(cart, build_index(campaigns, STORE), at=AT, wallet=wallet)


@SETTINGS
@given(st.one_of(open_crowds(), crowds(), families.worlds()))
def test_hints_change_no_answer(world: Any) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(evaluate_module, "select", _plain)
        patch.setattr(evaluate_module, "_select_among_winners", _plain)
        expected = _evaluate(world)
    got = _evaluate(world)
    assert got.selection == expected.selection == "exact"
    assert msgspec.json.encode(got) == msgspec.json.encode(expected)
