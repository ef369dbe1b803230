"""Properties of selection across every benefit family (hypothesis): member
price, member discount, promotions and coupons in one order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from pos_promo.codec import campaign_from_obj, cart_from_obj
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import build_index
from pos_promo.model.cart import Cart
from pos_promo.model.coupon import Coupon
from pos_promo.model.result import EvaluationResult
from tests.test_properties import (
    AT,
    PERIOD,
    SETTINGS,
    STORE,
    campaign_dicts,
    cart_dicts,
    item_scopes,
    normalised,
)

WINDOW = (dt.datetime(2026, 11, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
FAMILY_DEFAULTS = {
    # what each family allows of each other family when nothing is set (SPEC §5)
    "promotion": {
        "promotion": False,
        "coupon": True,
        "member_price": True,
        "member_discount": True,
    },
    "coupon": {"promotion": True, "coupon": False, "member_price": True, "member_discount": True},
}


@st.composite
def share(draw: st.DrawFn) -> dict[str, Any] | None:
    mode = draw(st.sampled_from([None, "all", "none"]))
    return None if mode is None else {"mode": mode}


@st.composite
def sharing(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for family in ("coupons", "promotions"):
        rule = draw(share())
        if rule is not None:
            doc[family] = rule
    for member in ("member_price", "member_discount"):
        flag = draw(st.sampled_from([None, True, False]))
        if flag is not None:
            doc[member] = flag
    return doc


@st.composite
def template_dicts(draw: st.DrawFn, tid: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["amount_off", "percent_off", "free_item"]))
    benefit: dict[str, Any] = {"type": kind, "min_spend": draw(st.sampled_from([0, 0, 1000, 3000]))}
    if kind == "amount_off":
        benefit["amount"] = draw(st.integers(1, 3000))
    elif kind == "percent_off":
        benefit["rate_bp"] = draw(st.integers(1, 5000))
        if draw(st.booleans()):
            benefit["cap"] = draw(st.integers(1, 2000))
    return {
        "kind": "coupon_template",
        "id": tid,
        "name": f"Coupon {tid}",
        "period": PERIOD,
        "priority": draw(st.integers(0, 3)),
        "benefit": benefit,
        "items": draw(item_scopes()),
        "sharing": draw(sharing()),
    }


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Cart, list[Any], dict[str, Coupon]]:
    promo_ids = tuple(f"p{i}" for i in range(draw(st.integers(0, 3))))
    promos = []
    for cid in promo_ids:
        doc = draw(campaign_dicts(cid, promo_ids))
        doc["auto_apply"] = True
        extra = draw(sharing())
        extra.pop("promotions", None)
        doc["sharing"] = {**doc.get("sharing", {}), **extra}
        promos.append(doc)
    templates = [draw(template_dicts(f"t{i}")) for i in range(draw(st.integers(0, 3)))]
    cart = draw(cart_dicts())
    cart["member"] = {"id": "m1"}
    if draw(st.booleans()):
        cart["member"]["discount_rate_bp"] = draw(st.integers(1, 3000))
    for line in cart["lines"]:
        if draw(st.integers(0, 2)) == 0:
            line["member_unit_price"] = draw(st.integers(0, line["unit_price"]))
    wallet = {}
    for index, template in enumerate(templates):
        coupon_id = f"c{index}"
        wallet[coupon_id] = Coupon(coupon_id, template["id"], "m1", *WINDOW)
    cart["coupons"] = list(wallet)
    campaigns = [campaign_from_obj(doc) for doc in [*promos, *templates]]
    return cart_from_obj(cart), campaigns, wallet


def run_world(cart: Cart, campaigns: list[Any], wallet: dict[str, Coupon]) -> EvaluationResult:
    return evaluate(cart, build_index(campaigns, STORE), at=AT, wallet=wallet)


def family_of(kind: str) -> str:
    return {"spend_and_save": "promotion"}.get(kind, kind)


def allowed(doc: Any, other_family: str, other_key: str) -> bool:
    """What a campaign or template document allows of another benefit,
    worked out from its own settings and the SPEC's default scheme."""
    if doc is None:  # member price and member discount forbid nothing
        return True
    family = "coupon" if doc.__struct_config__.tag == "coupon_template" else "promotion"
    own = doc.sharing
    if other_family in ("member_price", "member_discount"):
        value = getattr(own, other_family)
        return FAMILY_DEFAULTS[family][other_family] if value is None else value
    rule = own.coupons if other_family == "coupon" else own.promotions
    if rule is None:
        return FAMILY_DEFAULTS[family][other_family]
    if rule.mode == "all_except":
        return other_key not in rule.except_ids
    return rule.mode == "all"


@SETTINGS
@given(worlds())
def test_no_two_applied_benefits_forbid_each_other(world: Any) -> None:
    cart, campaigns, wallet = world
    result = run_world(cart, campaigns, wallet)
    docs = {c.id: c for c in campaigns}
    applied = []
    for benefit in result.applied:
        doc = docs.get(benefit.template_id or benefit.id)
        key = benefit.template_id or benefit.id
        applied.append((doc, family_of(benefit.kind), key))
    for i, (doc_a, family_a, key_a) in enumerate(applied):
        for doc_b, family_b, key_b in applied[i + 1 :]:
            assert allowed(doc_a, family_b, key_b), (key_a, key_b)
            assert allowed(doc_b, family_a, key_a), (key_b, key_a)


def alone(cart: Cart, campaigns: list[Any], wallet: dict[str, Coupon], keep: str) -> int:
    """What one benefit gives with every other benefit taken out of the inputs."""
    member = cart.member
    assert member is not None
    lines = cart.lines
    if keep != "member_price":
        lines = tuple(msgspec.structs.replace(line, member_unit_price=None) for line in lines)
    rate = member.discount_rate_bp if keep == "member_discount" else None
    solo = msgspec.structs.replace(
        cart,
        lines=lines,
        member=msgspec.structs.replace(member, discount_rate_bp=rate),
        coupons=tuple(c for c in cart.coupons if c == keep),
    )
    kept = [c for c in campaigns if c.id == keep or c.__struct_config__.tag == "coupon_template"]
    return run_world(solo, kept, wallet).total_discount


@SETTINGS
@given(worlds())
def test_selection_is_never_worse_than_any_single_benefit(world: Any) -> None:
    cart, campaigns, wallet = world
    total = run_world(cart, campaigns, wallet).total_discount
    singles = ["member_price", "member_discount", *(c.id for c in campaigns), *wallet]
    for keep in singles:
        if keep.startswith("t"):
            continue  # templates are offered through their coupons
        assert total >= alone(cart, campaigns, wallet, keep), keep


@SETTINGS
@given(worlds(), st.data())
def test_order_of_lines_campaigns_and_coupons_does_not_matter(world: Any, data: Any) -> None:
    cart, campaigns, wallet = world
    first = run_world(cart, campaigns, wallet)
    shuffled = msgspec.structs.replace(
        cart,
        lines=tuple(data.draw(st.permutations(cart.lines))),
        coupons=tuple(data.draw(st.permutations(cart.coupons))),
    )
    again = run_world(shuffled, data.draw(st.permutations(campaigns)), wallet)
    assert normalised(again) == normalised(first)
