"""HQ's doors for an operator: files it creates, tokens it reads, one-line errors.

Exit codes (docs/security.md, ``pos_promo_hq.main``): 2 bad arguments or an
unreadable input file, 3 the address cannot be listened on, 4 the database
cannot be opened or migrated.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import requests

from tests.sync.harness import ADMIN, HQ, ROOT, env


def _hq(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_promo_hq", *args],
        env={**env(), **(extra_env or {})},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_hq_creates_its_database_readable_by_its_owner_only(hq: HQ) -> None:
    for name in ("hq.db", "hq.db-wal", "hq.db-shm"):
        mode = stat.S_IMODE((hq.folder / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))


def test_a_busy_port_is_one_line_and_exit_code_3(hq: HQ, tmp_path: Path) -> None:
    done = _hq("--database", str(tmp_path / "other.db"), "--port", str(hq.port))
    assert done.returncode == 3
    assert _one_line(done.stderr) == (
        f"error: cannot listen on 127.0.0.1:{hq.port}: Address already in use"
    )


def test_a_missing_stores_file_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    done = _hq("--database", str(tmp_path / "hq.db"), "--stores", str(tmp_path / "nope.json"))
    assert done.returncode == 2
    assert _one_line(done.stderr).startswith("error: [Errno 2] No such file or directory")
    assert not (tmp_path / "hq.db").exists()


def test_a_database_hq_cannot_reach_is_one_line_and_exit_code_4(tmp_path: Path) -> None:
    done = _hq("--database", "postgresql://postgres@127.0.0.1:1/nowhere", "--port", "0")
    assert done.returncode == 4
    assert _one_line(done.stderr) == (
        "error: cannot connect to PostgreSQL at postgresql://postgres@127.0.0.1:1/nowhere"
    )
    done = _hq("--database", str(tmp_path / "no-such-folder" / "hq.db"))
    assert done.returncode == 4
    assert _one_line(done.stderr) == (
        f"error: cannot create HQ database {tmp_path / 'no-such-folder' / 'hq.db'}: "
        f"no folder {tmp_path / 'no-such-folder'}"
    )


def test_the_admin_token_is_never_taken_from_the_command_line(tmp_path: Path) -> None:
    done = _hq("--database", str(tmp_path / "hq.db"), "--admin-token", ADMIN)
    assert done.returncode == 2
    assert "unrecognized arguments: --admin-token" in done.stderr


def test_an_admin_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    token = tmp_path / "admin.token"
    token.write_text(ADMIN + "\n")
    token.chmod(0o644)
    done = _hq("--database", str(tmp_path / "hq.db"), "--admin-token-file", str(token))
    assert done.returncode == 2
    assert _one_line(done.stderr) == (
        f"error: admin token file {token} is readable by group or others (mode 644); "
        f"run: chmod 600 {token}"
    )


def test_the_admin_token_file_opens_the_admin_door_and_nothing_else_does(
    tmp_path: Path,
) -> None:
    token = tmp_path / "admin.token"
    token.write_text(ADMIN + "\n")
    token.chmod(0o600)
    server = HQ(tmp_path, extra=["--admin-token-file", str(token)])
    # no admin token in the environment: only the file names it
    saved = os.environ.pop("POS_PROMO_HQ_ADMIN_TOKEN", None)
    try:
        server.start()
        assert server.report()["events"] == 0
        wrong = requests.get(
            server.url + "/admin/report",
            headers={"Authorization": "Bearer " + ADMIN[:-1] + "x"},
            timeout=10,
        )
        assert wrong.status_code == 401
        store = requests.get(
            server.url + "/admin/report", headers={"Authorization": "Bearer token-s1"}, timeout=10
        )
        assert store.status_code == 401
    finally:
        server.stop()
        if saved is not None:
            os.environ["POS_PROMO_HQ_ADMIN_TOKEN"] = saved


def test_hq_stopped_as_it_starts_stops_at_once_and_frees_the_port(tmp_path: Path) -> None:
    """SIGTERM right after the port opens reaches gunicorn's main process while it
    is still forking the worker and the replay process. A child that has not yet
    set its own handlers must not lose it (it once did: the main process waited
    its whole graceful timeout for the replay process and then killed it, and a
    worker left behind kept the port)."""
    for round_ in range(5):
        folder = tmp_path / str(round_)
        folder.mkdir()
        server = HQ(folder, extra=["--graceful-timeout", "60"]).start()
        server.stop()  # fails unless HQ exits by itself within 30 s
        log = (folder / "hq.log").read_text()
        assert "SIGKILL" not in log, log
        assert log.count("stopped") == 1, log  # the main process's word, once
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", server.port))


def test_the_port_is_free_again_once_hq_stopped(hq: HQ) -> None:
    port = hq.port
    hq.stop()
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
