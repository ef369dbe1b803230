"""Member benefits, coupons and sharing: the details a cashier sees."""

from __future__ import annotations

from pathlib import Path

from pos_promo.i18n import localise
from pos_promo.model.cart import StoreContext
from pos_promo.model.result import EvaluationResult
from pos_promo.scenario import load_scenario, run_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "fixtures" / "scenarios"


def result_of(stem: str) -> EvaluationResult:
    """The scenario's result, its sentences worded for its store (English by default)."""
    scenario = load_scenario(SCENARIOS / f"{stem}.json")
    result = run_scenario(scenario)
    return localise(result, scenario.store or StoreContext(result.store_id))


def test_each_invalid_coupon_names_its_cause() -> None:
    result = result_of("benefits-coupon-invalid-causes")
    causes = {n.id: n.cause for n in result.not_applied}
    assert causes == {
        "c-unknown": "unknown",
        "c-expired": "expired",
        "c-early": "not_yet_valid",
        "c-void": "void",
        "c-used": "redeemed",
        "c-other": "not_owner",
    }


def test_min_spend_miss_says_how_far_off() -> None:
    (miss,) = result_of("benefits-coupon-min-spend-not-met").not_applied
    assert miss.message == "$12.00 of the $20.00 minimum spend on eligible items."
    assert (miss.needed, miss.reached) == (2000, 1200)


def test_not_shareable_names_the_benefit_it_lost_to() -> None:
    result = result_of("benefits-coupon-forbids-promotions")
    (miss,) = result.not_applied
    assert miss.lost_to == "c15"
    assert miss.message == (
        "Cannot be combined with “t15” (c15), which saves more ($18.00 against $10.00)."
    )


def test_applied_coupon_carries_its_template() -> None:
    result = result_of("benefits-promotion-and-coupon-default")
    coupon = result.applied[1]
    assert (coupon.id, coupon.kind, coupon.template_id, coupon.amount) == (
        "c1",
        "coupon",
        "t5",
        500,
    )


def test_member_discount_miss_is_measured_after_the_member_discount() -> None:
    (miss,) = result_of("benefits-member-discount-misses-threshold").not_applied
    assert miss.message == "After the discounts before it: $94.50 of $100.00 on eligible items."


def test_member_price_and_discount_shares_per_line() -> None:
    result = result_of("benefits-member-discount-skips-member-price-lines")
    shares = {
        line.line_id: [(s.benefit_id, s.amount) for s in line.benefits] for line in result.lines
    }
    assert shares == {
        "C": [("member_discount", 16)],
        "A": [("member_price", 200)],
        "B": [("member_discount", 17)],
    }
