"""Partial refunds re-evaluate what the customer keeps (issue 10), by hand.

Every figure below is worked out in the comment beside it: what was paid,
what the kept units cost when the order's own benefits run on them again,
and so what goes back. Money back = paid so far - kept units' cost, never
below zero.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from pos_promo.embedded import Engine
from pos_promo.model.order import RefundRecord
from tests.store.builders import campaign, cart, dump, line
from tests.store.coupon_builders import coupon, template

MEMBER = {"id": "m1"}


def taken(record: RefundRecord) -> dict[str, int]:
    return {b.benefit_id: b.amount for b in record.benefits}


def sold(engine: Engine, campaigns: list[dict[str, Any]], *lines: dict[str, Any]) -> int:
    engine.import_campaigns(dump(campaigns))
    return engine.commit(dump(cart(*lines, member=MEMBER))).total


def standing(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return int(conn.execute("SELECT COALESCE(SUM(delta), 0) FROM participations").fetchone()[0])
    finally:
        conn.close()


def spend_100_save_10(order: str) -> dict[str, Any]:
    return campaign("p1", application_order=order)


def test_spend_and_save_high_to_low_the_kept_item_loses_the_discount(
    engine: Engine, db_path: Path
) -> None:
    # A 6000 + B 5000 = 11000 >= 10000: 1000 off, high->low puts it on A.
    # Paid 10000. B goes back: A 6000 alone misses the threshold, costs 6000.
    assert sold(engine, [spend_100_save_10("high_to_low")], line("A", 6000), line("B", 5000)) == (
        10000
    )
    record = engine.refund("o-1", {"B": 1})
    assert (record.paid_before, record.kept_cost, record.amount) == (10000, 6000, 4000)
    assert [(x.line_id, x.units, x.amount, x.discount) for x in record.lines] == [("B", 1, 5000, 0)]
    assert record.kept_discount_lost == 1000  # A had 1000 off, has none now
    assert taken(record) == {"p1": 1000} and record.discount == 1000
    assert record.dropped == ("p1",) and record.participations_returned == ("p1",)
    assert record.shortfall == 0 and not record.order_fully_refunded
    assert standing(db_path) == 0
    last = engine.refund("o-1")  # A back: the 6000 the customer still paid for it
    assert (last.amount, last.discount, last.order_fully_refunded) == (6000, 0, True)


def test_spend_and_save_low_to_high_gives_the_same_money_back(engine: Engine) -> None:
    # Low->high puts the 1000 on B: A 6000, B 4000, paid 10000. B goes back:
    # it had paid 4000, A keeps its 6000 price: 10000 - 6000 = 4000 back.
    sold(engine, [spend_100_save_10("low_to_high")], line("A", 6000), line("B", 5000))
    record = engine.refund("o-1", {"B": 1})
    assert [(x.line_id, x.amount, x.discount) for x in record.lines] == [("B", 4000, 1000)]
    assert (record.kept_cost, record.amount, record.kept_discount_lost) == (6000, 4000, 0)
    assert taken(record) == {"p1": 1000}


def b2g1(order: str) -> dict[str, Any]:
    return campaign(
        "b2g1",
        {"type": "items_free", "tiers": [{"buy": 2, "free": 1}]},
        application_order=order,
    )


def test_buy_2_get_1_low_to_high_returning_the_dearest_unit_ends_the_free_one(
    engine: Engine,
) -> None:
    # 400 / 600 / 800, low->high: the 400 unit is free, paid 1400. The 800
    # goes back: two units no longer make "buy 2 get 1", the kept cost 1000.
    paid = sold(engine, [b2g1("low_to_high")], line("A", 400), line("B", 600), line("C", 800))
    assert paid == 1400
    record = engine.refund("o-1", {"C": 1})
    assert (record.kept_cost, record.amount) == (1000, 400)  # not 800
    assert record.kept_discount_lost == 400 and taken(record) == {"b2g1": 400}


def test_buy_2_get_1_high_to_low_returning_the_cheapest_gives_nothing_back(
    engine: Engine,
) -> None:
    # High->low: the 800 unit is free, paid 1000. The 400 goes back: the
    # kept 600 + 800 now cost 1400, more than the 1000 paid: nothing back,
    # a shortfall of 400 recorded (the customer is not charged).
    paid = sold(engine, [b2g1("high_to_low")], line("A", 400), line("B", 600), line("C", 800))
    assert paid == 1000
    record = engine.refund("o-1", {"A": 1})
    assert (record.paid_before, record.kept_cost, record.amount) == (1000, 1400, 0)
    assert record.shortfall == 400
    assert taken(record) == {"b2g1": 800}
    rest = engine.refund("o-1")  # the rest: everything still paid goes back
    assert (rest.amount, rest.order_fully_refunded) == (1000, True)


def test_buy_x_items_save_y_drops_below_the_item_count(engine: Engine) -> None:
    # Buy 2 items save 300, A 900 + B 500, low->high: 300 on B, paid 1100.
    # A goes back: one item left, no discount: kept 500, back 600.
    rule = {"type": "items_save", "tiers": [{"items": 2, "save": 300}]}
    assert sold(engine, [campaign("i2", rule)], line("A", 900), line("B", 500)) == 1100
    record = engine.refund("o-1", {"A": 1})
    assert (record.kept_cost, record.amount, taken(record)) == (500, 600, {"i2": 300})


def test_a_tier_drops_and_the_benefit_stays_at_the_lower_tier(
    engine: Engine, db_path: Path
) -> None:
    # Tiers 5000 save 500 / 10000 save 1500 / 15000 save 2500. A 6000 x 2 =
    # 12000: tier 2, 1500 off, paid 10500. One A back: 6000 meets tier 1,
    # 500 off: kept 5500, back 5000; 1000 of the discount taken back.
    tiers = [
        {"spend": 5000, "save": 500},
        {"spend": 10000, "save": 1500},
        {"spend": 15000, "save": 2500},
    ]
    rule = {"type": "spend_save", "tiers": tiers}
    assert sold(engine, [campaign("t3", rule)], line("A", 6000, qty=2)) == 10500
    record = engine.refund("o-1", {"A": 1})
    assert (record.kept_cost, record.amount) == (5500, 5000)
    assert taken(record) == {"t3": 1000} and record.dropped == ()
    (kept,) = record.kept
    assert (kept.quantity, kept.unit_discounts) == (1, (500,))
    assert standing(db_path) == 1  # the order still takes part


def test_a_cap_that_stops_binding(engine: Engine) -> None:
    # 10000 save 3000 / 20000 save 8000, at most 5000. A 6000 x 4 = 24000:
    # tier 2 is 8000, capped to 5000, paid 19000. Two A back: 12000 meets
    # tier 1, 3000, below the cap: kept 9000, back 10000; 2000 taken back.
    rule = {
        "type": "spend_save",
        "tiers": [{"spend": 10000, "save": 3000}, {"spend": 20000, "save": 8000}],
    }
    assert sold(engine, [campaign("cap", rule, max_discount=5000)], line("A", 6000, qty=4)) == (
        19000
    )
    record = engine.refund("o-1", {"A": 2})
    assert (record.kept_cost, record.amount, taken(record)) == (9000, 10000, {"cap": 2000})


def test_a_side_goes_back_with_its_main_unit(engine: Engine) -> None:
    # Spend 100 save 10. Burger 4500 x 2, each with fries 500; B 2000:
    # 12000, 1000 off, paid 11000. One burger back takes its fries along:
    # kept burger 4500 + fries 500 + B 2000 = 7000, no discount: back 4000.
    paid = sold(
        engine,
        [campaign("p1")],
        line("A", 4500, qty=2),
        line("F", 500, qty=2, role="side", parent_line_id="A"),
        line("B", 2000),
    )
    assert paid == 11000
    record = engine.refund("o-1", {"A": 1})
    assert sorted((x.line_id, x.units) for x in record.lines) == [("A", 1), ("F", 1)]
    assert (record.kept_cost, record.amount) == (7000, 4000)
    assert engine.order("o-1").remaining_units == {"A": 1, "F": 1, "B": 1}


def test_the_syrup_latte_goes_back_with_its_syrups_and_the_free_latte_ends(
    engine: Engine,
) -> None:
    # Three 450 lattes, L1 with three 75 syrups; buy 2 get 1 free low->high:
    # a plain latte (L2) is free. Paid 450 x 3 + 225 - 450 = 1125. L1 goes
    # back with its syrups: two lattes left, no longer "buy 2 get 1":
    # kept 900, back 225 (L1 and its syrups had paid 675, and the kept
    # latte that was free lost its 450).
    paid = sold(
        engine,
        [b2g1("low_to_high")],
        line("L1", 450, item_id="latte"),
        line("S", 75, qty=3, item_id="syrup", role="modifier", parent_line_id="L1"),
        line("L2", 450, item_id="latte"),
        line("L3", 450, item_id="latte"),
    )
    assert paid == 1125
    record = engine.refund("o-1", {"L1": 1})
    assert sorted((x.line_id, x.units, x.amount) for x in record.lines) == [
        ("L1", 1, 450),
        ("S", 3, 225),
    ]
    assert (record.kept_cost, record.amount, record.kept_discount_lost) == (900, 225, 450)


def test_a_coupon_whose_minimum_spend_is_no_longer_met_goes_back_to_the_wallet(
    engine: Engine,
) -> None:
    # $5 off with a $30 minimum. A 2000 + B 2000 = 4000: 500 off, paid 3500.
    # B back: A 2000 is below the minimum, the coupon drops: kept 2000,
    # back 1500, and the coupon is the member's to use again.
    engine.import_campaigns(
        dump([template("t5", {"type": "amount_off", "amount": 500, "min_spend": 3000})])
    )
    engine.add_coupons(dump([coupon("c1", "t5")]))
    result = engine.commit(
        dump(cart(line("A", 2000), line("B", 2000), member=MEMBER, coupons=["c1"]))
    )
    assert result.total == 3500
    record = engine.refund("o-1", {"B": 1})
    assert (record.kept_cost, record.amount, taken(record)) == (2000, 1500, {"c1": 500})
    assert record.dropped == ("c1",) and record.coupons_restored == ("c1",)
    assert record.participations_returned == ()  # a coupon is not a participation
    (entry,) = engine.wallet("m1")
    assert entry.status == "issued"
    conn = sqlite3.connect(engine.path)
    restored = conn.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'coupon.restored'")
    assert restored.fetchone() == (1,)
    conn.close()


def test_a_coupon_still_used_by_the_kept_units_stays_redeemed(engine: Engine) -> None:
    # Same coupon, A 2000 + B 2000 + C 2000 = 6000, paid 5500. C back: 4000
    # still meets the minimum, the coupon still gives 500: kept 3500, back 2000.
    engine.import_campaigns(
        dump([template("t5", {"type": "amount_off", "amount": 500, "min_spend": 3000})])
    )
    engine.add_coupons(dump([coupon("c1", "t5")]))
    engine.commit(
        dump(cart(line("A", 2000), line("B", 2000), line("C", 2000), member=MEMBER, coupons=["c1"]))
    )
    record = engine.refund("o-1", {"C": 1})
    assert (record.kept_cost, record.amount, taken(record)) == (3500, 2000, {})
    assert record.coupons_restored == ()
    (entry,) = engine.wallet("m1")
    assert entry.status == "redeemed"


def test_a_benefit_the_order_did_not_apply_never_joins(engine: Engine) -> None:
    # p-big (spend 100 save 10, priority 2) beat p-small (spend 50 save 8):
    # A 6000 + B 5000, paid 10000. B back: A 6000 would meet p-small, but it
    # was not applied to the order, so it does not join: kept 6000, back 4000.
    engine.import_campaigns(
        dump(
            [
                campaign("p-big", priority=2),
                campaign(
                    "p-small", {"type": "spend_save", "tiers": [{"spend": 5000, "save": 800}]}
                ),
            ]
        )
    )
    result = engine.commit(dump(cart(line("A", 6000), line("B", 5000), member=MEMBER)))
    assert [a.id for a in result.applied] == ["p-big"]
    record = engine.refund("o-1", {"B": 1})
    assert (record.kept_cost, record.amount) == (6000, 4000)


def test_a_refund_uses_the_campaign_version_the_order_used(engine: Engine) -> None:
    # The order got v1 (spend 100 save 10). HQ then publishes v2 (save 20).
    # A refund re-evaluates with v1: A 6000 x 3 = 18000, paid 17000; one A
    # back: 12000 still earns v1's 1000: kept 11000, back 6000.
    sold(engine, [campaign("p1")], line("A", 6000, qty=3))
    engine.import_campaigns(
        dump(
            [
                campaign(
                    "p1",
                    {"type": "spend_save", "tiers": [{"spend": 10000, "save": 2000}]},
                    version=2,
                )
            ]
        )
    )
    record = engine.refund("o-1", {"A": 1})
    assert (record.kept_cost, record.amount, taken(record)) == (11000, 6000, {})


def test_a_modifier_alone_may_go_back_only_leaving_as_many_per_kept_main(
    engine: Engine,
) -> None:
    from pos_promo.errors import InvalidRefund

    sold(
        engine,
        [campaign("p1")],
        line("A", 4500, qty=2),
        line("M", 100, qty=2, role="modifier", parent_line_id="A"),
    )
    try:
        engine.refund("o-1", {"M": 1})
    except InvalidRefund as exc:
        assert str(exc).startswith("$.lines['M']: must leave a whole number per kept unit")
    else:
        raise AssertionError("a refund leaving one modifier for two mains was accepted")
    record = engine.refund("o-1", {"M": 2})
    assert [(x.line_id, x.units) for x in record.lines] == [("M", 2)]


def test_the_refund_slip_shows_what_was_returned_and_the_discount_the_kept_items_lost(
    engine: Engine,
) -> None:
    from pos_promo.render import render_receipt

    sold(engine, [spend_100_save_10("high_to_low")], line("A", 6000), line("B", 5000))
    record = engine.refund("o-1", {"B": 1})
    slip = render_receipt(engine.order("o-1"), refund=record)
    rows = [" ".join(row.split()) for row in slip.splitlines()]
    assert "1 × b returned $50.00" in rows
    assert "Discount the kept items lost -$10.00" in rows
    assert "REFUND TOTAL $40.00" in rows
