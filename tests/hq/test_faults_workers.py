"""Fault switches under several workers: one count, whichever worker a request lands on.

Each request below opens a new connection, so gunicorn spreads them over
both workers; with switches kept in process memory only the worker that
took ``POST /admin/faults`` would fail requests, and fewer than ten of the
twenty would. Kept in the shared file, exactly ten fail and ten pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.sync.harness import ADMIN, HQ, STORES


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[HQ]:
    server = HQ(tmp_path, extra=["--workers", "2"])
    try:
        yield server.start()
    finally:
        server.stop()


def test_a_fault_count_is_shared_by_every_worker(two_workers: HQ) -> None:
    two_workers.faults(fail_500=10, paths=["/v1/changes"])
    statuses = []
    for _ in range(20):
        with requests.Session() as fresh:  # a new connection each time
            response = fresh.get(
                two_workers.url + "/v1/changes",
                headers={"Authorization": f"Bearer {STORES['s1']}", "Connection": "close"},
                timeout=10,
            )
        statuses.append(response.status_code)
    assert sorted(statuses) == [200] * 10 + [500] * 10
    state = requests.get(
        two_workers.url + "/admin/faults",
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=10,
    ).json()
    assert state["fired"] == {"fail_500": 10}
    assert state["switches"]["fail_500"] == 0  # counted down to the last
