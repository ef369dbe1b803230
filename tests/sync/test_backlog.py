"""A big backlog always drains: batches bounded by bytes, a 413 splits, a giant is a dead letter."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from pos_promo.sync import steps
from pos_promo.sync.outbox import next_batch
from pos_promo.sync.status import read_status
from tests.sync.harness import AT, HQ, STORES, Till, now, run_daemon

TWICE = ("--once", "push_events", "--once", "push_events")
BODY_LIMIT = 50_000  # a proxy before HQ, much stricter than HQ's own 64 MiB


def catering(order_id: str, lines: int, trays: int = 10) -> str:
    """A catering order: ``lines`` lines of ``trays`` trays, ~200 bytes of payload per line."""
    doc: dict[str, Any] = {
        "order_id": order_id,
        "store_id": "s1",
        "at": AT.isoformat(),
        "lines": [
            {"line_id": str(k), "item_id": f"tray-{k}", "quantity": trays, "unit_price": 4500}
            for k in range(lines)
        ],
    }
    return json.dumps(doc)


def test_batches_are_bounded_by_bytes_as_well_as_count(till: Till) -> None:
    for n in range(10):
        till.engine.commit(catering(f"c-{n}", 40))
    sizes = [len(e.payload) for e in next_batch(till.conn, 100)]
    assert len(sizes) == 10 and all(8000 < s < 9000 for s in sizes)
    assert len(next_batch(till.conn, 100, max_bytes=30_000)) == 3
    assert len(next_batch(till.conn, 2, max_bytes=30_000)) == 2
    # the first event always comes, however large: HQ decides
    assert len(next_batch(till.conn, 100, max_bytes=1024)) == 1


def test_a_500_order_catering_backlog_drains_through_413s_and_a_giant_becomes_a_dead_letter(
    tmp_path: Path, hq: HQ, till: Till
) -> None:
    for n in range(250):
        till.engine.commit(catering(f"c-{n:03}", 40))
    till.engine.commit(catering("giant", 300, 6))  # ~58 KB alone: over the proxy's limit
    for n in range(250, 500):
        till.engine.commit(catering(f"c-{n:03}", 40))
    assert till.pending() == 501
    hq.faults(body_limit=BODY_LIMIT)
    config = tmp_path / "push.toml"
    config.write_text(
        f'db = "{till.path}"\nhq_url = "{hq.url}"\ntoken = "{STORES["s1"]}"\n'
        "[http]\nattempts = 2\nbackoff_base = 0.01\nbackoff_cap = 0.02\n"
        f"[batches]\npush = 500\npush_bytes = {64 * 1024 * 1024}\n"
    )

    done = run_daemon(config, *TWICE)

    report = hq.report(ids=True)
    assert report["events"] == 500
    assert till.pending() == 0
    status = read_status(till.path, now())
    [dead] = status.dead_letters
    giant = till.conn.execute("SELECT id FROM outbox WHERE order_id = 'giant'").fetchone()[0]
    assert dead.event_id == giant
    assert "(HTTP 413)" in dead.reason and "body_limit" in dead.reason
    assert giant not in report["event_ids"]
    # the second run found nothing left to send and said so
    lines = [ln for ln in done.stderr.splitlines() if " push_events ok: " in ln]
    assert len(lines) == 2 and "backlog 0" in lines[1]
    conn = sqlite3.connect(till.path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    counts = dict(conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())
    assert counts == {"sent": 500, "dead": 1}
    conn.close()


def test_a_split_push_records_every_verdict_once(hq: HQ, till: Till) -> None:
    for n in range(40):
        till.engine.commit(catering(f"c-{n:03}", 40))
    hq.faults(body_limit=BODY_LIMIT)
    report = steps.push_events(
        till.conn, till.client(hq), now, batch_size=500, max_bytes=64 * 1024 * 1024
    )
    assert (report.accepted, report.duplicate, report.rejected, report.backlog) == (40, 0, 0, 0)
    # 40 events of ~8.3 KB: refused at 40, 20 and 10, taken at 5 (8 batches)
    assert report.batches == 8
    assert hq.report()["events"] == 40
