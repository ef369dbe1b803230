"""The daemon knows its store from the till's database, at every run, and
``--check-config`` reports every problem of its file.

Issue 14: a daemon started before the till recorded its store pushed
``store_id: ""`` and HQ answered ``HTTP 400 … $.store_id`` until someone
restarted it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pos_promo_daemon.config import check_config, load_config
from pos_promo_daemon.jobs import Jobs

from pos_promo.embedded import Engine
from pos_promo.model.cart import StoreContext
from pos_promo.sync.local import open_database
from tests.sync.harness import HQ, ROOT, Till, daemon_config, env, ring_up, wait_for


def test_a_daemon_started_before_the_till_knows_its_store_pushes_once_it_does(
    tmp_path: Path, hq: HQ
) -> None:
    db = tmp_path / "s1.db"
    config = daemon_config(tmp_path, db, hq, "token-s1", push_events=0.1)
    log = tmp_path / "daemon.log"
    with log.open("ab") as handle:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "pos_promo_daemon", "--config", str(config)],
            env=env(),
            stdout=handle,
            stderr=handle,
            cwd=ROOT,
        )
    try:
        wait_for(
            lambda: "push_events ok: no store recorded in the database yet" in log.read_text(),
            what="a push run before the till exists",
        )
        engine = Engine.open(db, StoreContext("s1"), durability="normal")
        till = Till(db, "s1", engine, open_database(db, "normal"))
        try:
            wait_for(lambda: len(engine.index) == 1, what="campaign p1 to be pulled")
            written = ring_up(till, 3)
            wait_for(lambda: hq.report()["events"] == written, what="the events to reach HQ")
            wait_for(lambda: till.pending() == 0, what="the backlog to empty")
        finally:
            till.close()
    finally:
        daemon.terminate()
        assert daemon.wait(15) == 0
    assert written == 6  # per order: order.committed and participation.changed of p1
    assert "HTTP 400" not in log.read_text()


@pytest.fixture
def mismatched(tmp_path: Path, hq: HQ, till: Till) -> Iterator[Jobs]:
    config = daemon_config(tmp_path, till.path, hq, "token-s1")
    config.write_text(
        config.read_text().replace('token = "token-s1"', 'token = "token-s1"\nstore_id = "s2"')
    )
    jobs = Jobs(load_config(config)).open()
    try:
        yield jobs
    finally:
        jobs.close()


def test_a_store_id_in_the_config_is_checked_against_the_database(
    mismatched: Jobs, till: Till
) -> None:
    ring_up(till, 1)
    result = mismatched.run("push_events")
    assert result.status == "failed"
    assert result.detail == (
        "StoreMismatch: this database belongs to store 's1', not 's2': one database per till"
    )
    assert till.pending() == 1


BAD = """\
db = "nowhere/till.db"
hq_url = "ftp://hq.example.com"
verify_tls = "yes"
store = "s1"

[intervals]
push_events = -1
pull_members = "fast"

[http]
attempts = 50

[batches]
push = 0
"""


def test_check_config_reports_every_problem_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    assert [str(p) for p in check_config(path)] == [
        "$.store: is not a key here (known: db, hq_url, token, token_file, store_id, "
        "verify_tls, ca_bundle, allow_insecure_http, intervals, http, batches, check)",
        '$.verify_tls: expected bool, got "yes"',
        '$.intervals.pull_members: expected float, got "fast"',
        "$.intervals.push_events: expected float > 0.0, got -1",
        "$.http.attempts: expected int <= 20, got 50",
        "$.batches.push: expected int >= 1, got 0",
        "$.token: is required (or token_file)",
        '$.hq_url: must be an http:// or https:// URL, got "ftp://hq.example.com"',
        f'$.db: is in a folder that does not exist, got "{tmp_path / "nowhere" / "till.db"}"',
    ]


def test_check_config_compares_the_store_id_with_the_database(tmp_path: Path) -> None:
    Engine.open(tmp_path / "till.db", StoreContext("s1")).close()
    path = tmp_path / "till.toml"
    path.write_text('db = "till.db"\nhq_url = "https://hq"\ntoken = "t"\nstore_id = "s2"\n')
    assert [str(p) for p in check_config(path)] == [
        "$.store_id: must match the store the database records ('s1'), got \"s2\""
    ]


def test_check_config_from_the_shell_prints_one_line_per_problem_or_ok(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD)
    good = tmp_path / "good.toml"
    good.write_text('db = "till.db"\nhq_url = "http://127.0.0.1:8750"\ntoken = "t"\n')

    def check(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pos_promo_daemon", "--check-config", str(path)],
            env=env(),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    refused = check(bad)
    assert refused.returncode == 2
    assert len(refused.stderr.splitlines()) == 9
    assert all(line.startswith("error: $.") for line in refused.stderr.splitlines())
    accepted = check(good)
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout == (
        f"{good}: ok (database {tmp_path / 'till.db'}, HQ http://127.0.0.1:8750)\n"
    )
