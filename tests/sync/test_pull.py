"""Pulling what HQ publishes: pages, cursors, atomic apply, quarantine."""

from __future__ import annotations

import sqlite3

import msgspec
import pytest

from pos_promo.sync import steps
from pos_promo.sync.changes import apply_changes_page
from pos_promo.sync.local import get_cursor
from pos_promo.sync.protocol import Change, ChangesPage
from tests.sync.harness import HQ, Till, campaign, now


def cached(till: Till) -> dict[str, int]:
    return dict(till.conn.execute("SELECT id, version FROM campaigns").fetchall())


def quarantine(till: Till) -> dict[str, str]:
    rows = till.conn.execute("SELECT doc_id, error FROM sync_quarantine").fetchall()
    return dict(rows)


def test_a_pull_brings_every_campaign_page_by_page_and_ends_at_hqs_cursor(
    hq: HQ, till: Till
) -> None:
    hq.publish(*[campaign(f"c{n:03}") for n in range(25)])

    report = steps.pull_changes(till.conn, till.client(hq), now, page_size=10)

    # p1 (the catalog's publication) ends the first page; the 25, one
    # publication, come 10, 10 and 5 and are applied together with the last
    assert report.pages == 4
    assert report.applied == 26
    assert len(cached(till)) == 26
    assert len(till.engine.index) == 26
    assert get_cursor(till.conn, "changes") == "26"


def test_pulling_again_applies_nothing_twice_and_moves_no_cursor(hq: HQ, till: Till) -> None:
    client = till.client(hq)
    steps.pull_changes(till.conn, client, now)
    again = steps.pull_changes(till.conn, client, now)
    assert (again.applied, again.unchanged, get_cursor(till.conn, "changes")) == (0, 0, "1")


def test_a_newer_version_replaces_the_cached_one(hq: HQ, till: Till) -> None:
    client = till.client(hq)
    steps.pull_changes(till.conn, client, now)
    hq.publish(campaign("p1", version=2, status="paused"))
    steps.pull_changes(till.conn, client, now)
    assert cached(till) == {"p1": 2}
    assert till.engine.campaign("p1").status == "paused"


def test_an_invalid_campaign_is_quarantined_while_its_last_good_version_keeps_serving(
    hq: HQ, till: Till
) -> None:
    client = till.client(hq)
    steps.pull_changes(till.conn, client, now)
    bad = campaign("p1", version=2, rule={"type": "spend_save", "tiers": [{"spend": 0, "save": 1}]})
    hq.publish(bad)

    report = steps.pull_changes(till.conn, client, now)

    assert report.quarantined == ("campaign:p1",)
    assert cached(till) == {"p1": 1}
    assert "$.rule.tiers[0].spend" in quarantine(till)["p1"]
    hq.publish(campaign("p1", version=3))
    steps.pull_changes(till.conn, client, now)
    assert cached(till) == {"p1": 3}
    assert quarantine(till) == {}


def test_an_unknown_campaign_kind_is_quarantined_and_the_rest_of_its_page_applies(
    hq: HQ, till: Till
) -> None:
    hq.publish(
        {"kind": "lucky_draw", "id": "future-1", "version": 1, "period": campaign()["period"]},
        campaign("p2"),
    )
    report = steps.pull_changes(till.conn, till.client(hq), now)
    assert report.quarantined == ("campaign:future-1",)
    assert cached(till) == {"p1": 1, "p2": 1}
    assert "kind" in quarantine(till)["future-1"]


def test_a_document_whose_id_differs_from_its_envelope_is_quarantined(till: Till) -> None:
    doc = msgspec.json.encode(campaign("other"))
    page = ChangesPage("5", False, (Change("campaign", "p9", 1, msgspec.Raw(doc)),))
    report = apply_changes_page(till.conn, "", page, now())
    assert report.quarantined == ("campaign:p9",)
    assert cached(till) == {}
    assert get_cursor(till.conn, "changes") == "5"


def test_a_page_fetched_from_an_old_cursor_is_not_applied(till: Till) -> None:
    first = ChangesPage("5", False, ())
    apply_changes_page(till.conn, "", first, now())
    late = ChangesPage("3", False, (Change("campaign", "p1", 1, msgspec.Raw(b"{}")),))
    assert apply_changes_page(till.conn, "", late, now()).stale
    assert get_cursor(till.conn, "changes") == "5"


def test_change_types_this_till_does_not_know_are_skipped(till: Till) -> None:
    page = ChangesPage("2", False, (Change("loyalty_rule", "x", 1, msgspec.Raw(b"{}")),))
    assert apply_changes_page(till.conn, "", page, now()).skipped == 1


def test_sharing_plans_coupon_templates_and_the_execution_order_reach_the_store_by_version(
    hq: HQ, till: Till
) -> None:
    hq.publish(
        {"id": "plan-a", "version": 1, "sharing": {"member_price": False}}, doc_type="sharing_plan"
    )
    hq.publish({"id": "default", "version": 2, "promotions": ["p1"]}, doc_type="execution_order")
    hq.publish(
        {
            "kind": "coupon_template",
            "id": "t-5off",
            "version": 1,
            "period": campaign()["period"],
            "benefit": {"type": "amount_off", "amount": 500},
        },
        doc_type="coupon_template",
    )
    steps.pull_changes(till.conn, till.client(hq), now)
    rows = till.conn.execute(
        "SELECT doc_type, doc_id, version FROM documents ORDER BY 1"
    ).fetchall()
    assert rows == [("execution_order", "default", 2), ("sharing_plan", "plan-a", 1)]
    assert "t-5off" in till.engine.index.templates  # a coupon template is a campaign kind
    hq.publish(
        {"id": "plan-a", "version": 1, "sharing": {"member_price": True}}, doc_type="sharing_plan"
    )
    assert steps.pull_changes(till.conn, till.client(hq), now).applied == 0  # same version
    assert not till.conn.execute("SELECT COUNT(*) FROM sync_documents").fetchone()[0]


def test_a_page_and_its_cursor_land_in_one_transaction(till: Till, tmp_path: object) -> None:
    """A page whose write fails leaves neither its campaigns nor its cursor."""
    till.conn.execute(
        "CREATE TRIGGER refuse AFTER INSERT ON sync_cursors "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    doc = msgspec.json.encode(campaign("p1"))
    page = ChangesPage("1", False, (Change("campaign", "p1", 1, msgspec.Raw(doc)),))
    with pytest.raises(sqlite3.IntegrityError):
        apply_changes_page(till.conn, "", page, now())
    assert cached(till) == {}
    assert get_cursor(till.conn, "changes") == ""


def test_a_thousand_campaigns_pull_into_the_cache(hq: HQ, till: Till) -> None:
    hq.publish(*[campaign(f"c{n:04}", items={"item_ids": [f"i{n}"]}) for n in range(1000)])
    report = steps.pull_changes(till.conn, till.client(hq), now, page_size=500)
    assert report.applied == 1001
    assert len(till.engine.index) == 1001
