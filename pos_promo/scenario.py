"""Scenario files: every input of one evaluation, and what it must give.

A scenario is one JSON object: ``name``, ``campaigns`` (the list HQ serves,
coupon templates included), ``cart``, ``at``, optional ``store``,
``member_counts``, ``plans`` (sharing plan id -> settings), ``wallet`` (the
member's coupons) and ``execution_order``, and ``expect``. The golden tests
and ``pos-promo evaluate --scenario`` read the same files, so a worked
example in the docs is also a test.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

from pos_promo.codec import check_cart, check_store, convert
from pos_promo.codec import decode_campaigns as _decode_campaigns
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import build_index
from pos_promo.errors import InvalidCampaign, InvalidCart, InvalidInput, InvalidStore
from pos_promo.model.cart import Cart, MemberCounts, StoreContext
from pos_promo.model.common import Sharing
from pos_promo.model.coupon import Coupon, ExecutionOrder
from pos_promo.model.result import EvaluationResult

__all__ = ["Expectation", "Scenario", "load_scenario", "result_json", "run_scenario"]


class Expectation(Struct, frozen=True):
    """What a person checked by hand: minor units per line, ids, reason codes."""

    total_discount: int
    lines: dict[str, int]
    applied: list[str]
    not_applied: dict[str, str] = {}
    tiers: dict[str, int] = {}


class Scenario(Struct, frozen=True):
    """One worked example: campaigns, a cart, an instant and (for tests) what the engine must
    answer; the JSON files under fixtures/ are these."""

    name: str
    campaigns: tuple[Any, ...]
    cart: Any
    at: Annotated[dt.datetime, Meta(tz=True)]
    expect: Expectation | None = None
    store: StoreContext | None = None
    member_counts: MemberCounts | None = None
    plans: dict[str, Sharing] = {}
    wallet: tuple[Coupon, ...] = ()
    execution_order: ExecutionOrder | None = None
    description: str = ""


def load_scenario(path: str | Path | bytes) -> Scenario:
    """Read and check a scenario file (or its bytes); errors carry paths like ``$.cart``."""
    raw = json.loads(path if isinstance(path, bytes) else Path(path).read_bytes())
    scenario = convert(raw, Scenario, InvalidInput)
    if scenario.store is not None:
        check_store(scenario.store, "$.store")
    return scenario


def _prefixed(exc: InvalidInput, prefix: str) -> InvalidInput:
    kind = type(exc)
    path = prefix + exc.path[1:]
    return kind(path, exc.rule, exc.value) if exc.has_value else kind(path, exc.rule)


def run_scenario(scenario: Scenario) -> EvaluationResult:
    """Evaluate the scenario's cart against its campaigns at its instant."""
    try:
        campaigns = _decode_campaigns(json.dumps(scenario.campaigns))
    except InvalidCampaign as exc:
        raise _prefixed(exc, "$.campaigns") from None
    cart = convert(scenario.cart, Cart, InvalidCart, "$.cart")
    try:
        check_cart(cart)
    except InvalidCart as exc:
        raise _prefixed(exc, "$.cart") from None
    store = scenario.store or StoreContext(cart.store_id)
    if store.id != cart.store_id:
        raise InvalidStore("$.store.id", f"must match cart.store_id {cart.store_id!r}", store.id)
    index = build_index(campaigns, store)
    return evaluate(
        cart,
        index,
        at=scenario.at,
        counts=scenario.member_counts,
        plans=scenario.plans,
        wallet={coupon.id: coupon for coupon in scenario.wallet},
        order=scenario.execution_order,
    )


def result_json(result: EvaluationResult) -> bytes:
    """The result as compact JSON, byte for byte what golden files compare."""
    return msgspec.json.encode(result)
