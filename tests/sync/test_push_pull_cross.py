"""A push and a member-state pull that cross never leave a count doubled.

HQ commits a push while a pull is under way; the pull's page includes the
till's own participations, yet its watermark predates their
acknowledgement. Seen in the demo once HQ's replay left the push's
transaction (about one run in three): the till showed 4 + 2 uses, for good.
"""

from __future__ import annotations

from pos_promo.store.counts import member_counts
from pos_promo.sync import members, steps
from pos_promo.sync.local import get_cursor
from pos_promo.sync.outbox import next_batch, record_results
from tests.sync.harness import AT, HQ, Till, now, ring_up


def _total(till: Till) -> int:
    return member_counts(till.conn, "m-1", AT.date()).participations["p1"].total


def test_a_page_applied_before_the_push_is_acknowledged_is_read_again(hq: HQ, till: Till) -> None:
    client = till.client(hq)
    steps.pull_changes(till.conn, client, now)
    ring_up(till, 1, member="m-1")
    since = get_cursor(till.conn, members.STREAM)
    watermark = members.ack_watermark(till.conn)  # the pull begins
    batch = next_batch(till.conn, 100)
    response = client.push(batch)  # HQ commits the push
    page = client.member_state(since, 100)  # the pull's page includes it
    members.apply_member_page(till.conn, since, page, watermark, now())
    assert _total(till) == 2  # HQ's 1 and the till's own 1, not yet known to be the same

    record_results(till.conn, batch, response.results, now())
    assert members.rewind_if_moved(till.conn, since, now())
    steps.pull_member_state(till.conn, client, now)

    assert _total(till) == 1


def test_a_page_applied_after_the_push_is_acknowledged_keeps_its_cursor(hq: HQ, till: Till) -> None:
    client = till.client(hq)
    steps.pull_changes(till.conn, client, now)
    ring_up(till, 1, member="m-1")
    since = get_cursor(till.conn, members.STREAM)
    watermark = members.ack_watermark(till.conn)  # the pull begins
    steps.push_events(till.conn, client, now)  # pushed and acknowledged meanwhile
    page = client.member_state(since, 100)

    report = members.apply_member_page(till.conn, since, page, watermark, now())

    assert report.stale and get_cursor(till.conn, members.STREAM) == since
    steps.pull_member_state(till.conn, client, now)
    assert _total(till) == 1
