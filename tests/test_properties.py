"""Properties of the Spend & Save engine over random carts and campaigns (hypothesis)."""

from __future__ import annotations

import datetime as dt
from itertools import combinations
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_promo.codec import campaign_from_obj, cart_from_obj
from pos_promo.engine.compiled import compile_campaign
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import build_index
from pos_promo.engine.outcome import Outcome
from pos_promo.engine.spend_and_save import eligible_mains, run
from pos_promo.engine.units import apply, view_cart
from pos_promo.i18n import localise
from pos_promo.model.campaign import Campaign, ItemsFree, SpendSaveRule
from pos_promo.model.cart import Cart, StoreContext
from pos_promo.model.common import ShareRule
from pos_promo.model.result import EvaluationResult

STORE = StoreContext("s1", timezone="America/New_York")
AT = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)
PERIOD = {"start": "2026-01-01T00:00:00", "end": "2026-12-31T23:59:59"}
ITEMS = ["burger", "salad", "cola", "cake", "beer", "soup"]
CHILD_ITEMS = ["fries", "cheese", "bacon", "sauce"]
CATEGORIES = ["mains", "drinks", "desserts", "cold"]
LINE_IDS = list("ABCDEFGHJK")

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

prices = st.one_of(st.integers(0, 6000), st.sampled_from([0, 100, 500, 1000, 2500, 5000]))


@st.composite
def cart_dicts(draw: st.DrawFn, campaign_ids: tuple[str, ...] = ()) -> dict[str, Any]:
    """Mains with optional sides/modifiers; a child's quantity is a multiple of its main's."""
    ids = draw(st.permutations(LINE_IDS))
    lines: list[dict[str, Any]] = []
    for main_id in ids[: draw(st.integers(1, 5))]:
        quantity = draw(st.integers(1, 3))
        lines.append(
            {
                "line_id": main_id,
                "item_id": draw(st.sampled_from(ITEMS)),
                "category_ids": draw(
                    st.lists(st.sampled_from(CATEGORIES), max_size=2, unique=True)
                ),
                "quantity": quantity,
                "unit_price": draw(prices),
            }
        )
        for j in range(draw(st.integers(0, 2))):
            lines.append(
                {
                    "line_id": f"{main_id}-{j}",
                    "item_id": draw(st.sampled_from(CHILD_ITEMS)),
                    "quantity": quantity * draw(st.integers(1, 2)),
                    "unit_price": draw(st.integers(0, 1500)),
                    "role": draw(st.sampled_from(["side", "modifier"])),
                    "parent_line_id": main_id,
                }
            )
    cart: dict[str, Any] = {"order_id": "o-1", "store_id": "s1", "lines": lines}
    if draw(st.booleans()):
        cart["member"] = {"id": "m1", "tier": draw(st.sampled_from(["gold", "silver"]))}
    if campaign_ids:
        cart["requested_promotions"] = draw(st.lists(st.sampled_from(campaign_ids), unique=True))
    return cart


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    """One of the three rule types with 1-5 strictly rising tiers."""
    kind = draw(st.sampled_from(["spend_save", "items_save", "items_free"]))
    n = draw(st.integers(1, 5))
    saves = draw(st.lists(st.integers(1, 5000), min_size=n, max_size=n))
    if kind == "spend_save":
        spends = sorted(draw(st.lists(st.integers(1, 15000), min_size=n, max_size=n, unique=True)))
        tiers = [{"spend": s, "save": v} for s, v in zip(spends, saves, strict=True)]
    elif kind == "items_save":
        counts = sorted(draw(st.lists(st.integers(1, 8), min_size=n, max_size=n, unique=True)))
        tiers = [{"items": c, "save": v} for c, v in zip(counts, saves, strict=True)]
    else:
        sums = sorted(draw(st.lists(st.integers(2, 8), min_size=n, max_size=n, unique=True)))
        tiers = []
        for total in sums:
            buy = draw(st.integers(1, total - 1))
            tiers.append({"buy": buy, "free": total - buy})
    return {"type": kind, "tiers": tiers}


child_rules = st.fixed_dictionaries(
    {}, optional={"counts_toward_threshold": st.booleans(), "shares_discount": st.booleans()}
)


