"""The campaign index: only this store's campaigns compiled, and an update
for a few changed campaigns that gives what a full rebuild gives."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_promo.codec import campaign_from_obj, cart_from_obj
from pos_promo.engine.evaluate import evaluate, explain
from pos_promo.engine.index import CampaignIndex, Listing, build_index
from pos_promo.engine.spend_and_save import eligible_mains
from pos_promo.engine.units import view_cart
from pos_promo.model.campaign import Campaign
from pos_promo.model.cart import StoreContext
from tests.helpers import campaign, cart, line
from tests.test_properties import STORE as PROPERTY_STORE
from tests.test_properties import worlds

STORE = StoreContext("s1", "America/New_York", org_ids=frozenset({"east"}))
ITEMS = ("a", "b", "c", "d")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def campaign_docs(draw: st.DrawFn, campaign_id: str, version: int) -> dict[str, Any]:
    stores = draw(
        st.sampled_from(
            ["all", {"store_ids": ["s1"]}, {"store_ids": ["s2"]}, {"org_ids": ["east"]}]
        )
    )
    items = draw(
        st.sampled_from(
            [
                {"all_items": True},
                {"item_ids": sorted(draw(st.sets(st.sampled_from(ITEMS), min_size=1)))},
                {"category_ids": [draw(st.sampled_from(["hot", "cold"]))]},
                {"item_ids": ["a"], "category_ids": ["cold"]},
                {"all_items": True, "excluded_item_ids": ["b"]},
                {"category_ids": ["hot"], "excluded_item_ids": ["a", "c"]},
            ]
        )
    )
    doc = campaign(
        campaign_id,
        {"type": "spend_save", "tiers": [{"spend": draw(st.integers(1, 8)) * 500, "save": 300}]},
        version=version,
        stores=stores,
        items=items,
        priority=draw(st.integers(0, 3)),
        status=draw(st.sampled_from(["active", "active", "paused", "archived"])),
    )
    if draw(st.booleans()):
        doc["sharing"] = {"promotions": {"mode": "all"}}
    return doc


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Campaign], list[Campaign]]:
    """A campaign set, and a sync's changes: new versions of some, new ones."""
    n = draw(st.integers(1, 12))
    first = [draw(campaign_docs(f"p{i:02d}", 1)) for i in range(n)]
    changed_ids = draw(st.sets(st.integers(0, n + 3), max_size=5))
    changes = [draw(campaign_docs(f"p{i:02d}", 2)) for i in sorted(changed_ids)]
    return [campaign_from_obj(d) for d in first], [campaign_from_obj(d) for d in changes]


CARTS = [
    cart_from_obj(
        cart(
            line("L1", 2500, item_id="a", category_ids=["hot"]),
            line("L2", 1800, 2, item_id="b", category_ids=["cold"]),
            line("L3", 900, item_id="d", category_ids=["hot"]),
        )
    ),
    cart_from_obj(cart(line("L1", 4000, item_id="c", category_ids=["cold"]))),
    cart_from_obj(
        cart(line("L1", 3000, item_id="a"), requested_promotions=["p00", "p01", "p02", "p15"])
    ),
]


def _shape(index: CampaignIndex) -> dict[str, object]:
    return {
        "compiled": sorted(index.by_id),
        "elsewhere": sorted(index.elsewhere),
        "by_item": {k: sorted(c.id for c in v) for k, v in index.by_item.items()},
        "by_category": {k: sorted(c.id for c in v) for k, v in index.by_category.items()},
        "store_wide": sorted(c.id for c in index.store_wide),
        # what the look-up reads: each campaign at its version, and the items it leaves out
        "item_listings": {k: _listed(v) for k, v in index.item_listings.items()},
        "category_listings": {k: _listed(v) for k, v in index.category_listings.items()},
        "store_wide_ids": sorted((k, c.campaign.version) for k, c in index.store_wide_ids.items()),
    }


def _listed(listing: Listing) -> tuple[object, ...]:
    return (
        sorted((k, c.campaign.version) for k, c in listing.found.items()),
        {item: sorted(ids) for item, ids in sorted(listing.leaving.items())},
    )


@SETTINGS
@given(histories())
def test_an_update_gives_what_a_full_rebuild_gives(
    history: tuple[list[Campaign], list[Campaign]],
) -> None:
    first, changes = history
    before = build_index(first, STORE)
    shape_before = _shape(before)
    latest = {c.id: c for c in first} | {c.id: c for c in changes}
    rebuilt = build_index(sorted(latest.values(), key=lambda c: c.id), STORE)
    updated = before.updated(changes)
    assert _shape(updated) == _shape(rebuilt)
    assert _shape(before) == shape_before  # the old index is left as it was
    for one in CARTS:
        assert evaluate(one, updated) == evaluate(one, rebuilt)
        for cid in sorted(latest):
            assert explain(one, updated, cid) == explain(one, rebuilt, cid)


def test_only_this_stores_campaigns_are_compiled() -> None:
    campaigns = [
        campaign_from_obj(campaign("here", stores={"store_ids": ["s1"]})),
        campaign_from_obj(campaign("org", stores={"org_ids": ["east"]})),
        campaign_from_obj(campaign("there", stores={"store_ids": ["s2"]})),
    ]
    index = build_index(campaigns, STORE)
    assert sorted(index.by_id) == ["here", "org"]
    assert sorted(index.elsewhere) == ["there"]
    assert len(index) == 3
    one = cart_from_obj(cart(line("L1", 12000), requested_promotions=["there"]))
    verdict = explain(one, index, "there")
    assert (verdict.id, getattr(verdict, "reason", None)) == ("there", "store_not_eligible")
    missed = {n.id: n.reason for n in evaluate(one, index).not_applied}
    assert missed["there"] == "store_not_eligible"


