"""SIGKILL an HQ worker in the middle of ingesting a batch: nothing lost, nothing twice.

Real processes only: HQ under gunicorn with two workers, two tills each
pushed by its own daemon process, on SQLite and on PostgreSQL. A kill lands
mid-ingest by construction: the test finds the worker inside a batch's
transaction and kills that very process while it is there. On SQLite that
is the process holding the WAL write lock (byte 120 of ``hq.db-shm`` in
``/proc/locks``, taken by ``BEGIN IMMEDIATE`` and held to ``COMMIT``); on
PostgreSQL, the process whose connection holds a batch's advisory lock
(``pg_locks``, its client port traced to the worker's socket). gunicorn
replaces the worker, the batch's transaction is rolled back, the daemon's
retry sends the batch again, and at the end HQ holds exactly the events
the tills committed, each once, with the participation totals they add up to.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from pos_promo_hq.serving import REPLAY_NICENESS, REPLAY_PROCESS_NAME

from tests import pg
from tests.sync.harness import (
    ADMIN,
    HQ,
    ROOT,
    Till,
    campaign,
    daemon_config,
    env,
    ring_up,
    wait_for,
)

Finder = Callable[[set[int]], int | None]
KILLS = 8
ORDERS = 30
WAL_WRITE_LOCK = 120


def _workers(hq: HQ) -> set[int]:
    assert hq.proc is not None
    pid = hq.proc.pid
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(p) for p in text.split() if not _is_replay_process(int(p))}


def _is_replay_process(pid: int) -> bool:
    """gunicorn's main process also forks HQ's replay process; it serves no requests."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == REPLAY_PROCESS_NAME
    except OSError:  # gone since the listing: no entry, or (reaped mid-read) ESRCH
        return False


def _writer(shm: Path, workers: set[int]) -> int | None:
    """The worker holding the WAL write lock on ``shm`` right now, if one does."""
    try:
        inode = os.stat(shm).st_ino
    except FileNotFoundError:
        return None
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields:
            continue  # a waiter, not a holder
        try:
            kind, pid, device, start = fields[3], int(fields[4]), fields[5], fields[6]
        except (IndexError, ValueError):
            continue
        if (
            kind == "WRITE"
            and int(device.rsplit(":", 1)[1]) == inode
            and start == str(WAL_WRITE_LOCK)
        ):
            return pid if pid in workers else None
    return None


def _pg_writer(url: str, workers: set[int]) -> int | None:
    """The worker whose PostgreSQL connection holds a batch's advisory lock now."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        ports = [
            int(port)
            for (port,) in conn.execute(
                "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.client_port IS NOT NULL"
            )
        ]
    if not ports:
        return None
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) in ports:
            inodes.add(f"socket:[{fields[9]}]")
    for pid in workers:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return pid
    return None


def _kill_a_writer(hq: HQ, find: Callable[[set[int]], int | None], killed: list[int]) -> None:
    """SIGKILL the first worker seen inside a batch's transaction (within 20 s)."""
    workers = _workers(hq)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        victim = find(workers)
        if victim is not None:
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            wait_for(lambda: victim not in _workers(hq), what="the killed worker to go")  # noqa: B023
            return


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hq_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[list[str], Finder]]:
    """HQ's extra arguments and how to find its worker mid-ingest, per backend."""
    if request.param == "sqlite":
        shm = tmp_path / "hq.db-shm"
        yield [], lambda workers: _writer(shm, workers)
        return
    with pg.fresh_schema() as url:
        yield ["--database", url], lambda workers: _pg_writer(url, workers)


@pytest.fixture
def daemons() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