@st.composite
def item_scopes(draw: st.DrawFn) -> dict[str, Any]:
    scope: dict[str, Any] = {}
    which = draw(st.sampled_from(["all", "items", "categories", "both"]))
    if which == "all":
        scope["all_items"] = True
    if which in ("items", "both"):
        scope["item_ids"] = draw(st.lists(st.sampled_from(ITEMS), min_size=1, unique=True))
    if which in ("categories", "both"):
        scope["category_ids"] = draw(
            st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2, unique=True)
        )
    if draw(st.booleans()):
        scope["excluded_item_ids"] = draw(st.lists(st.sampled_from(ITEMS), max_size=2, unique=True))
    return scope


@st.composite
def campaign_dicts(draw: st.DrawFn, cid: str, all_ids: tuple[str, ...]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "spend_and_save",
        "id": cid,
        "name": f"Promotion {cid}",
        "period": PERIOD,
        "rule": draw(rules()),
        "items": draw(item_scopes()),
        "application_order": draw(st.sampled_from(["low_to_high", "high_to_low"])),
        "sides": draw(child_rules),
        "modifiers": draw(child_rules),
        "priority": draw(st.integers(0, 3)),
        "auto_apply": draw(st.sampled_from([True, True, True, False])),
    }
    if draw(st.booleans()):
        doc["max_discount"] = draw(st.integers(1, 5000))
    sharing = draw(st.sampled_from(["default", "all", "all", "none", "all_except"]))
    if sharing == "all_except":
        others = [i for i in all_ids if i != cid] or [cid]
        excepted = draw(st.lists(st.sampled_from(others), min_size=1, unique=True))
        doc["sharing"] = {"promotions": {"mode": "all_except", "except_ids": excepted}}
    elif sharing != "default":
        doc["sharing"] = {"promotions": {"mode": sharing}}
    if draw(st.integers(0, 3)) == 0:
        store_rule: dict[str, Any] = {"store_ids": [draw(st.sampled_from(["s1", "s2"]))]}
        if draw(st.booleans()):
            store_rule["rule"] = draw(rules())
        if draw(st.booleans()):
            store_rule["max_discount"] = draw(st.integers(1, 5000))
        if draw(st.booleans()):
            store_rule["application_order"] = draw(st.sampled_from(["low_to_high", "high_to_low"]))
        doc["store_rules"] = [store_rule]
    return doc


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Cart, list[Campaign]]:
    ids = tuple(f"p{i}" for i in range(draw(st.integers(1, 4))))
    campaigns = [campaign_from_obj(draw(campaign_dicts(cid, ids))) for cid in ids]
    cart = cart_from_obj(draw(cart_dicts(ids)))
    return cart, campaigns


def run_engine(cart: Cart, campaigns: list[Campaign]) -> EvaluationResult:
    return evaluate(cart, build_index(campaigns, STORE), at=AT)


def effective(campaign: Campaign) -> tuple[SpendSaveRule, int | None]:
    """The rule and cap store s1 uses, worked out from the document itself."""
    for store_rule in campaign.store_rules:
        if STORE.id in store_rule.store_ids:
            rule = store_rule.rule or campaign.rule
            cap = store_rule.max_discount
            return rule, cap if cap is not None else campaign.max_discount
    return campaign.rule, campaign.max_discount


def promotion_rule(campaign: Campaign) -> ShareRule:
    return campaign.sharing.promotions or ShareRule("none")


def allows(rule: ShareRule, other: str) -> bool:
    if rule.mode == "all":
        return True
    if rule.mode == "none":
        return False
    return other not in rule.except_ids


def normalised(result: EvaluationResult) -> bytes:
    """The result with lines keyed by line id, so line order does not matter."""
    lines = tuple(sorted(result.lines, key=lambda line: line.line_id))
    return msgspec.json.encode(msgspec.structs.replace(result, lines=lines))


