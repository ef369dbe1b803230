"""The daemon as a real process: it syncs, logs one line per run, stops cleanly."""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_promo.sync.cli import register
from pos_promo.sync.local import JOBS
from pos_promo.sync.status import read_status
from tests.sync.harness import (
    HQ,
    ROOT,
    Till,
    cart,
    daemon_config,
    env,
    now,
    ring_up,
    wait_for,
)

LINE = re.compile(r" daemon \w+ (?P<job>\w+) (?P<status>ok|failed|stopped|cancelled): ")


class Daemon:
    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        handle = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pos_promo_daemon", "--config", str(config)],
            env=env(),
            stdout=handle,
            stderr=handle,
            cwd=ROOT,
        )

    def text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    try:
        yield started
    finally:
        for d in started:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait(5)


def start(
    daemons: list[Daemon],
    tmp_path: Path,
    till: Till,
    hq: HQ,
    token: str = "token-s1",
    name: str = "daemon.log",
) -> Daemon:
    d = Daemon(daemon_config(tmp_path, till.path, hq, token), tmp_path / name)
    daemons.append(d)
    return d


def runs(till: Till) -> dict[str, int]:
    return {j.job: j.runs for j in read_status(till.path).jobs}


def test_the_daemon_pulls_campaigns_and_pushes_every_event_it_finds(
    tmp_path: Path, hq: HQ, till: Till, daemons: list[Daemon]
) -> None:
    start(daemons, tmp_path, till, hq)
    wait_for(lambda: len(till.engine.index) == 1, what="campaigns to arrive")
    ring_up(till, 100, member="m-1")
    wait_for(lambda: hq.report()["events"] == 200, what="events to reach HQ")
    wait_for(lambda: till.pending() == 0, what="the backlog to empty")
    assert daemons[0].stop() == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_daemon_cleanly_and_releases_the_database(
    sig: int, tmp_path: Path, hq: HQ, till: Till, daemons: list[Daemon]
) -> None:
    d = start(daemons, tmp_path, till, hq)
    wait_for(lambda: all(n >= 1 for n in runs(till).values()), what="every job to run")
    assert d.stop(sig) == 0
    assert d.text().rstrip().endswith("daemon INFO stopped")
    again = start(daemons, tmp_path, till, hq, name="again.log")
    wait_for(lambda: "started for" in again.text(), what="a new daemon to take the lock")


def test_each_job_run_leaves_exactly_one_log_line(
    tmp_path: Path, hq: HQ, till: Till, daemons: list[Daemon]
) -> None:
    d = start(daemons, tmp_path, till, hq)
    wait_for(lambda: all(n >= 2 for n in runs(till).values()), what="two runs of every job")
    assert d.stop() == 0
    logged: dict[str, int] = {}
    for match in LINE.finditer(d.text()):
        logged[match["job"]] = logged.get(match["job"], 0) + 1
    assert logged == runs(till)
    assert set(logged) == set(JOBS)
    assert "apscheduler" not in d.text()


def test_a_second_daemon_for_the_same_database_refuses_to_start(
    tmp_path: Path, hq: HQ, till: Till, daemons: list[Daemon]
) -> None:
    first = start(daemons, tmp_path, till, hq)
    wait_for(lambda: "started for" in first.text(), what="the first daemon")
    second = start(daemons, tmp_path, till, hq, name="second.log")
    assert second.proc.wait(15) == 3
    assert "another sync daemon" in second.text()
    assert first.proc.poll() is None


def test_a_refused_token_stops_the_jobs_that_need_hq_and_says_so(
    tmp_path: Path, hq: HQ, till: Till, daemons: list[Daemon]
) -> None:
    ring_up(till, 3)
    d = start(daemons, tmp_path, till, hq, token="revoked")
    hq_jobs = ("pull_campaigns", "pull_members", "push_events")
    wait_for(
        lambda: all(j.stopped_reason for j in read_status(till.path).jobs if j.job in hq_jobs),
        what="the HQ jobs to stop",
    )
    wait_for(lambda: runs(till)["housekeeping"] >= 3, what="time to pass")
    status = read_status(till.path)
    assert {j.job: j.runs for j in status.jobs if j.job in hq_jobs} == dict.fromkeys(hq_jobs, 1)
    assert all("HTTP 401" in (j.stopped_reason or "") for j in status.jobs if j.job in hq_jobs)
    assert any("job push_events stopped" in line for line in status.attention)
    assert d.text().count("push_events stopped") == 1
    assert till.pending() == 3
    assert d.stop() == 0


def test_pos_promo_status_shows_the_last_sync_of_each_kind_and_the_backlog(
    tmp_path: Path, hq: HQ, till: Till, daemons: list[Daemon], capsys: pytest.CaptureFixture[str]
) -> None:
    start(daemons, tmp_path, till, hq)
    wait_for(
        lambda: all(j.last_success_at for j in read_status(till.path).jobs),
        what="every job to succeed once",
    )
    assert daemons[0].stop() == 0
    for n in range(2):  # rung up just now, so the backlog is not old
        till.engine.commit(json.dumps(cart(f"o-{n}", "s1", at=now())))

    parser = argparse.ArgumentParser()
    parser.add_argument("--db")
    register(parser.add_subparsers())
    args = parser.parse_args(["--db", str(till.path), "status"])
    assert args.run(args) == 0
    shown = json.loads(capsys.readouterr().out)
    assert all(job["last_success_at"] for job in shown["jobs"])
    assert shown["backlog"] == 4
    args = parser.parse_args(["--db", str(till.path), "status", "--format", "text", "--check"])
    assert args.run(args) == 0
    text = capsys.readouterr().out
    assert "backlog: 4 event(s) waiting for HQ" in text
    assert "pull_campaigns" in text
