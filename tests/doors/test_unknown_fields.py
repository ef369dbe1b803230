"""Unknown fields are reported, not refused: forward compatible, never silent.

Before: a limit misspelt by HQ (``per_member_per_day``) disabled the limit
without a word.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pos_promo.cli import main
from pos_promo.embedded import Engine
from pos_promo.model.campaign import Campaign
from pos_promo.model.cart import Cart
from pos_promo.model.catalog import Catalog
from pos_promo.model.coupon import Coupon
from pos_promo.unknown import unknown_fields
from tests.doors.conftest import snapshot
from tests.store.builders import STORE, campaign, cart, dump, line

MISSPELT = campaign("p2", limits={"per_member_per_day": 1}, auto_aply=False)


def test_a_misspelt_limit_is_imported_and_listed_in_the_report(
    engine: Engine, db_path: Path
) -> None:
    report = engine.import_campaigns(dump([campaign("p1"), MISSPELT]))
    assert report.added == ("p2",)
    assert report.unknown_fields == ("$[1].limits.per_member_per_day", "$[1].auto_aply")
    assert snapshot(db_path)["campaigns"] != []


def test_a_catalog_lists_unknown_fields_by_section(engine: Engine) -> None:
    catalog = {
        "campaigns": [MISSPELT],
        "sharing_plans": [{"id": "x", "sharing": {"coupons": {"mode": "all", "exept_ids": []}}}],
    }
    report = engine.import_campaigns(dump(catalog))
    assert report.unknown_fields == (
        "$.campaigns[0].limits.per_member_per_day",
        "$.campaigns[0].auto_aply",
        "$.sharing_plans[0].sharing.coupons.exept_ids",
    )


def test_a_clean_payload_reports_none(engine: Engine) -> None:
    assert engine.import_campaigns(dump([campaign("p3")])).unknown_fields == ()


def test_wallet_coupons_list_theirs(engine: Engine) -> None:
    coupon = {
        "id": "c1",
        "template_id": "t1",
        "member_id": "m1",
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "2026-12-31T00:00:00Z",
        "stauts": "void",
    }
    report = engine.add_coupons(json.dumps([coupon]))
    assert report.added == ("c1",)
    assert report.unknown_fields == ("$[0].stauts",)


@pytest.mark.parametrize(
    ("document", "kind", "paths"),
    [
        (
            cart(line("A", 1, colour="red"), member={"id": "m", "tierr": "gold"}),
            Cart,
            ["$.lines[0].colour", "$.member.tierr"],
        ),
        (
            [campaign("p", rule={"type": "items_free", "tiers": [{"buy": 1, "free": 1, "x": 0}]})],
            list[Campaign],
            ["$[0].rule.tiers[0].x"],
        ),
        (
            {"campaigns": [], "coupon_templates": [], "extra section": 1},
            Catalog,
            ['$["extra section"]'],
        ),
        ([{"id": "c", "odd": {"deep": [1]}}], list[Coupon], ["$[0].odd"]),
        (cart(line("A", 1)), Cart, []),
    ],
)
def test_unknown_fields_walks_any_wire_type(
    document: object, kind: object, paths: list[str]
) -> None:
    assert unknown_fields(json.dumps(document).encode(), kind) == paths
    assert unknown_fields(json.dumps(document), kind) == paths
    assert unknown_fields(document, kind) == paths


@pytest.mark.parametrize("bad", [b"{", b"[" * 100_000 + b"]" * 100_000, b""])
def test_what_is_not_json_has_no_listable_fields(bad: bytes) -> None:
    assert unknown_fields(bad, Cart) == []


def test_the_cli_import_prints_the_report_and_one_warning_per_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = tmp_path / "campaigns.json"
    payload.write_bytes(dump([MISSPELT]))
    store = tmp_path / "store.json"
    store.write_text(json.dumps({"id": STORE.id, "timezone": STORE.timezone}))
    code = main(
        ["--db", str(tmp_path / "t.db"), "campaigns", "import", str(payload), "--store", str(store)]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["unknown_fields"] == ["$[0].limits.per_member_per_day", "$[0].auto_aply"]
    assert err.splitlines() == [
        "warning: $[0].limits.per_member_per_day: unknown field, ignored",
        "warning: $[0].auto_aply: unknown field, ignored",
    ]
