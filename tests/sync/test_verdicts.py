"""HQ's per-event verdicts at the till: only what HQ holds is marked sent."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from pos_promo.sync import steps
from pos_promo.sync.outbox import next_batch, record_results
from pos_promo.sync.protocol import EventResult
from pos_promo.sync.status import read_status
from tests.sync.harness import HQ, Till, cart, now, ring_up


def test_conflict_and_refused_become_dead_letters_and_the_rest_is_sent(till: Till) -> None:
    ring_up(till, 6)  # no campaigns: one order.committed event each
    batch = next_batch(till.conn, 100)
    assert len(batch) == 6
    verdicts = ["accepted", "conflict", "duplicate", "refused", "rejected", "accepted"]
    reasons = ["", "a different payload is held under this id", "", "id held by store s2", ""]
    results = [
        EventResult(e.id, v, r)  # type: ignore[arg-type]
        for e, v, r in zip(batch, verdicts, [*reasons, ""], strict=True)
    ]

    report = record_results(till.conn, batch, results, now())

    assert (report.accepted, report.duplicate, report.rejected, report.backlog) == (2, 1, 3, 0)
    statuses = dict(till.conn.execute("SELECT id, status FROM outbox").fetchall())
    assert [statuses[e.id] for e in batch] == ["sent", "dead", "sent", "dead", "dead", "sent"]
    # nothing HQ did not hold got an acknowledgement number
    acked = {i for (i,) in till.conn.execute("SELECT event_id FROM sync_acks")}
    assert acked == {batch[0].id, batch[2].id, batch[5].id}
    status = read_status(till.path)
    assert [(d.event_id, d.reason) for d in status.dead_letters] == [
        (batch[1].id, "conflict: a different payload is held under this id"),
        (batch[3].id, "refused: id held by store s2"),
        (batch[4].id, "rejected by HQ"),
    ]
    assert "3 event(s) rejected by HQ (dead letters)" in status.attention
    conn = sqlite3.connect(till.path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


def test_a_second_till_of_the_store_reusing_an_order_number_loses_no_event(
    hq: HQ, till: Till, tmp_path: Path
) -> None:
    (tmp_path / "second").mkdir()
    second = Till.open(tmp_path / "second", "s1")
    try:
        for t in (till, second):
            steps.pull_changes(t.conn, t.client(hq), now)
        till.engine.commit(json.dumps(cart("o-1", "s1", price=1500, member="m-1")))
        second.engine.commit(json.dumps(cart("o-1", "s1", price=2500, member="m-1")))
        first_ids, second_ids = till.outbox_ids(), second.outbox_ids()
        assert len(first_ids) == len(second_ids) == 2 and not first_ids & second_ids
        reports = [steps.push_events(t.conn, t.client(hq), now) for t in (till, second)]
    finally:
        second.close()

    # every event of both tills is held at HQ, none answered duplicate or dead
    assert [(r.accepted, r.duplicate, r.rejected) for r in reports] == [(2, 0, 0), (2, 0, 0)]
    assert set(hq.report(ids=True)["event_ids"]) == first_ids | second_ids
    flags = [f for f in hq.report()["flags"] if f["kind"] == "order_conflict"]
    assert len(flags) == 1 and flags[0]["store_id"] == "s1"
    # the member took part twice, once at each till
    [count] = hq.report()["participations"]
    assert (count["member_id"], count["total"]) == ("m-1", 2)
