"""Bad input is refused clearly and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pos_promo.embedded import Engine
from pos_promo.errors import InvalidCampaign, InvalidPayment
from tests.gifts.builders import activity, dump, gift_cart, rows, template
from tests.helpers import line

TABLES = (
    "campaigns",
    "orders",
    "outbox",
    "wallet",
    "gift_accruals",
    "gift_grants",
    "gift_releases",
)


def test_payments_that_do_not_add_up_to_the_order_write_nothing(till: Engine) -> None:
    before = rows(Path(till.path), *TABLES)
    with pytest.raises(InvalidPayment) as caught:
        till.commit(gift_cart("o-1", line("A", 23000)), [{"tender": "card", "amount": 20000}])
    assert str(caught.value) == "$.payments: must add up to the order total 23000, got 20000"
    assert rows(Path(till.path), *TABLES) == before


def test_an_unknown_tender_is_refused_with_its_path_and_writes_nothing(till: Engine) -> None:
    before = rows(Path(till.path), *TABLES)
    with pytest.raises(InvalidPayment) as caught:
        till.commit(
            gift_cart("o-1", line("A", 23000)),
            [{"tender": "cash", "amount": 3000}, {"tender": "bitcoin", "amount": 20000}],
        )
    assert caught.value.path == "$.payments[1].tender"
    assert str(caught.value) == '$.payments[1].tender: is not an allowed tender, got "bitcoin"'
    assert rows(Path(till.path), *TABLES) == before


def test_a_gift_naming_an_unknown_coupon_template_is_refused_at_import(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till()
    before = rows(Path(engine.path), *TABLES)
    with pytest.raises(InvalidCampaign) as caught:
        engine.import_campaigns(
            dump(
                [
                    template("t-5off"),
                    activity(gifts=[{"template_id": "t-5off"}, {"template_id": "t-x"}]),
                ]
            )
        )
    assert str(caught.value) == (
        "$[1].gifts[1].template_id: names no coupon template in this payload or the till's "
        'cache, got "t-x"'
    )
    assert rows(Path(engine.path), *TABLES) == before


def test_a_gift_may_name_a_template_the_cache_already_holds(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(template("t-5off"))
    report = engine.import_campaigns(dump([activity()]))
    assert report.added == ("g1",)


def test_a_catalog_gift_naming_an_unknown_template_names_its_section(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till()
    catalog = {"campaigns": [activity(gifts=[{"template_id": "t-x"}])], "coupon_templates": []}
    with pytest.raises(InvalidCampaign, match=r"^\$\.campaigns\[0\]\.gifts\[0\]\.template_id"):
        engine.import_campaigns(dump(catalog))


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        (
            {"condition": {"measure": "spend", "repeat": "every", "threshold": 0}},
            "$[0].condition.threshold",
        ),
        (
            {"condition": {"measure": "weight", "repeat": "every", "threshold": 5}},
            "$[0].condition.measure",
        ),
        ({"gifts": []}, "$[0].gifts"),
        ({"gifts": [{"template_id": "t-5off", "quantity": 0}]}, "$[0].gifts[0].quantity"),
        (
            {"gifts": [{"template_id": "t-5off", "distribution": {"type": "hourly", "hours": 0}}]},
            "$[0].gifts[0].distribution.hours",
        ),
        (
            {
                "gifts": [
                    {
                        "template_id": "t-5off",
                        "validity": {
                            "type": "fixed",
                            "start": "2026-12-01T00:00:00",
                            "end": "2026-11-01T00:00:00",
                        },
                    }
                ]
            },
            "$[0].gifts[0].validity.end",
        ),
        ({"items": {"all_items": False}}, "$[0].items"),
    ],
)
def test_an_invalid_activity_is_refused_with_its_path(
    open_till: Callable[..., Engine], fields: dict[str, object], path: str
) -> None:
    engine = open_till(template())
    with pytest.raises(InvalidCampaign) as caught:
        engine.import_campaigns(dump([activity(**fields)]))
    assert caught.value.path == path