@SETTINGS
@given(worlds())
def test_money_adds_up_and_stays_in_bounds(world: tuple[Cart, list[Campaign]]) -> None:
    cart, campaigns = world
    result = run_engine(cart, campaigns)
    by_id = {c.id: c for c in campaigns}
    applied_ids = [a.id for a in result.applied]

    assert len(set(applied_ids)) == len(applied_ids)
    assert sum(line.discount for line in result.lines) == result.total_discount
    assert sum(a.amount for a in result.applied) == result.total_discount
    assert 0 <= result.total_discount <= result.subtotal
    assert result.total == result.subtotal - result.total_discount
    assert result.selection == "exact"

    per_benefit = dict.fromkeys(applied_ids, 0)
    lines = {line.line_id: line for line in cart.lines}
    for out in result.lines:
        line = lines[out.line_id]
        assert out.subtotal == line.unit_price * line.quantity
        assert 0 <= out.net == out.subtotal - out.discount
        assert len(out.unit_discounts) == line.quantity
        assert all(0 <= d <= line.unit_price for d in out.unit_discounts)
        assert sum(out.unit_discounts) == out.discount
        assert sum(share.amount for share in out.benefits) == out.discount
        for share in out.benefits:
            assert share.amount > 0
            per_benefit[share.benefit_id] += share.amount
    assert per_benefit == {a.id: a.amount for a in result.applied}

    for applied in result.applied:
        campaign = by_id[applied.id]
        assert campaign.auto_apply or applied.id in cart.requested_promotions
        rule, cap = effective(campaign)
        assert applied.amount > 0
        assert applied.tier is not None and 1 <= applied.tier <= len(rule.tiers)
        if cap is not None:
            assert applied.amount <= cap
        if applied.capped:
            assert applied.amount == cap
        if not isinstance(rule, ItemsFree):
            assert applied.amount <= rule.tiers[applied.tier - 1].save

    for a, b in combinations(result.applied, 2):
        assert allows(promotion_rule(by_id[a.id]), b.id), (a.id, b.id)
        assert allows(promotion_rule(by_id[b.id]), a.id), (a.id, b.id)

    considered = {a.id for a in result.applied} | {n.id for n in result.not_applied}
    assert len(considered) == len(result.applied) + len(result.not_applied)
    for miss in localise(result, STORE).not_applied:
        assert miss.message.strip()


@SETTINGS
@given(worlds(), st.data())
def test_order_of_lines_and_campaigns_does_not_matter(
    world: tuple[Cart, list[Campaign]], data: st.DataObject
) -> None:
    cart, campaigns = world
    expected = normalised(run_engine(cart, campaigns))
    lines = data.draw(st.permutations(cart.lines), label="lines")
    shuffled = data.draw(st.permutations(campaigns), label="campaigns")
    again = run_engine(msgspec.structs.replace(cart, lines=tuple(lines)), list(shuffled))
    assert normalised(again) == expected


@SETTINGS
@given(worlds())
def test_evaluation_changes_nothing(world: tuple[Cart, list[Campaign]]) -> None:
    cart, campaigns = world
    cart_before = msgspec.json.encode(cart)
    campaigns_before = msgspec.json.encode(campaigns)
    index = build_index(campaigns, STORE)
    first = msgspec.json.encode(evaluate(cart, index, at=AT))
    second = msgspec.json.encode(evaluate(cart, index, at=AT))
    assert first == second
    assert msgspec.json.encode(cart) == cart_before
    assert msgspec.json.encode(campaigns) == campaigns_before


def brute_force_best(cart: Cart, campaigns: list[Campaign]) -> int:
    """Most any compatible set saves, each member run in execution order on the prices
    the ones before it left (SPEC §5), trying every subset."""
    view = view_cart(cart)
    compiled = sorted(
        (compile_campaign(c, STORE) for c in campaigns), key=lambda c: (-c.priority, c.id)
    )
    usable = [c for c in compiled if c.auto_apply or c.id in cart.requested_promotions]
    best = 0
    for size in range(1, len(usable) + 1):
        for subset in combinations(usable, size):
            if not all(
                allows(promotion_rule(a.campaign), b.id)
                and allows(promotion_rule(b.campaign), a.id)
                for a, b in combinations(subset, 2)
            ):
                continue
            prices, saved = view.base, 0
            for c in subset:
                standalone = run(c, view, view.base, mains=eligible_mains(c, view))
                out = run(c, view, prices, mains=eligible_mains(c, view))
                if not isinstance(standalone, Outcome) or not isinstance(out, Outcome):
                    break
                if out.amount == 0:
                    break
                saved += out.amount
                prices = apply(prices, out.allocation)
            else:
                best = max(best, saved)
    return best


@SETTINGS
@given(worlds())
def test_selection_saves_the_most(world: tuple[Cart, list[Campaign]]) -> None:
    """SPEC §5: the engine applies the compatible set that saves the customer the most."""
    cart, campaigns = world
    assert run_engine(cart, campaigns).total_discount == brute_force_best(cart, campaigns)
