"""The campaign cache: atomic imports and the lifecycle rules of versions and status."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pos_promo.embedded import Engine
from pos_promo.errors import InvalidCampaign, UnknownCampaign
from tests.store.builders import STORE, campaign, cart, dump, line, row_counts

BIG = cart(line("A", 12000))


def applied(engine: Engine, doc: dict[str, object] = BIG) -> list[str]:
    return [a.id for a in engine.evaluate(dump(doc)).applied]


def reason(engine: Engine, campaign_id: str) -> str:
    found = {n.id: n.reason for n in engine.evaluate(dump(BIG)).not_applied}
    return found[campaign_id]


def test_an_imported_campaign_applies_to_the_next_evaluation(engine: Engine) -> None:
    report = engine.import_campaigns(dump([campaign("p1")]))
    assert report.added == ("p1",)
    assert applied(engine) == ["p1"]


def test_a_payload_with_one_invalid_campaign_is_refused_whole(
    engine: Engine, db_path: Path
) -> None:
    engine.import_campaigns(dump([campaign("p1")]))
    before = row_counts(db_path)
    bad = campaign("p3", {"type": "spend_save", "tiers": [{"spend": 0, "save": 100}]})
    with pytest.raises(InvalidCampaign, match=r"\$\[2\]\.rule\.tiers\[0\]\.spend"):
        engine.import_campaigns(dump([campaign("p2"), campaign("p1", version=2), bad]))
    assert row_counts(db_path) == before
    assert applied(engine) == ["p1"]


def test_a_newer_version_replaces_the_cached_one(engine: Engine) -> None:
    engine.import_campaigns(dump([campaign("p1")]))
    cheap = {"type": "spend_save", "tiers": [{"spend": 10000, "save": 2500}]}
    report = engine.import_campaigns(dump([campaign("p1", cheap, version=2)]))
    assert report.replaced == ("p1",)
    result = engine.evaluate(dump(BIG))
    assert (result.total_discount, result.applied[0].version) == (2500, 2)


def test_an_older_or_equal_version_arriving_later_is_ignored(engine: Engine) -> None:
    engine.import_campaigns(dump([campaign("p1", version=3, name="v3")]))
    report = engine.import_campaigns(
        dump([campaign("p1", version=2, name="v2"), campaign("p2", version=1)])
    )
    assert report.ignored_older == ("p1",)
    again = engine.import_campaigns(dump([campaign("p1", version=3, name="other")]))
    assert again.unchanged == ("p1",) and not again.changed
    assert engine.campaign("p1").name == "v3"


def test_a_paused_campaign_stops_applying_at_once_and_resumes(engine: Engine) -> None:
    engine.import_campaigns(dump([campaign("p1")]))
    assert applied(engine) == ["p1"]
    engine.import_campaigns(dump([campaign("p1", version=2, status="paused")]))
    assert applied(engine) == []
    assert reason(engine, "p1") == "inactive"
    engine.import_campaigns(dump([campaign("p1", version=3, status="active")]))
    assert applied(engine) == ["p1"]


def test_an_archived_campaign_never_applies_again(engine: Engine) -> None:
    engine.import_campaigns(dump([campaign("p1")]))
    engine.import_campaigns(dump([campaign("p1", version=2, status="archived")]))
    assert applied(engine) == []
    report = engine.import_campaigns(
        dump([campaign("p1", version=1, status="active")])
    )  # an older version arriving late
    assert report.ignored_archived == ("p1",)
    newer = engine.import_campaigns(dump([campaign("p1", version=9, status="active")]))
    assert newer.ignored_archived == ("p1",)
    assert applied(engine) == []
    assert engine.campaign("p1").status == "archived"


def test_campaigns_absent_from_a_payload_stay_cached(engine: Engine) -> None:
    engine.import_campaigns(dump([campaign("p1"), campaign("p2")]))
    engine.import_campaigns(dump([campaign("p2", version=2)]))
    assert [(r.id, r.version) for r in engine.campaigns()] == [("p1", 1), ("p2", 2)]


def test_campaign_rows_carry_kind_version_status_and_import_time(engine: Engine) -> None:
    at = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    engine.import_campaigns(dump([campaign("p1", status="paused")]), at=at)
    (row,) = engine.campaigns()
    assert (row.kind, row.version, row.status, row.imported_at) == (
        "spend_and_save",
        1,
        "paused",
        at,
    )


def test_showing_an_unknown_campaign_is_refused(engine: Engine) -> None:
    with pytest.raises(UnknownCampaign, match="'nope'"):
        engine.campaign("nope")


def test_the_index_is_kept_until_the_cache_changes(engine: Engine) -> None:
    engine.import_campaigns(dump([campaign("p1")]))
    index = engine.index
    engine.commit(dump(BIG))
    engine.import_campaigns(dump([campaign("p1")]))  # same version: nothing changes
    assert engine.index is index
    engine.import_campaigns(dump([campaign("p1", version=2)]))
    assert engine.index is not index


def test_the_index_is_rebuilt_when_another_connection_imports(
    open_engine: Callable[..., Engine],
) -> None:
    till = open_engine()
    daemon = open_engine()
    daemon.import_campaigns(dump([campaign("p1")]))
    assert applied(till) == ["p1"]
    index = till.index
    daemon.commit(dump(cart(line("A", 100), order_id="other")))  # a write, not a cache change
    assert till.index is index
    daemon.import_campaigns(dump([campaign("p1", version=2, status="paused")]))
    assert applied(till) == []


def test_the_index_is_rebuilt_when_another_process_imports(
    engine: Engine, db_path: Path, tmp_path: Path
) -> None:
    engine.import_campaigns(dump([campaign("p1")]))
    assert applied(engine) == ["p1"]
    payload = tmp_path / "campaigns.json"
    payload.write_bytes(dump([campaign("p1", version=2, status="paused")]))
    command = ["campaigns", "import", str(payload)]
    done = subprocess.run(
        [sys.executable, "-m", "pos_promo.cli.db", "--db", str(db_path), *command],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert applied(engine) == []


def test_campaigns_of_other_stores_are_cached_but_do_not_apply(engine: Engine) -> None:
    elsewhere = campaign("p9", stores={"store_ids": ["s9"]})
    engine.import_campaigns(dump([elsewhere]))
    assert applied(engine) == []
    assert [r.id for r in engine.campaigns()] == ["p9"]


def test_an_organisation_campaign_applies_to_its_stores(engine: Engine) -> None:
    assert "brand-1" in STORE.org_ids
    engine.import_campaigns(dump([campaign("org", stores={"org_ids": ["brand-1"]})]))
    assert applied(engine) == ["org"]


def test_a_sync_that_changes_a_few_campaigns_updates_the_index_for_those(
    open_engine: Callable[..., Engine],
) -> None:
    """The till keeps every unchanged compiled campaign (the same objects),
    and ends with what a till opened afresh compiles."""
    till = open_engine()
    daemon = open_engine()
    docs = [campaign(f"p{i}", items={"item_ids": [f"i{i % 3}"]}) for i in range(6)]
    daemon.import_campaigns(dump(docs))
    before = till.index
    daemon.import_campaigns(
        dump(
            [
                campaign("p1", version=2, status="paused", items={"item_ids": ["i1"]}),
                campaign("p2", version=2, items={"category_ids": ["hot"]}),
                campaign("p7", items={"all_items": True}),
            ]
        )
    )
    after = till.index
    assert after is not before
    assert all(after.by_id[cid] is before.by_id[cid] for cid in ("p0", "p3", "p4", "p5"))
    assert after.by_id["p1"] is not before.by_id["p1"]
    fresh = open_engine().index
    for index in (after, fresh):
        assert sorted(index.by_id) == ["p0", "p1", "p2", "p3", "p4", "p5", "p7"]
    assert {k: sorted(c.id for c in v) for k, v in after.by_item.items()} == {
        k: sorted(c.id for c in v) for k, v in fresh.by_item.items()
    }
    assert sorted(after.by_category) == sorted(fresh.by_category) == ["hot"]
    assert [c.id for c in after.store_wide] == [c.id for c in fresh.store_wide] == ["p7"]
    sale = dump(cart(line("A", 12000, item_id="i1"), line("B", 12000, item_id="i2")))
    assert till.evaluate(sale) == open_engine().evaluate(sale)
