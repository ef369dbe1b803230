"""Pushing 1,000 events through each fault switch: HQ counts each exactly once."""

from __future__ import annotations

import pytest

from pos_promo.sync import steps
from pos_promo.sync.errors import SyncError
from tests.sync.harness import HQ, Till, now, ring_up

FAULTS = {
    "fail_500": {"fail_500": 4},
    "fail_429": {"fail_429": 4, "retry_after": 0},
    "hang": {"hang": 2, "hang_seconds": 0.6},
    "drop_after_commit": {"drop_after_commit": 4},
    "cut_short": {"cut_short": 4},
    "garble": {"garble": 3},
}


def push_until_empty(till: Till, hq: HQ, **client: object) -> list[str]:
    """Run the push step until the backlog is empty; the errors it reported on the way."""
    errors = []
    c = till.client(hq, **client)  # type: ignore[arg-type]
    for _ in range(50):
        try:
            report = steps.push_events(till.conn, c, now, batch_size=100)
        except SyncError as exc:
            errors.append(str(exc))
            continue
        if report.backlog == 0:
            return errors
    raise AssertionError(f"backlog never emptied; errors: {errors}")


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_events_hq_counts_once_equal_the_events_committed_locally(
    fault: str, hq: HQ, till: Till
) -> None:
    steps.pull_changes(till.conn, till.client(hq), now)
    committed = ring_up(till, 500, member="m-1")
    assert committed == 1000
    hq.faults(paths=["/v1/events"], **FAULTS[fault])

    push_until_empty(till, hq, read_timeout=0.3)

    fired = hq.faults()["fired"]
    assert fired.get(fault, 0) >= 1, f"{fault} never fired"
    report = hq.report(ids=True)
    assert set(report["event_ids"]) == till.outbox_ids()
    assert report["events"] == committed
    assert report["participations"] == [{"member_id": "m-1", "campaign_id": "p1", "total": 500}]
    assert till.pending() == 0
