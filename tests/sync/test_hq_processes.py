"""Several HQ processes, one PostgreSQL: what must hold is held by the database.

Two real HQ processes share one schema. The same batch pushed to both at
once is applied once; stores pushing to different processes add up; every
queued order is replayed exactly once by whichever process's worker claims
it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_promo.sync import steps
from pos_promo.sync.outbox import next_batch
from tests import pg
from tests.sync.conftest import CATALOG
from tests.sync.harness import HQ, Till, now, ring_up

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_hqs(tmp_path: Path) -> Iterator[tuple[HQ, HQ]]:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG))
    with pg.fresh_schema() as url:
        servers = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            servers.append(HQ(tmp_path / name, catalog, extra=["--database", url]))
        try:
            for server in servers:
                server.start()
            yield servers[0], servers[1]
        finally:
            for server in servers:
                server.stop()


def test_one_batch_pushed_to_two_hq_processes_at_once_is_applied_once(
    two_hqs: tuple[HQ, HQ], till: Till, till2: Till
) -> None:
    a, b = two_hqs
    steps.pull_changes(till.conn, till.client(a), now)
    steps.pull_changes(till2.conn, till2.client(b), now)
    ring_up(till, 30, member="m-1")
    ring_up(till2, 20, prefix="s2-", member="m-1")
    batch = next_batch(till.conn, 1000)
    answers: dict[str, list[str]] = {}
    barrier = threading.Barrier(2)

    def push(name: str, hq: HQ) -> None:
        barrier.wait()
        answers[name] = [r.status for r in till.client(hq).push(batch).results]

    threads = [threading.Thread(target=push, args=pair) for pair in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    steps.push_events(till2.conn, till2.client(b), now)

    for i in range(len(batch)):  # each event: accepted by one process, duplicate at the other
        assert sorted((answers["a"][i], answers["b"][i])) == ["accepted", "duplicate"]
    for hq in (a, b):
        report = hq.report()
        assert (report["events"], report["orders"]) == (100, 50)
        assert report["participations"] == [{"member_id": "m-1", "campaign_id": "p1", "total": 50}]
        assert report["replays"] == {"match": 50}
        assert report["flags"] == []