def test_killing_a_worker_mid_ingest_loses_nothing_and_counts_nothing_twice(
    tmp_path: Path,
    hq_backend: tuple[list[str], Finder],
    daemons: list[subprocess.Popen[bytes]],
) -> None:
    extra, find = hq_backend
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps([campaign("p1")]))
    hq = HQ(tmp_path, catalog, extra=["--workers", "2", *extra])
    tills = [Till.open(tmp_path, "s1"), Till.open(tmp_path, "s2")]
    try:
        hq.start()
        wait_for(lambda: len(_workers(hq)) == 2, what="two workers")
        for till in tills:
            config = daemon_config(tmp_path, till.path, hq, f"token-{till.store_id}")
            config.write_text(config.read_text().replace("attempts = 3", "attempts = 8"))
            log = (tmp_path / f"daemon-{till.store_id}.log").open("ab")
            daemons.append(
                subprocess.Popen(
                    [sys.executable, "-m", "pos_promo_daemon", "--config", str(config)],
                    env=env(),
                    stdout=log,
                    stderr=log,
                    cwd=ROOT,
                )
            )
        for till in tills:
            wait_for(till.engine.campaigns, what="the daemons to pull the campaign")
        killed: list[int] = []
        committed: set[str] = set()
        rounds = 0  # each rings up ORDERS orders on each till
        for kill in range(KILLS):
            wait_for(lambda: len(_workers(hq)) == 2, what="gunicorn to replace the worker")
            killer = threading.Thread(target=_kill_a_writer, args=(hq, find, killed))
            killer.start()
            while killer.is_alive():  # the daemons push these while they are rung up
                for till in tills:
                    ring_up(till, ORDERS, prefix=f"k{rounds}", member=f"m-{till.store_id}")
                    committed |= till.outbox_ids()  # before housekeeping prunes sent rows
                rounds += 1
            killer.join()
            assert len(killed) == kill + 1, "no worker took the write lock"
        wait_for(lambda: all(t.pending() == 0 for t in tills), timeout=90, what="both backlogs")
        orders = 2 * rounds * ORDERS
        assert len(committed) == orders * 2  # an order and a participation each
        report = hq.report(ids=True)
        assert sorted(report["event_ids"]) == sorted(committed)
        assert report["events"] == len(committed)
        assert report["orders"] == orders
        assert {p["member_id"]: p["total"] for p in report["participations"]} == {
            "m-s1": rounds * ORDERS,
            "m-s2": rounds * ORDERS,
        }
        promotion = requests.get(
            hq.url + "/v1/reports/promotions/p1",
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=10,
        ).json()
        assert (promotion["orders"], promotion["given"], promotion["participations"]) == (
            orders,
            orders * 100,
            orders,
        )
        assert len(set(killed)) == KILLS  # each kill took a different (replaced) worker
    finally:
        hq.stop()
        for till in tills:
            till.close()


def _replay_processes(hq: HQ) -> set[int]:
    assert hq.proc is not None
    pid = hq.proc.pid
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(p) for p in text.split() if _is_replay_process(int(p))}


def _niceness(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])  # field 19: nice


def test_the_replay_process_runs_niced_beside_the_workers_and_is_replaced_when_killed(
    tmp_path: Path,
) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps([campaign("p1")]))
    hq = HQ(tmp_path, catalog, extra=["--workers", "2"])
    till = Till.open(tmp_path, "s1")
    daemon: subprocess.Popen[bytes] | None = None
    try:
        hq.start()
        first = wait_for(lambda: _replay_processes(hq), what="the replay process")
        assert len(first) == 1
        (replayer,) = first
        # nice values stop at 19: an HQ already started niced gets as far as that
        expected = min(_niceness(hq.proc.pid) + REPLAY_NICENESS, 19)  # type: ignore[union-attr]
        assert _niceness(replayer) == expected
        wait_for(lambda: len(_workers(hq)) == 2, what="two workers")
        os.kill(replayer, signal.SIGKILL)
        second = wait_for(
            lambda: _replay_processes(hq) - {replayer}, what="gunicorn to fork a new one"
        )
        assert len(second) == 1 and len(_workers(hq)) == 2
        config = daemon_config(tmp_path, till.path, hq, "token-s1")
        log = (tmp_path / "daemon.log").open("ab")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "pos_promo_daemon", "--config", str(config)],
            env=env(),
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )
        wait_for(till.engine.campaigns, what="the daemon to pull the campaign")
        ring_up(till, 12, member="m1")
        wait_for(lambda: till.pending() == 0, timeout=60, what="the push")
        report = hq.report()  # waits for the replay queue to drain
        assert report["orders"] == 12
        assert report["replays"] == {"match": 12}
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(30)
        hq.stop()
        till.close()
    assert not any(Path(f"/proc/{pid}").exists() for pid in second), "replay outlived HQ"