def test_campaigns_alike_in_audience_share_a_class_and_keep_their_own_verdicts() -> None:
    """The index files campaigns by what the audience checks read, so that a
    cart checks each class once: alike ones share a class and are each
    explained under their own id and name; one fact apart, or with
    participation limits (counted per campaign), is not in it; an update
    moves a campaign to the class of its new facts."""
    docs = [
        campaign("twin-a", items={"all_items": True}, channels=["online"]),
        campaign("twin-b", items={"all_items": True}, channels=["online"]),
        campaign("other", items={"all_items": True}, channels=["online"], service_types=["pickup"]),
        campaign(
            "limited",
            items={"all_items": True},
            channels=["online"],
            limits={"per_member_total": 1},
        ),
    ]
    index = build_index([campaign_from_obj(d) for d in docs], STORE)
    classes = {cid: c.facts.audience for cid, c in index.by_id.items()}
    assert classes["twin-a"] == classes["twin-b"] != classes["other"]
    assert classes["limited"] == -1  # its per-member limit reads its own counts
    one = cart_from_obj(cart(line("L1", 12000)))  # at the till (pos), dine in
    missed = {n.id: (n.name, n.reason, n.params) for n in evaluate(one, index).not_applied}
    assert missed == {
        "twin-a": ("twin-a", "channel_not_eligible", {"channel": "pos"}),
        "twin-b": ("twin-b", "channel_not_eligible", {"channel": "pos"}),
        "other": ("other", "channel_not_eligible", {"channel": "pos"}),
        "limited": ("limited", "channel_not_eligible", {"channel": "pos"}),
    }
    online = cart_from_obj(cart(line("L1", 12000), channel="online"))
    result = evaluate(online, index)
    assert {n.id: n.reason for n in result.not_applied} == {
        "twin-b": "not_shareable",  # saves as much as twin-a, which comes first by id
        "other": "service_type_not_eligible",
        "limited": "member_required",
    }
    assert [a.id for a in result.applied] == ["twin-a"]
    moved = index.updated([campaign_from_obj(campaign("twin-b", items={"all_items": True}))])
    assert moved.by_id["twin-b"].facts.audience != moved.by_id["twin-a"].facts.audience
    # the old index as it was: its campaigns are not the new one's
    assert index.by_id["twin-b"].facts.audience == index.by_id["twin-a"].facts.audience
    assert moved.by_id["twin-a"] is index.by_id["twin-a"]
    result = evaluate(one, moved)
    assert {n.id: n.reason for n in result.not_applied} == {
        "twin-a": "channel_not_eligible",
        "other": "channel_not_eligible",
        "limited": "channel_not_eligible",
    }
    assert [a.id for a in result.applied] == ["twin-b"]


@SETTINGS
@given(st.data())
def test_the_look_up_gives_each_campaign_the_main_lines_its_scope_selects(
    data: st.DataObject,
) -> None:
    """What the look-up tells about a campaign found through the cart's items
    or categories (excluded items left out) is what ``eligible_mains`` works
    out from the scope; the store-wide ones and those reaching a line are
    all found."""
    cart_, campaigns = data.draw(worlds())
    index = build_index(campaigns, PROPERTY_STORE)
    found, hits = index.lookup(cart_, ordered=False)
    view = view_cart(cart_)
    for campaign_id, mains in hits.items():
        compiled = index.compiled(campaign_id)
        assert compiled is not None
        assert mains == tuple(eligible_mains(compiled, view))
    found_ids = {c.id for c in found}
    for compiled in index.by_id.values():
        if compiled.items.all_items:
            assert compiled.id in found_ids
        elif eligible_mains(compiled, view):
            assert compiled.id in found_ids
            assert compiled.id in hits


def test_a_campaign_listed_under_several_reached_keys_gets_all_their_lines() -> None:
    """Campaigns found through two or three of the cart's items and
    categories get every line those reach (added up once met again), and
    the campaigns reaching the same lines share one tuple of them."""
    docs = [
        campaign("p1", items={"item_ids": ["b"], "category_ids": ["C"]}),
        campaign("p2", items={"category_ids": ["C", "D"]}),
        campaign("p3", items={"category_ids": ["D"]}),
        campaign("p4", items={"item_ids": ["a", "c"]}),
        campaign("p5", items={"item_ids": ["c"], "category_ids": ["C", "D"]}),
    ]
    index = build_index([campaign_from_obj(d) for d in docs], STORE)
    one = cart_from_obj(
        cart(
            line("L1", 1000, item_id="a", category_ids=["C"]),
            line("L2", 1000, item_id="b", category_ids=["D"]),
            line("L3", 1000, item_id="c", category_ids=["C", "D"]),
        )
    )
    _, hits = index.lookup(one, ordered=False)
    assert hits == {"p1": (0, 1, 2), "p2": (0, 1, 2), "p3": (1, 2), "p4": (0, 2), "p5": (0, 1, 2)}
    assert hits["p1"] is hits["p2"] is hits["p5"]
    view = view_cart(one)
    for campaign_id, mains in hits.items():
        compiled = index.compiled(campaign_id)
        assert compiled is not None
        assert mains == tuple(eligible_mains(compiled, view))
