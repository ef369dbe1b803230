"""Bad input is refused with the JSON path, the value and the rule: never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pos_promo import InvalidCampaign, InvalidCart, InvalidStore, decode_campaigns, decode_cart
from pos_promo.cli import main
from pos_promo.codec import decode_store
from tests.helpers import campaign, cart, line


def cart_error(doc: Any) -> str:
    with pytest.raises(InvalidCart) as caught:
        decode_cart(json.dumps(doc))
    return str(caught.value)


def campaign_error(docs: Any) -> str:
    with pytest.raises(InvalidCampaign) as caught:
        decode_campaigns(json.dumps(docs))
    return str(caught.value)


def test_quantity_zero_names_the_line_and_the_rule() -> None:
    doc = cart(line("A", 100), line("B", 100), line("C", 100, qty=0))
    assert cart_error(doc) == "$.lines[2].quantity: expected int >= 1, got 0"


def test_negative_price() -> None:
    assert cart_error(cart(line("A", -5))) == "$.lines[0].unit_price: expected int >= 0, got -5"


def test_wrong_type() -> None:
    assert cart_error(cart(line("A", "12.50"))) == (
        '$.lines[0].unit_price: expected int, got "12.50"'
    )


def test_money_as_float_is_refused() -> None:
    assert cart_error(cart(line("A", 12.5))) == "$.lines[0].unit_price: expected int, got 12.5"


def test_missing_field() -> None:
    doc = cart(line("A", 100))
    del doc["order_id"]
    assert cart_error(doc) == "$.order_id: is required"


def test_side_pointing_at_a_missing_line() -> None:
    doc = cart(line("A", 100), line("S", 50, role="side", parent_line_id="Z"))
    assert cart_error(doc) == (
        '$.lines[1].parent_line_id: a side line must name a main line of this cart, got "Z"'
    )


def test_child_quantity_must_fit_its_main() -> None:
    doc = cart(line("A", 100, qty=2), line("M", 50, qty=3, role="modifier", parent_line_id="A"))
    assert cart_error(doc) == (
        "$.lines[1].quantity: must be a multiple of main line 'A''s quantity 2, got 3"
    )


def test_duplicate_line_id() -> None:
    assert cart_error(cart(line("A", 100), line("A", 200))) == (
        '$.lines[1].line_id: must be unique, got "A"'
    )


def test_unknown_channel() -> None:
    assert cart_error(cart(line("A", 100), channel="kiosk")) == (
        '$.channel: is not an allowed channel, got "kiosk"'
    )


def test_tiers_not_rising() -> None:
    rule = {
        "type": "spend_save",
        "tiers": [{"spend": 5000, "save": 500}, {"spend": 5000, "save": 900}],
    }
    assert campaign_error([campaign(rule=rule)]) == (
        "$[0].rule.tiers[1].spend: must be greater than the tier before it (5000), got 5000"
    )


def test_six_tiers() -> None:
    tiers = [{"spend": 1000 * (i + 1), "save": 100} for i in range(6)]
    message = campaign_error([campaign(rule={"type": "spend_save", "tiers": tiers})])
    assert message.startswith("$[0].rule.tiers: expected array of length <= 5, got [")


def test_unknown_campaign_kind() -> None:
    doc = campaign()
    doc["kind"] = "mystery_box"
    assert (
        campaign_error([campaign("ok"), doc]) == '$[1].kind: is not a known kind, got "mystery_box"'
    )


def test_one_invalid_campaign_refuses_the_whole_file() -> None:
    bad = campaign("bad", period={"start": "2026-02-01T00:00:00", "end": "2026-01-01T00:00:00"})
    assert campaign_error([campaign("good"), bad]) == (
        '$[1].period.end: must be after period.start 2026-02-01T00:00:00, got "2026-01-01T00:00:00"'
    )


def test_duplicate_campaign_id_in_one_payload() -> None:
    assert (
        campaign_error([campaign("x"), campaign("x")])
        == '$[1].id: must be unique in one payload, got "x"'
    )


def test_item_scope_must_select_something() -> None:
    assert campaign_error([campaign(items={"excluded_item_ids": ["a"]})]) == (
        "$[0].items: must set all_items or list at least one item_ids or category_ids entry"
    )


def test_unknown_time_zone() -> None:
    with pytest.raises(InvalidStore) as caught:
        decode_store(json.dumps({"id": "s1", "timezone": "Mars/Olympus_Mons"}))
    assert str(caught.value) == (
        '$.timezone: must be an IANA time zone such as Europe/Paris, got "Mars/Olympus_Mons"'
    )


def test_malformed_json() -> None:
    with pytest.raises(InvalidCart) as caught:
        decode_cart(b'{"order_id": ')
    assert str(caught.value).startswith("$: is not valid JSON")


def test_errors_are_value_errors_and_promo_errors() -> None:
    with pytest.raises(ValueError, match=r"^\$\.lines\[0\]\.quantity"):
        decode_cart(json.dumps(cart(line("A", 1, qty=0))))


@pytest.mark.parametrize(
    ("which", "doc", "message"),
    [
        (
            "cart",
            cart(line("A", 100, qty=0)),
            "error: $.lines[0].quantity: expected int >= 1, got 0",
        ),
        ("cart", cart(line("A", -1)), "error: $.lines[0].unit_price: expected int >= 0, got -1"),
        (
            "campaigns",
            [campaign(rule={"type": "spend_save", "tiers": []})],
            "error: $[0].rule.tiers: expected array of length >= 1, got []",
        ),
        (
            "store",
            {"id": "s1", "timezone": "Nowhere/City"},
            'error: $.timezone: must be an IANA time zone such as Europe/Paris, got "Nowhere/City"',
        ),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(
    which: str, doc: Any, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "campaigns": [campaign()],
        "cart": cart(line("A", 100)),
        "store": {"id": "s1", "timezone": "UTC"},
    }
    files[which] = doc
    args = ["evaluate"]
    for name, content in files.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(content))
        args += [f"--{name}", str(path)]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == message + "\n"
