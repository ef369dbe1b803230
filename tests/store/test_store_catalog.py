"""Importing a catalog: campaigns, coupon templates, sharing plans, execution order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pos_promo.embedded import Engine
from pos_promo.errors import InvalidCampaign
from pos_promo.model.catalog import Catalog
from pos_promo.model.coupon import ExecutionOrder, SharingPlan
from tests.store.builders import campaign, cart, dump, line, row_counts
from tests.store.coupon_builders import coupon, member_cart, template

BOTH = {"promotions": {"mode": "all"}}
# SPEC §5: each promotion's threshold is measured on the prices the ones before it left.
A_THEN_B = [
    campaign(
        "a",
        {"type": "spend_save", "tiers": [{"spend": 10000, "save": 2000}]},
        priority=10,
        sharing=BOTH,
    ),
    campaign(
        "b",
        {"type": "spend_save", "tiers": [{"spend": 10000, "save": 1000}]},
        priority=5,
        sharing=BOTH,
    ),
]
CART_110 = dump(cart(line("A", 11000)))


def test_a_published_execution_order_changes_the_result(engine: Engine) -> None:
    engine.import_campaigns(dump(A_THEN_B))
    assert engine.evaluate(CART_110).total_discount == 2000  # a first leaves 9000: b misses
    report = engine.import_campaigns(dump({"execution_order": {"promotions": ["b", "a"]}}))
    assert (report.execution_order, report.changed) == (1, True)
    result = engine.evaluate(CART_110)
    assert (result.total_discount, [a.id for a in result.applied]) == (3000, ["b", "a"])
    again = engine.import_campaigns(dump({"execution_order": {"promotions": ["a"]}}))
    assert (again.execution_order, again.changed) == (None, False)  # same version: kept
    newer = {"execution_order": {"promotions": ["a", "b"], "version": 2}}
    assert engine.import_campaigns(dump(newer)).execution_order == 2
    assert engine.evaluate(CART_110).total_discount == 2000


def test_a_sharing_plan_is_used_once_it_arrives_and_replaced_by_a_newer_version(
    engine: Engine,
) -> None:
    promo = campaign("p1", sharing_plan="plan-x")
    engine.import_campaigns(dump({"campaigns": [promo], "coupon_templates": [template()]}))
    engine.add_coupons(dump([coupon()]))
    order = dump(member_cart("c1", lines=[line("A", 12000)]))
    waiting = engine.evaluate(order)
    assert {(n.id, n.reason) for n in waiting.not_applied} == {("p1", "sharing_plan_unknown")}
    no_coupons = {"id": "plan-x", "sharing": {"coupons": {"mode": "none"}}}
    report = engine.import_campaigns(dump({"sharing_plans": [no_coupons]}))
    assert report.plans_changed == ("plan-x",)
    alone = engine.evaluate(order)
    assert {a.id for a in alone.applied} == {"p1"}  # $10 beats $5; they do not combine
    with_coupons = {**no_coupons, "version": 2, "sharing": {"coupons": {"mode": "all"}}}
    engine.import_campaigns(dump({"sharing_plans": [with_coupons]}))
    both = engine.evaluate(order)
    assert {a.id for a in both.applied} == {"p1", "c1"}
    older = engine.import_campaigns(dump({"sharing_plans": [no_coupons]}))
    assert older.plans_changed == ()
    assert {a.id for a in engine.evaluate(order).applied} == {"p1", "c1"}


def test_the_receipt_names_the_sharing_plan_versions_its_campaigns_used(engine: Engine) -> None:
    """Only the plans the considered campaigns name, at the till's version;
    a named plan the till lacks is left out (its campaign was blocked)."""
    stacked = campaign("p1", sharing_plan="plan-x")
    waiting = campaign("p2", sharing_plan="plan-late", priority=-1)
    plans = [
        {"id": "plan-x", "version": 2, "sharing": BOTH},
        {"id": "plan-unused", "version": 7, "sharing": BOTH},
    ]
    engine.import_campaigns(dump({"campaigns": [stacked, waiting], "sharing_plans": plans}))
    engine.commit(dump(cart(line("A", 12000))))
    receipt = engine.order("o-1").receipt
    assert [(c.id, c.applied) for c in receipt.campaigns] == [("p1", True), ("p2", False)]
    assert receipt.inputs.sharing_plans is not None
    assert [(p.id, p.version) for p in receipt.inputs.sharing_plans] == [("plan-x", 2)]


def test_another_engine_on_the_file_sees_an_imported_catalog_without_reopening(
    open_engine: Callable[..., Engine],
) -> None:
    till, daemon = open_engine(), open_engine()
    till.import_campaigns(dump(A_THEN_B))
    assert till.evaluate(CART_110).total_discount == 2000
    daemon.import_campaigns(
        Catalog(execution_order=ExecutionOrder(promotions=("b", "a")), sharing_plans=())
    )
    assert till.evaluate(CART_110).total_discount == 3000


def test_the_receipt_names_the_execution_order_and_the_template_versions(engine: Engine) -> None:
    engine.import_campaigns(
        Catalog(
            campaigns=(),
            coupon_templates=(),
            sharing_plans=(SharingPlan("plan-y", sharing=_none()),),
            execution_order=ExecutionOrder(coupons=("t5",), version=3),
        )
    )
    engine.import_campaigns(dump({"coupon_templates": [template(version=4)]}))
    engine.add_coupons(dump([coupon()]))
    engine.commit(dump(member_cart("c1")))
    receipt = engine.order("o-1").receipt
    assert receipt.inputs.execution_order_version == 3
    assert [(c.id, c.version, c.applied) for c in receipt.campaigns] == [("t5", 4, True)]


def _none() -> Any:
    from pos_promo.model.common import ShareRule, Sharing

    return Sharing(coupons=ShareRule("none"))


@pytest.mark.parametrize(
    ("catalog", "message"),
    [
        ({"campaign": []}, r"\$: object contains unknown field campaign,"),
        (
            {"campaigns": [campaign("x")], "coupon_templates": [template("x")]},
            r"\$\.coupon_templates\[0\]\.id: must be unique in one payload",
        ),
        (
            {"sharing_plans": [{"id": "p", "sharing": {"coupons": {"mode": "some"}}}]},
            r"\$\.sharing_plans\[0\]\.sharing\.coupons\.mode",
        ),
        (
            {"execution_order": {"promotions": "a"}},
            r"\$\.execution_order\.promotions",
        ),
        (
            {"coupon_templates": [template(benefit={"type": "percent_off", "rate_bp": 0})]},
            r"\$\.coupon_templates\[0\]\.benefit\.rate_bp",
        ),
    ],
    ids=["unknown-section", "duplicate-id", "bad-plan", "bad-order", "bad-template"],
)
def test_a_bad_catalog_is_refused_with_its_path_and_writes_nothing(
    engine: Engine, db_path: Path, catalog: dict[str, Any], message: str
) -> None:
    engine.import_campaigns(dump(A_THEN_B))
    before = row_counts(db_path)
    with pytest.raises(InvalidCampaign, match=message):
        engine.import_campaigns(dump({"sharing_plans": [{"id": "ok", "sharing": {}}], **catalog}))
    assert row_counts(db_path) == before


def test_a_plain_list_still_imports_and_may_hold_coupon_templates(engine: Engine) -> None:
    report = engine.import_campaigns(dump([campaign("p1"), template()]))
    assert report.added == ("p1", "t5")
    assert "t5" in engine.index.templates
    assert [r.kind for r in engine.campaigns()] == ["spend_and_save", "coupon_template"]
