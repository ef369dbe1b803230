"""What the cashier reads: each frustration of issue 14, shown fixed.

Campaign ids instead of names; "which saves more" when the winner saved the
same; "used it 4 of 3 times"; a time slot without its weekdays; gift coupons
as raw UUIDs; times in UTC for a New York store; money written the English
way for every currency; English only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pos_promo import (
    campaign_from_obj,
    cart_from_obj,
    evaluate,
    localise,
    render_receipt,
)
from pos_promo.codec import decode_store
from pos_promo.engine.index import build_index
from pos_promo.errors import InvalidStore
from pos_promo.i18n import not_applied_message, words_for
from pos_promo.model.cart import MemberCounts, ParticipationCount, StoreContext
from pos_promo.model.result import EvaluationResult, NotApplied
from pos_promo.scenario import load_scenario, run_scenario
from tests.helpers import campaign, cart, line

SCENARIOS = Path(__file__).resolve().parent.parent / "fixtures" / "scenarios"
NEW_YORK = StoreContext("s1", "America/New_York", "USD")
NY_NOON = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)  # Friday 12:00 in New York


def scenario_words(stem: str, locale: str = "en_US") -> EvaluationResult:
    scenario = load_scenario(SCENARIOS / f"{stem}.json")
    store = scenario.store or StoreContext("s1")
    return localise(run_scenario(scenario), msgspec.structs.replace(store, locale=locale))


def plain(text: str) -> str:
    """CLDR's no-break spaces ("5:00 PM", "1.234,56 €") as plain ones, to compare."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def only(result: EvaluationResult, campaign_id: str) -> NotApplied:
    (found,) = [n for n in result.not_applied if n.id == campaign_id]
    return found


def evaluate_one(doc: dict[str, Any], store: StoreContext = NEW_YORK, **kw: Any) -> NotApplied:
    index = build_index([campaign_from_obj(doc)], store)
    result = evaluate(cart_from_obj(cart(line("A", 1500), **kw)), index, at=NY_NOON)
    (miss,) = result.not_applied
    return localise(miss, store)


# -- names beside ids ----------------------------------------------------------


def test_not_applied_names_the_campaign_beside_its_id_on_the_receipt() -> None:
    doc = campaign("p-lunch", name="Lunch: spend $100 save $10")
    miss = evaluate_one(doc)
    assert miss.name == "Lunch: spend $100 save $10"  # the engine carries the name
    index = build_index([campaign_from_obj(doc)], NEW_YORK)
    result = evaluate(cart_from_obj(cart(line("A", 1500))), index, at=NY_NOON)
    text = render_receipt(result, store=NEW_YORK)
    assert "“Lunch: spend $100 save $10” (p-lunch):" in text
    assert "$15.00 of $100.00 on eligible items." in text


# -- tie messages that say why the winner won ---------------------------------


def test_a_tie_lost_on_priority_says_so_not_which_saves_more() -> None:
    miss = only(scenario_words("tie-higher-priority"), "tie-aaa")
    assert miss.params["won_on"] == "priority"
    assert miss.message == (
        "Cannot be combined with “Save $10 (z)” (tie-zzz): same saving; won on priority."
    )


def test_a_tie_on_saving_and_priority_says_it_was_decided_by_id() -> None:
    miss = only(scenario_words("tie-equal-priority-smaller-id"), "tie-b")
    assert miss.message == (
        "Cannot be combined with “Save $10 (a)” (tie-a): "
        "same saving and priority; won on campaign id."
    )


def test_a_tie_with_a_coupon_says_the_coupon_stays_in_the_wallet() -> None:
    result = scenario_words("benefits-tie-fewer-coupons-wins")
    (miss,) = result.not_applied
    assert miss.params["won_on"] == "fewer_coupons"
    assert miss.message == (
        "Cannot be combined with p: same saving; won so the coupon stays in the wallet."
    )


def test_a_winner_that_saves_more_says_by_how_much() -> None:
    (miss,) = scenario_words("benefits-coupon-forbids-promotions").not_applied
    assert miss.message == (
        "Cannot be combined with “t15” (c15), which saves more ($18.00 against $10.00)."
    )


