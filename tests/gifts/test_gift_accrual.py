"""What a committed order adds to a member's cumulative gift total (SPEC §6).

Every test commits real orders into a real SQLite file and reads the
member's standing back through the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from pos_promo.embedded import Engine
from pos_promo.i18n import accrual_message, progress, words_for
from tests.gifts.builders import MEMBER, STORE, activity, dump, gift_cart, rows, template
from tests.helpers import campaign, line

SPEND_100_SAVE_10 = campaign(
    "p1", {"type": "spend_save", "tiers": [{"spend": 10000, "save": 1000}]}
)


def total(engine: Engine, activity_id: str = "g1", member: str = MEMBER) -> int:
    standing = {a.activity_id: a for a in engine.member(member).activities}
    return standing[activity_id].total if activity_id in standing else 0


def test_spend_is_what_the_member_paid_for_eligible_lines_after_every_discount(
    open_till: Callable[..., Engine],
) -> None:
    high_first = {**SPEND_100_SAVE_10, "application_order": "high_to_low"}
    engine = open_till(template(), activity(items={"item_ids": ["steak"]}), high_first)
    result = engine.commit(
        gift_cart(
            "o-1",
            line("A", 9000, item_id="steak"),
            line("A-side", 1000, item_id="fries", role="side", parent_line_id="A"),
            line("B", 5000, item_id="wine"),
        )
    )
    nets = {x.line_id: x.net for x in result.lines}
    assert result.total_discount == 1000
    assert (nets["A"], nets["A-side"], nets["B"]) == (8100, 900, 5000)
    assert total(engine) == 9000  # the side follows its main; B is not designated


def test_count_is_eligible_main_units_not_made_free_and_sides_never_count(
    open_till: Callable[..., Engine],
) -> None:
    buy_2_get_1 = campaign("p2", {"type": "items_free", "tiers": [{"buy": 2, "free": 1}]})
    engine = open_till(template(), activity(measure="count", threshold=10), buy_2_get_1)
    engine.commit(
        gift_cart(
            "o-1",
            line("A", 400, qty=3, item_id="taco"),
            line("S", 100, qty=3, item_id="salsa", role="side", parent_line_id="A"),
        )
    )
    assert total(engine) == 2  # three tacos, one free


def test_designated_items_are_included_items_and_categories_minus_excluded_items(
    open_till: Callable[..., Engine],
) -> None:
    scope = {"item_ids": ["steak"], "category_ids": ["drinks"], "excluded_item_ids": ["water"]}
    engine = open_till(template(), activity(items=scope))
    engine.commit(
        gift_cart(
            "o-1",
            line("A", 3000, item_id="steak"),
            line("B", 800, item_id="cola", category_ids=["drinks"]),
            line("C", 300, item_id="water", category_ids=["drinks"]),
            line("D", 1200, item_id="salad"),
        )
    )
    assert total(engine) == 3800


def test_an_anonymous_order_accrues_nothing(till: Engine) -> None:
    result = till.commit(gift_cart("o-1", member=None))
    assert total(till) == 0
    (preview,) = result.accruals
    assert preview.reason == "member_required" and preview.adds == 0


@pytest.mark.parametrize(
    ("fields", "cart_fields", "reason"),
    [
        ({"stores": {"org_ids": ["org-west"]}}, {}, None),  # other stores: not even shown
        ({"channels": ["online"]}, {}, "channel_not_eligible"),
        ({"service_types": ["delivery"]}, {}, "service_type_not_eligible"),
        ({"participants": {"card_programs": ["gold-card"]}}, {}, "member_not_eligible"),
        ({"period": {"start": "2026-01-01T00:00:00", "end": "2026-06-30T23:59:59"}}, {}, "ended"),
        ({"status": "paused"}, {}, "inactive"),
    ],
)
def test_an_order_outside_the_activitys_audience_accrues_nothing(
    open_till: Callable[..., Engine],
    fields: dict[str, object],
    cart_fields: dict[str, object],
    reason: str | None,
) -> None:
    engine = open_till(template(), activity(**fields))
    result = engine.commit(gift_cart("o-1", **cart_fields))
    assert total(engine) == 0
    assert [p.reason for p in result.accruals] == ([reason] if reason else [])


def test_stores_by_organisation_and_membership_card_programs_that_match_accrue(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(
        template(),
        activity(stores={"org_ids": ["org-east"]}, participants={"card_programs": ["gold-card"]}),
    )
    engine.commit(gift_cart("o-1", member_fields={"card_programs": ["gold-card"]}))
    assert total(engine) == 10000


# -- sharing rules ------------------------------------------------------------


def test_a_gift_combines_with_every_benefit_by_default(open_till: Callable[..., Engine]) -> None:
    engine = open_till(template(), activity(), SPEND_100_SAVE_10)
    engine.commit(
        gift_cart(
            "o-1",
            line("A", 12000, member_unit_price=11000),
            member_fields={"discount_rate_bp": 500},
        )
    )
    assert total(engine) > 0


def test_an_order_with_a_promotion_the_gift_does_not_share_with_accrues_nothing(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(
        template(),
        activity(sharing={"promotions": {"mode": "all_except", "except_ids": ["p1"]}}),
        SPEND_100_SAVE_10,
    )
    result = engine.commit(gift_cart("o-1", line("A", 12000)))
    assert [a.id for a in result.applied] == ["p1"]
    assert total(engine) == 0
    assert result.accruals[0].reason == "not_shareable"
    assert accrual_message(result.accruals[0], words_for(engine.store)) == (
        "The order used promotion p1, which this activity does not share with."
    )


def test_an_order_with_a_promotion_the_gift_does_share_with_accrues(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(
        template(),
        activity(sharing={"promotions": {"mode": "all_except", "except_ids": ["p9"]}}),
        SPEND_100_SAVE_10,
    )
    engine.commit(gift_cart("o-1", line("A", 12000)))
    assert total(engine) == 11000


def test_an_order_that_used_member_price_accrues_nothing_when_not_shared(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(template(), activity(sharing={"member_price": False}))
    result = engine.commit(gift_cart("o-1", line("A", 12000, member_unit_price=11000)))
    assert total(engine) == 0 and result.accruals[0].reason == "not_shareable"
    engine.commit(gift_cart("o-2", line("A", 12000)))  # no member price used: accrues
    assert total(engine) == 12000


def test_an_order_that_used_the_member_discount_accrues_nothing_when_not_shared(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(template(), activity(sharing={"member_discount": False}))
    engine.commit(gift_cart("o-1", line("A", 12000), member_fields={"discount_rate_bp": 1000}))
    assert total(engine) == 0


def test_an_order_that_used_a_coupon_accrues_nothing_when_coupons_are_not_shared(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(
        template("t-5off"),
        template("t-other"),
        activity(sharing={"coupons": {"mode": "all_except", "except_ids": ["t-5off"]}}),
    )
    engine.add_coupons(
        dump(
            [
                {
                    "id": f"c-{name}",
                    "template_id": name,
                    "member_id": MEMBER,
                    "valid_from": "2026-01-01T00:00:00Z",
                    "valid_until": "2026-12-31T00:00:00Z",
                }
                for name in ("t-5off", "t-other")
            ]
        )
    )
    engine.commit(gift_cart("o-1", line("A", 12000), coupons=["c-t-5off"]))
    assert total(engine) == 0
    engine.commit(gift_cart("o-2", line("A", 12000), coupons=["c-t-other"]))
    assert total(engine) == 11500


# -- tenders ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assets", "payments", "expected"),
    [
        ({}, [("cash", 6000), ("prepaid_balance", 4000)], 10000),
        ({"prepaid_balance": False}, [("cash", 6000), ("prepaid_balance", 4000)], 6000),
        ({"points": False}, [("card", 7500), ("points", 2500)], 7500),
        ({"points": False}, [("card", 10000)], 10000),
        ({"prepaid_balance": False, "points": False}, [("prepaid_balance", 10000)], 0),
    ],
)
def test_the_share_paid_with_a_non_shareable_asset_tender_does_not_accrue(
    open_till: Callable[..., Engine],
    assets: dict[str, bool],
    payments: list[tuple[str, int]],
    expected: int,
) -> None:
    engine = open_till(template(), activity(assets=assets))
    engine.commit(
        gift_cart("o-1", line("A", 10000)),
        [{"tender": t, "amount": a} for t, a in payments],
    )
    assert total(engine) == expected


def test_the_pro_rata_share_of_eligible_lines_rounds_half_up(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(
        template(), activity(items={"item_ids": ["steak"]}, assets={"prepaid_balance": False})
    )
    engine.commit(
        gift_cart("o-1", line("A", 1001, item_id="steak"), line("B", 999, item_id="tea")),
        [{"tender": "cash", "amount": 1000}, {"tender": "prepaid_balance", "amount": 1000}],
    )
    assert total(engine) == 501  # 1001 x 1000 / 2000 = 500.5


def test_evaluating_previews_the_progress_and_changes_nothing(till: Engine) -> None:
    till.commit(gift_cart("o-1", line("A", 5000)))
    preview = till.evaluate(gift_cart("o-2", line("A", 4000))).accruals[0]
    assert (preview.total, preview.adds, preview.reaches) == (5000, 4000, 9000)
    assert preview.progress == ""  # the engine gives facts; the edge words them
    assert progress(preview, words_for(till.store)) == "$90.00 of $100.00"
    assert preview.triggers == ()
    assert total(till) == 5000
    assert STORE.currency == "USD"


def test_a_gift_naming_a_sharing_plan_the_till_does_not_know_accrues_nothing_yet(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(template(), activity(sharing_plan="plan-x"))
    result = engine.commit(gift_cart("o-1", line("A", 12000)))
    assert total(engine) == 0
    assert result.accruals[0].reason == "sharing_plan_unknown"


def test_a_sharing_plan_decides_what_the_gift_does_not_set_itself(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till()
    catalog = {
        "campaigns": [activity(sharing_plan="no-promos"), SPEND_100_SAVE_10],
        "coupon_templates": [template()],
        "sharing_plans": [{"id": "no-promos", "sharing": {"promotions": {"mode": "none"}}}],
    }
    engine.import_campaigns(dump(catalog))
    result = engine.commit(gift_cart("o-1", line("A", 12000)))
    assert total(engine) == 0 and result.accruals[0].reason == "not_shareable"
    engine.commit(gift_cart("o-2", line("A", 9000)))  # no promotion used: accrues
    assert total(engine) == 9000


def test_committing_the_same_order_again_accrues_and_grants_nothing_twice(till: Engine) -> None:
    first = till.commit(gift_cart("o-1", line("A", 25000)))
    again = till.commit(gift_cart("o-1", line("A", 25000)))
    assert again == msgspec.structs.replace(first, repeat=True)
    assert total(till) == 25000
    assert [g.ordinal for g in till.member(MEMBER).grants] == [1, 2]
    assert len(till.wallet(MEMBER)) == 2


def test_evaluating_writes_nothing_but_releases_already_due(till: Engine) -> None:
    till.commit(gift_cart("o-1", line("A", 5000)))
    before = rows(Path(till.path), "gift_accruals", "gift_grants", "wallet", "outbox")
    for order in ("o-2", "o-3"):
        till.evaluate(gift_cart(order, line("A", 90000)))
    assert rows(Path(till.path), "gift_accruals", "gift_grants", "wallet", "outbox") == before
