"""Real processes on loopback for the sync tests: an HQ, daemons, tills.

Everything here starts real programs (``python -m hq``, ``python -m
daemon``) or opens real SQLite files; nothing inside the project is mocked.
Waits are polls with a deadline, never sleeps for correctness.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from pos_promo.embedded import Engine
from pos_promo.model.cart import StoreContext
from pos_promo.sync.client import HQClient, RetryPolicy
from pos_promo.sync.local import open_database

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "admin-secret"
STOP_WAIT = 30  # seconds: well past HQ's default graceful timeout (10 s)
AT = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)
PERIOD = {"start": "2026-01-01T00:00:00", "end": "2026-12-31T23:59:59"}
STORES = {"s1": "token-s1", "s2": "token-s2"}


def run_daemon(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real daemon entry point to completion (``--once`` jobs) and
    check it ended cleanly: exit 0 and no traceback for an operator to read.
    The timeout only bounds a hung daemon on a busy machine."""
    done = subprocess.run(
        [sys.executable, "-m", "pos_promo_daemon", "--config", str(config), *args],
        check=False,
        env=env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = str(ROOT) + os.pathsep + out.get("PYTHONPATH", "")
    return out


def wait_for(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def campaign(campaign_id: str = "p1", version: int = 1, **fields: Any) -> dict[str, Any]:
    """Spend $10 save $1 on everything, unless ``fields`` say otherwise."""
    doc: dict[str, Any] = {
        "kind": "spend_and_save",
        "id": campaign_id,
        "version": version,
        "name": campaign_id,
        "period": PERIOD,
        "rule": {"type": "spend_save", "tiers": [{"spend": 1000, "save": 100}]},
    }
    doc.update(fields)
    return doc


def cart(
    order_id: str, store_id: str, price: int = 1500, member: str | None = None, at: dt.datetime = AT
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "order_id": order_id,
        "store_id": store_id,
        "at": at.isoformat(),
        "lines": [{"line_id": "1", "item_id": "burger", "quantity": 1, "unit_price": price}],
    }
    if member:
        doc["member"] = {"id": member}
    return doc


@dataclass
class HQ:
    """A reference HQ process; stop and start it again on the same port and file."""

    folder: Path
    catalog: Path | None = None
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    extra: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HQ:
        port_file = self.folder / "hq.port"
        port_file.unlink(missing_ok=True)
        stores = self.folder / "stores.json"
        stores.write_text(
            json.dumps(
                [{"id": sid, "token": token, "timezone": "UTC"} for sid, token in STORES.items()]
            )
        )
        args = [
            sys.executable,
            "-m",
            "pos_promo_hq",
            "--db",
            str(self.folder / "hq.db"),
            "--port",
            str(self.port),
            "--port-file",
            str(port_file),
            "--stores",
            str(stores),
            *self.extra,
        ]
        if self.catalog is not None:
            args += ["--catalog", str(self.catalog)]
        log = (self.folder / "hq.log").open("ab")
        self.proc = subprocess.Popen(
            args,
            env={**env(), "POS_PROMO_HQ_ADMIN_TOKEN": ADMIN},
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )
        self.port = int(
            wait_for(lambda: port_file.exists() and port_file.read_text(), what="HQ to listen")
        )
        return self

    def stop(self) -> None:
        """SIGTERM, as an operator stops it: HQ must exit by itself (it gives
        requests and the replay in hand ``--graceful-timeout``, 10 s by
        default). One that does not is killed, and that is a failure: its
        processes could keep the port after the test."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            raise AssertionError(f"HQ did not stop within {STOP_WAIT} s of SIGTERM") from None

    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(
            method,
            self.url + path,
            json=body,
            timeout=10,
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        response.raise_for_status()
        return response.json()

    def faults(self, **switches: Any) -> Any:
        return self._admin("POST", "/admin/faults", switches)

    def publish(self, *documents: dict[str, Any], doc_type: str = "campaign") -> int:
        docs = [{"type": doc_type, "document": d} for d in documents]
        return int(self._admin("POST", "/admin/publish", {"documents": docs})["added"])

    def lookup(self, store_id: str, member_id: str) -> dict[str, Any]:
        """A till of ``store_id`` looks ``member_id`` up at the counter: from now on
        HQ serves that store the member's state."""
        response = requests.get(
            f"{self.url}/v1/members/{member_id}",
            timeout=10,
            headers={"Authorization": f"Bearer {STORES[store_id]}"},
        )
        response.raise_for_status()
        return dict(response.json())

    def report(self, ids: bool = False) -> dict[str, Any]:
        """What HQ counted, once its replay queue is worked off (replay runs after
        the push is acknowledged)."""
        path = "/admin/report" + ("?ids=1" if ids else "")
        return dict(
            wait_for(
                lambda: (r := self._admin("GET", path))["replay_backlog"] == 0 and r,
                what="HQ's replay queue to drain",
            )
        )


@dataclass
class Till:
    """One store's till: the embedded engine and the sync layer's connection."""

    path: Path
    store_id: str
    engine: Engine
    conn: Any

    @classmethod
    def open(cls, folder: Path, store_id: str) -> Till:
        path = folder / f"{store_id}.db"
        engine = Engine.open(path, StoreContext(store_id), durability="normal")
        return cls(path, store_id, engine, open_database(path, "normal"))

    def client(self, hq: HQ, token: str | None = None, **kw: Any) -> HQClient:
        kw.setdefault("retry", RetryPolicy(attempts=8, base=0.01, cap=0.05, retry_after_cap=0.1))
        kw.setdefault("read_timeout", 2.0)
        kw.setdefault("connect_timeout", 1.0)
        return HQClient(hq.url, token or STORES[self.store_id], self.store_id, **kw)

    def outbox_ids(self) -> set[str]:
        return {i for (i,) in self.conn.execute("SELECT id FROM outbox")}

    def pending(self) -> int:
        row = self.conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()
        return int(row[0])

    def close(self) -> None:
        self.engine.close()
        self.conn.close()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def ring_up(till: Till, count: int, prefix: str = "o", member: str | None = None) -> int:
    """Commit ``count`` orders that each get the $1 discount; the events written."""
    before = len(till.outbox_ids())
    for n in range(count):
        till.engine.commit(json.dumps(cart(f"{prefix}-{n}", till.store_id, member=member)))
    return len(till.outbox_ids()) - before


def daemon_config(folder: Path, till_db: Path, hq: HQ, token: str, **intervals: float) -> Path:
    lines = [f'db = "{till_db}"', f'hq_url = "{hq.url}"', f'token = "{token}"', "", "[intervals]"]
    base = {
        "pull_campaigns": 0.3,
        "pull_members": 0.3,
        "push_events": 0.1,
        "release_gifts": 1.0,
        "housekeeping": 1.0,
    }
    base.update(intervals)
    lines += [f"{k} = {v}" for k, v in base.items()]
    lines += [
        "",
        "[http]",
        "connect_timeout = 1.0",
        "read_timeout = 2.0",
        "attempts = 3",
        "backoff_base = 0.01",
        "backoff_cap = 0.05",
        "",
        "[batches]",
        "push = 50",
    ]
    path = folder / f"{till_db.stem}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def iter_lines(path: Path) -> Iterator[str]:
    yield from path.read_text().splitlines() if path.exists() else []


class PageServer(ThreadingHTTPServer):
    """A stand-in HQ for the pulls: serves ``pages[cursor]`` (the cursor taken
    from ``since``), else ``page``, whatever bytes a test wants the till to read."""

    pages: dict[str, bytes]
    page: bytes = b"{}"


class _PageHandler(BaseHTTPRequestHandler):
    server: PageServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:
        since = self.path.partition("since=")[2].partition("&")[0]
        body = self.server.pages.get(since, self.server.page)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serving_pages() -> Iterator[PageServer]:
    """A :class:`PageServer` on a free loopback port for the block's length."""
    httpd = PageServer(("127.0.0.1", 0), _PageHandler)
    httpd.pages = {}
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