# -- limits --------------------------------------------------------------------


def test_a_member_over_the_limit_never_reads_4_of_3_times() -> None:
    """HQ adds up participations from every store: a member may be past the limit."""
    doc = campaign("club", name="Club", limits={"per_member_total": 3})
    index = build_index([campaign_from_obj(doc)], NEW_YORK)
    counts = MemberCounts({"club": ParticipationCount(total=4)})
    c = cart_from_obj(cart(line("A", 12000), member={"id": "m1"}))
    (miss,) = evaluate(c, index, at=NY_NOON, counts=counts).not_applied
    assert (miss.reason, miss.params) == ("total_limit_reached", {"used": 4, "limit": 3})
    assert localise(miss, NEW_YORK).message == "Member has already used this the 3 times allowed."


def test_a_daily_limit_of_one_reads_in_the_singular() -> None:
    w = words_for(NEW_YORK)
    miss = NotApplied(
        "club", "spend_and_save", "daily_limit_reached", params={"used": 1, "limit": 1}
    )
    assert not_applied_message(miss, w) == "Member has already used this the 1 time allowed today."


# -- time slots with their weekdays, in the store's time ------------------------


def test_a_time_slot_message_names_its_weekdays_and_the_local_time() -> None:
    miss = only(scenario_words("slot-end-exclusive"), "lunch")
    assert miss.reason == "outside_time_slot"
    # 19:00 UTC on the New York clock; a slot of every day says so
    assert plain(miss.message) == "Only offered daily 11:00 AM–2:00 PM; it is Fri 2:00 PM."


def test_slot_weekdays_read_as_ranges_and_lists() -> None:
    doc = campaign(
        "p-lunch",
        time_slots=[
            {"start": "11:00", "end": "14:30", "weekdays": [1, 2, 3, 4, 5]},
            {"start": "10:00", "end": "15:00", "weekdays": [6, 7]},
        ],
    )
    saturday = dt.datetime(2026, 11, 21, 22, 0, tzinfo=dt.UTC)  # Sat 17:00 in New York
    index = build_index([campaign_from_obj(doc)], NEW_YORK)
    c = cart_from_obj(cart(line("A", 12000)))
    (miss,) = evaluate(c, index, at=saturday).not_applied
    assert plain(localise(miss, NEW_YORK).message) == (
        "Only offered Mon–Fri 11:00 AM–2:30 PM; Sat, Sun 10:00 AM–3:00 PM; it is Sat 5:00 PM."
    )
    berlin = StoreContext("s1", "America/New_York", "EUR", locale="de_DE")
    assert localise(miss, berlin).message == (
        "Only offered Mo.–Fr. 11:00–14:30; Sa., So. 10:00–15:00; it is Sa. 17:00."
    )
    shanghai = StoreContext("s1", "America/New_York", "CNY", locale="zh_CN")
    assert localise(miss, shanghai).message == (
        "仅限周一至周五 11:00–14:30；周六、周日 10:00–15:00；现在是周六 17:00。"
    )


def test_the_receipt_shows_the_new_york_clock_not_utc() -> None:
    result = run_scenario(load_scenario(SCENARIOS / "slot-end-exclusive.json"))
    text = render_receipt(result, store=NEW_YORK)
    assert "Fri, Nov 20, 2026, 2:00 PM" in text
    assert "7:00 PM" not in text


# -- gift coupons by their template's name --------------------------------------


def test_a_presented_gift_coupon_reads_by_its_templates_name_not_its_uuid() -> None:
    uuid = "3f9c2a70-5d1e-4b8a-9c4e-2f6d8b1a7e55"
    miss = NotApplied(
        uuid,
        "coupon",
        "coupon_invalid",
        cause="expired",
        name="Free dessert",
        params={"valid_until": "2026-11-15T16:00:00+00:00"},
    )
    result = EvaluationResult("o-1", "s1", NY_NOON, "USD", 1000, 0, 1000, (), (), (miss,), "exact")
    text = render_receipt(result, store=NEW_YORK)
    assert "“Free dessert” (…1a7e55):" in text
    assert uuid not in text
    assert "Expired Sun, Nov 15, 2026, 11:00 AM." in text  # 16:00 UTC in New York


