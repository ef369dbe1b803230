"""HQ's per-event verdicts at the till: only what HQ holds is marked sent."""

from __future__ import annotations

import sqlite3

from pos_promo.sync.outbox import next_batch, record_results
from pos_promo.sync.protocol import EventResult
from pos_promo.sync.status import read_status
from tests.sync.harness import Till, now, ring_up


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
