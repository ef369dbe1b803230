"""Bad input from HQ never stops the till or corrupts its cache."""

from __future__ import annotations

import json

import pytest

from pos_promo.sync import steps
from pos_promo.sync.errors import HQProtocolError, ResponseTooLarge
from pos_promo.sync.local import get_cursor
from tests.sync.harness import HQ, Till, campaign, cart, now


def evaluates(till: Till) -> int:
    return till.engine.evaluate(json.dumps(cart("probe", "s1"))).total_discount


@pytest.fixture
def synced(hq: HQ, till: Till) -> Till:
    steps.pull_changes(till.conn, till.client(hq), now)
    assert evaluates(till) == 100
    return till


def test_malformed_json_from_hq_is_refused_and_the_cache_is_untouched(hq: HQ, synced: Till) -> None:
    hq.publish(
        campaign(
            "p1", version=2, rule={"type": "spend_save", "tiers": [{"spend": 1000, "save": 300}]}
        )
    )
    hq.faults(garble=1)
    with pytest.raises(HQProtocolError, match="unusable response"):
        steps.pull_changes(synced.conn, synced.client(hq), now)
    assert get_cursor(synced.conn, "changes") == "1"
    assert evaluates(synced) == 100
    steps.pull_changes(synced.conn, synced.client(hq), now)
    assert evaluates(synced) == 300


def test_a_campaign_that_fails_validation_leaves_the_till_evaluating(hq: HQ, synced: Till) -> None:
    hq.publish(
        campaign(
            "p1", version=2, period={"start": "2026-12-01T00:00:00", "end": "2026-01-01T00:00:00"}
        )
    )
    report = steps.pull_changes(synced.conn, synced.client(hq), now)
    assert report.quarantined == ("campaign:p1",)
    assert evaluates(synced) == 100


def test_an_unknown_campaign_kind_leaves_the_till_evaluating(hq: HQ, synced: Till) -> None:
    hq.publish({"kind": "mystery", "id": "m1", "version": 1})
    steps.pull_changes(synced.conn, synced.client(hq), now)
    assert evaluates(synced) == 100


def test_a_ten_megabyte_page_is_read_and_its_over_long_campaign_quarantined(
    hq: HQ, synced: Till
) -> None:
    # a description is at most MAX_TEXT_LENGTH (4,000) characters: the page is
    # read whole, the one campaign past the limit is quarantined, the till goes on
    hq.publish(campaign("big", description="x" * (10 * 1024 * 1024)))
    hq.publish(campaign("fine", description="x" * 4000))
    report = steps.pull_changes(synced.conn, synced.client(hq), now)
    assert report.quarantined == ("campaign:big",)
    assert report.applied == 1
    assert evaluates(synced) == 100


def test_a_page_over_the_size_limit_is_refused_unread_and_nothing_changes(
    hq: HQ, synced: Till
) -> None:
    hq.publish(campaign("big", description="x" * (10 * 1024 * 1024)))
    client = synced.client(hq, max_response_bytes=1024 * 1024)
    with pytest.raises(ResponseTooLarge):
        steps.pull_changes(synced.conn, client, now)
    assert get_cursor(synced.conn, "changes") == "1"
    assert evaluates(synced) == 100


def test_a_response_cut_short_is_retried_and_then_applied(hq: HQ, synced: Till) -> None:
    hq.publish(campaign("p2"))
    hq.faults(cut_short=2)
    report = steps.pull_changes(synced.conn, synced.client(hq), now)
    assert report.applied == 1