# -- money in the locale's way, for its currency -------------------------------


@pytest.mark.parametrize(
    ("locale", "currency", "minor", "expected"),
    [
        ("en_US", "USD", 123456, "$1,234.56"),
        ("de_DE", "EUR", 123456, "1.234,56\xa0€"),
        ("en_DE", "EUR", 123456, "1.234,56\xa0€"),
        ("zh_CN", "CNY", 123456, "¥1,234.56"),
        ("de_CH", "CHF", 123456, "CHF\xa01'234.56"),
        ("ja_JP", "JPY", 123456, "￥123,456"),  # no minor unit: 123456 yen
        ("de_DE", "EUR", -500, "-5,00\xa0€"),
    ],
)
def test_money_is_written_as_the_stores_locale_writes_its_currency(
    locale: str, currency: str, minor: int, expected: str
) -> None:
    w = words_for(StoreContext("s1", "Europe/Berlin", currency, locale=locale))
    assert w.money(minor) == expected


# -- the store's language --------------------------------------------------------


def test_a_chinese_store_reads_chinese_and_a_traditional_one_falls_back_to_english() -> None:
    doc = campaign("p1", name="满100减10")
    for locale, expected in [
        ("zh_CN", "适用商品已消费 ¥15.00，需满 ¥100.00。"),
        ("zh", "适用商品已消费 ¥15.00，需满 ¥100.00。"),
        ("zh_Hans_SG", "适用商品已消费 ¥15.00，需满 ¥100.00。"),
        ("zh_TW", "CN¥15.00 of CN¥100.00 on eligible items."),  # no zh_Hant catalog
        ("de_DE", "15,00 CN¥ of 100,00 CN¥ on eligible items."),  # no German catalog yet
    ]:
        store = StoreContext("s1", "Asia/Shanghai", "CNY", locale=locale)
        assert plain(evaluate_one(doc, store).message) == expected, locale


def test_the_engine_leaves_the_words_to_the_edge() -> None:
    miss = evaluate_one(campaign("p1"), NEW_YORK)
    assert localise(msgspec.structs.replace(miss, message=""), NEW_YORK) == miss
    (raw,) = run_scenario(load_scenario(SCENARIOS / "spec-03-side-counts-off.json")).not_applied
    assert raw.message == ""
    assert (raw.reason, raw.needed, raw.reached) == ("threshold_not_met", 10000, 9000)


def test_the_store_locale_defaults_to_en_us_and_an_unknown_one_is_refused_with_its_path() -> None:
    assert decode_store(b'{"id": "s1"}').locale == "en_US"
    with pytest.raises(InvalidStore) as caught:
        decode_store(b'{"id": "s1", "locale": "xx_YY"}')
    assert str(caught.value) == (
        '$.locale: must be a CLDR locale such as en_US, de_DE or zh_CN, got "xx_YY"'
    )


def test_member_show_lists_gift_coupons_by_template_name_on_the_store_clock(
    tmp_path: Path,
) -> None:
    from pos_promo.cli.gifts import member_text
    from pos_promo.embedded import Engine
    from pos_promo.i18n import words_for
    from tests.gifts.builders import activity, gift_cart, template

    with Engine.open(tmp_path / "till.db", NEW_YORK) as till:
        catalog = [template("t-dessert", name="Free dessert"), activity(gifts=None)]
        catalog[1]["gifts"] = [{"template_id": "t-dessert"}]
        catalog[1]["name"] = "Every $100, a dessert"
        till.import_campaigns(msgspec.json.encode(catalog), at=NY_NOON)
        till.commit(gift_cart("o-1", line("A", 12000)), at=NY_NOON)
        gifts = till.member("m-1")
        (coupon,) = gifts.wallet
        text = member_text(gifts, words_for(NEW_YORK), {"t-dessert": "Free dessert"})
    assert f"“Free dessert” (…{coupon.id[-6:]})" in text
    assert coupon.id not in text
    assert "“Every $100, a dessert” (g1)" in text
    assert "$120.00 of $200.00" in text
    assert "Fri, Nov 20, 2026, 12:00 PM" in text  # granted at 17:00 UTC, noon in New York
