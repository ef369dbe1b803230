"""Identity at HQ through the real HQ process, on SQLite and on PostgreSQL:
no store can make another's events vanish, and a second till reusing an
order number is flagged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from pos_promo.sync import steps
from pos_promo.sync.outbox import next_batch
from pos_promo.sync.protocol import PushEvent
from tests import pg
from tests.sync.conftest import CATALOG
from tests.sync.harness import HQ, Till, cart, now, ring_up


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def hq(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HQ]:
    """The real HQ process over each backend."""
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG))
    if request.param == "sqlite":
        server = HQ(tmp_path, catalog)
        try:
            yield server.start()
        finally:
            server.stop()
        return
    with pg.fresh_schema() as url:
        server = HQ(tmp_path, catalog, extra=["--database", url])
        try:
            yield server.start()
        finally:
            server.stop()


def test_store_s2_cannot_squat_the_ids_of_store_s1(hq: HQ, till: Till, till2: Till) -> None:
    steps.pull_changes(till.conn, till.client(hq), now)
    steps.pull_changes(till2.conn, till2.client(hq), now)
    ring_up(till, 3, member="m-1")
    ring_up(till2, 1, prefix="s2-", member="m-2")
    s1_events = next_batch(till.conn, 100)
    decoys = next_batch(till2.conn, 100)[:2]  # s2's own order and participation
    squat = [PushEvent(e.id, d.kind, d.payload) for e, d in zip(s1_events[:2], decoys, strict=True)]
    assert {r.status for r in till2.client(hq).push(squat).results} == {"accepted"}

    report = steps.push_events(till.conn, till.client(hq), now)

    results = {e.id: e for e in s1_events}
    assert (report.accepted, report.duplicate) == (len(s1_events) - 2, 0)
    # refused, not marked sent: the till keeps them as dead letters with HQ's reason
    assert (till.pending(), report.rejected) == (0, 2)
    held = till.conn.execute("SELECT id FROM outbox WHERE status = 'dead'").fetchall()
    assert {i for (i,) in held} == {e.id for e in s1_events[:2]} <= set(results)
    reasons = [r for (r,) in till.conn.execute("SELECT reason FROM sync_dead_letters")]
    assert len(reasons) == 2 and all(r.startswith("refused: ") for r in reasons), reasons
    counted = hq.report()
    assert counted["events_by_store"] == {"s1": len(s1_events) - 2, "s2": 2}


def test_a_second_till_of_a_store_reusing_an_order_number_is_flagged(
    hq: HQ, till: Till, tmp_path: Path
) -> None:
    (tmp_path / "second").mkdir()
    second = Till.open(tmp_path / "second", "s1")
    try:
        for t in (till, second):
            steps.pull_changes(t.conn, t.client(hq), now)
        till.engine.commit(json.dumps(cart("o-1", "s1", price=1500)))
        second.engine.commit(json.dumps(cart("o-1", "s1", price=2500)))
        steps.push_events(till.conn, till.client(hq), now)
        (order,) = [e for e in next_batch(second.conn, 100) if e.kind == "order.committed"]
        (result,) = second.client(hq).push([order]).results
    finally:
        second.close()

    # today both tills derive one event id from the order number (a conflict of
    # ids); with a till identity in the ids, a conflict of orders: flagged either way
    assert result.status in ("conflict", "accepted")
    kind = {"conflict": "event_conflict", "accepted": "order_conflict"}[result.status]
    flags = [f for f in hq.report()["flags"] if f["kind"] == kind]
    assert len(flags) == 1 and flags[0]["store_id"] == "s1"
    payload = msgspec.json.decode(order.payload)
    assert (payload["order_id"], payload["total"]) == ("o-1", 2400)
