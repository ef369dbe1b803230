"""The daemon's doors: its config, its token file, its files, and what an operator sees."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from pos_promo_daemon.config import load_config
from pos_promo_daemon.jobs import Jobs

from pos_promo.embedded import Engine
from pos_promo.errors import InvalidInput
from pos_promo.model.cart import StoreContext
from pos_promo.sync.local import open_database, put_setting, record_run
from pos_promo.sync.status import THRESHOLDS_KEY, Thresholds, read_status
from tests.sync.harness import ROOT, Till, cart, env

T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def write_config(folder: Path, text: str) -> Path:
    path = folder / "daemon.toml"
    path.write_text(text)
    return path


ONCE = ("--once", "pull_campaigns")


def run_daemon(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_promo_daemon", "--config", str(config), *ONCE],
        check=False,
        env=env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    [line] = [ln for ln in done.stderr.splitlines() if ln.startswith("error: ")]
    return line


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8750", False),
        ("http://localhost:8750", False),
        ("http://[::1]:8750", False),
        ("https://hq.example.com", False),
        ("http://hq.example.com", True),
    ],
)
def test_https_or_loopback_or_an_explicit_allowance_is_accepted(
    tmp_path: Path, url: str, allowed: bool
) -> None:
    extra = "allow_insecure_http = true\n" if allowed else ""
    config = load_config(
        write_config(tmp_path, f'db = "t.db"\nhq_url = "{url}"\ntoken = "x"\n{extra}')
    )
    assert config.hq_url == url


@pytest.mark.parametrize("url", ["http://hq.example.com", "http://10.0.0.5:8750"])
def test_plain_http_to_another_host_is_refused(tmp_path: Path, url: str) -> None:
    path = write_config(tmp_path, f'db = "t.db"\nhq_url = "{url}"\ntoken = "x"\n')
    with pytest.raises(InvalidInput) as caught:
        load_config(path)
    assert str(caught.value).startswith("$.hq_url: plain http:// would send the store's token")
    assert url in str(caught.value)


def test_a_token_file_others_can_read_is_refused_and_a_private_one_is_read(
    tmp_path: Path,
) -> None:
    token = tmp_path / "token"
    token.write_text("token-s1\n")
    token.chmod(0o644)
    path = write_config(
        tmp_path, 'db = "t.db"\nhq_url = "http://127.0.0.1:1"\ntoken_file = "token"\n'
    )
    with pytest.raises(InvalidInput, match=r"readable by group or others \(mode 0644\)"):
        load_config(path)
    token.chmod(0o640)
    with pytest.raises(InvalidInput, match=r"mode 0640"):
        load_config(path)
    token.chmod(0o600)
    assert load_config(path).bearer() == "token-s1"


def test_operator_errors_are_one_line_with_their_exit_code(tmp_path: Path) -> None:
    # a TOML syntax error names its line and column (it used to say "$: is not valid JSON")
    broken = write_config(tmp_path, 'db = "t.db"\nhq_url = "http://127.0.0.1:1\ntoken = "x"\n')
    done = run_daemon(broken)
    assert done.returncode == 2
    assert "is not valid TOML" in one_line_error(done)
    assert "line 2, column" in one_line_error(done)
    # a missing token file
    missing = write_config(
        tmp_path, 'db = "t.db"\nhq_url = "http://127.0.0.1:1"\ntoken_file = "nope"\n'
    )
    done = run_daemon(missing)
    assert done.returncode == 2
    assert one_line_error(done) == (
        f"error: $.token_file: cannot read {str(tmp_path / 'nope')!r}: No such file or directory"
    )
    # HQ down: the job fails, one log line says why, exit 1, nothing raised
    write_config(
        tmp_path,
        'db = "s1.db"\nhq_url = "http://127.0.0.1:1"\ntoken = "x"\n'
        "[http]\nattempts = 2\nbackoff_base = 0.01\nbackoff_cap = 0.01\n",
    )
    Till.open(tmp_path, "s1").close()  # an existing till database
    done = run_daemon(write_config(tmp_path, (tmp_path / "daemon.toml").read_text()))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    [line] = [ln for ln in done.stderr.splitlines() if " pull_campaigns failed: " in ln]
    assert "HQ unavailable after 2 attempt(s)" in line


def test_a_new_till_database_and_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "till.db"
        with Engine.open(path, StoreContext("s1")) as engine:
            engine.commit(json.dumps(cart("o-1", "s1")))
            files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
    finally:
        os.umask(old)
    assert modes == {"till.db": 0o600, "till.db-wal": 0o600, "till.db-shm": 0o600}


class _Broken(requests.Session):
    """A transport of our own that fails the way a bug would, not a network."""

    def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        raise KeyError("surprise")


def test_an_unexpected_failure_is_recorded_in_sync_runs_and_shown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    Till.open(tmp_path, "s1").close()
    config = load_config(
        write_config(
            tmp_path,
            'db = "s1.db"\nhq_url = "http://127.0.0.1:1"\ntoken = "x"\n[check]\nfailed_runs = 2\n',
        )
    )
    jobs = Jobs(config, clock=lambda: T0, session_factory=_Broken).open()
    try:
        first = jobs.run("pull_campaigns")
        jobs.run("pull_campaigns")
    finally:
        jobs.close()
    assert (first.status, first.detail) == ("failed", "unexpected KeyError: 'surprise'")
    assert "Traceback" not in caplog.text
    status = read_status(tmp_path / "s1.db", T0)
    job = next(j for j in status.jobs if j.job == "pull_campaigns")
    assert (job.runs, job.failures, job.consecutive_failures) == (2, 2, 2)
    assert job.last_error == "unexpected KeyError: 'surprise'"
    assert status.thresholds == Thresholds(failed_runs=2)
    assert status.attention == (
        "job pull_campaigns failed 2 run(s) in a row (limit 2): unexpected KeyError: 'surprise'",
    )


def test_status_check_names_a_silent_job_and_an_old_backlog(tmp_path: Path) -> None:
    till = Till.open(tmp_path, "s1")
    try:
        till.engine.commit(json.dumps(cart("o-1", "s1", at=T0)))
        conn = till.conn
        put_setting(conn, THRESHOLDS_KEY, json.dumps({"backlog_age": 600, "job_silence": 900}))
        record_run(conn, "push_events", T0, detail="ok")
        record_run(conn, "push_events", T0 + dt.timedelta(seconds=60), error="HQUnavailable: x")
        record_run(conn, "pull_members", T0, error="HQUnavailable: y")
    finally:
        till.close()
    fresh = read_status(tmp_path / "s1.db", T0 + dt.timedelta(seconds=300))
    assert fresh.attention == ()
    late = read_status(tmp_path / "s1.db", T0 + dt.timedelta(seconds=1000))
    assert late.attention == (
        "job pull_members has not succeeded for 1000s (its first run, never succeeded; limit 900s)",
        "job push_events has not succeeded for 1000s (its last success; limit 900s)",
        "1 event(s) waiting for HQ, the oldest order 1000s old (limit 600s)",
    )


def test_status_check_exits_1_naming_why(tmp_path: Path) -> None:
    Till.open(tmp_path, "s1").close()
    conn = open_database(tmp_path / "s1.db")
    for n in range(5):
        record_run(conn, "push_events", dt.datetime.now(dt.UTC), error=f"HTTP 500 #{n}")
    conn.close()
    done = subprocess.run(
        [sys.executable, "-m", "pos_promo", "--db", str(tmp_path / "s1.db"), "status", "--check"],
        check=False,
        env=env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "attention: job push_events failed 5 run(s) in a row (limit 5): HTTP 500 #4"
    ]
