"""Sync throughput against the reference HQ over loopback.

Run ``python bench/sync.py`` (``--quick`` for a smoke run). It starts a
real ``python -m hq`` on a free loopback port and prints:

- **push**: events pushed per second from a till's outbox to HQ (target
  5,000/s or more): orders are committed first (each writes an
  ``order.committed`` and a ``participation.changed``), then the push step
  drains the outbox in batches; HQ ingests each batch in one transaction
  and replays every order's receipt with the engine. Measured with replay
  on (the default) and off, so the cost of the replay is visible.
- **pull**: time to pull and apply 1,000 campaigns into an empty till
  (target 300 ms or less): the HTTP page(s), decoding and checking every
  campaign, and the one transaction that writes them and the cursor. The
  till's index rebuild on its next evaluation is printed separately.

Wall clock, median of a few runs; everything seeded and deterministic.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pos_promo.embedded import Engine  # noqa: E402
from pos_promo.model.cart import StoreContext  # noqa: E402
from pos_promo.sync import steps  # noqa: E402
from pos_promo.sync.client import HQClient  # noqa: E402
from pos_promo.sync.local import open_database  # noqa: E402

TOKEN = "bench-token"
PERIOD = {"start": "2026-01-01T00:00:00", "end": "2026-12-31T23:59:59"}
AT = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def campaign(n: int) -> dict[str, object]:
    return {
        "kind": "spend_and_save",
        "id": f"c{n:05}",
        "version": 1,
        "name": f"Campaign {n}",
        "period": PERIOD,
        "priority": n % 7,
        "items": {"item_ids": [f"item-{n % 400}"], "category_ids": [f"cat-{n % 37}"]},
        "rule": {"type": "spend_save", "tiers": [{"spend": 1000 + n, "save": 100}]},
    }


def start_hq(folder: Path, replay: bool) -> tuple[subprocess.Popen[bytes], str]:
    port_file = folder / "port"
    catalog = folder / "catalog.json"
    catalog.write_text(json.dumps([{**campaign(0), "id": "p1", "items": {"all_items": True}}]))
    args = [
        sys.executable,
        "-m",
        "pos_promo_hq",
        "--db",
        str(folder / "hq.db"),
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--store",
        f"s1:{TOKEN}",
        "--catalog",
        str(catalog),
    ]
    if not replay:
        args.append("--no-replay")
    env = dict(os.environ, PYTHONPATH=str(ROOT), POS_PROMO_HQ_ADMIN_TOKEN="admin")
    proc = subprocess.Popen(args, env=env, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + 20
    while not port_file.exists():
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("HQ did not start")
        time.sleep(0.02)
    return proc, f"http://127.0.0.1:{port_file.read_text()}"


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(10)


def bench_push(orders: int, replay: bool, batch: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        proc, url = start_hq(folder, replay)
        try:
            db = folder / "till.db"
            engine = Engine.open(db, StoreContext("s1"), durability="normal")
            conn = open_database(db, "normal")
            client = HQClient(url, TOKEN, "s1")
            steps.pull_changes(conn, client, now)
            for n in range(orders):
                cart = {
                    "order_id": f"o{n}",
                    "store_id": "s1",
                    "at": AT.isoformat(),
                    "member": {"id": f"m{n % 50}"},
                    "lines": [
                        {
                            "line_id": "1",
                            "item_id": f"item-{n % 9}",
                            "quantity": 2,
                            "unit_price": 900,
                        }
                    ],
                }
                engine.commit(json.dumps(cart))
            started = time.perf_counter()
            report = steps.push_events(conn, client, now, batch_size=batch)
            took = time.perf_counter() - started
            assert report.backlog == 0, report
            pushed = report.accepted
            engine.close()
            conn.close()
        finally:
            stop(proc)
    return pushed / took


def bench_pull(count: int, runs: int) -> tuple[list[float], list[float]]:
    pulls, rebuilds = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        proc, url = start_hq(folder, replay=False)
        try:
            import requests

            docs = [{"type": "campaign", "document": campaign(n)} for n in range(count)]
            requests.post(
                url + "/admin/publish",
                json={"documents": docs},
                headers={"Authorization": "Bearer admin"},
                timeout=60,
            ).raise_for_status()
            for run in range(runs):
                db = folder / f"till{run}.db"
                engine = Engine.open(db, StoreContext("s1"), durability="normal")
                conn = open_database(db, "normal")
                client = HQClient(url, TOKEN, "s1")
                started = time.perf_counter()
                report = steps.pull_changes(conn, client, now, page_size=1000)
                pulls.append(time.perf_counter() - started)
                assert report.applied == count + 1, report
                started = time.perf_counter()
                assert len(engine.index) == count + 1
                rebuilds.append(time.perf_counter() - started)
                engine.close()
                conn.close()
        finally:
            stop(proc)
    return pulls, rebuilds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller, faster smoke run")
    args = parser.parse_args()
    orders = 500 if args.quick else 5000
    runs = 1 if args.quick else 3
    print(
        f"pos_promo sync bench - Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPU(s)"
    )
    for replay in (True, False):
        rates = [bench_push(orders, replay, 500) for _ in range(runs)]
        label = "with receipt replay" if replay else "without replay    "
        print(
            f"push {orders * 2} events, batches of 500, {label}: "
            f"{statistics.median(rates):,.0f} events/s (median of {runs}; target >= 5,000)"
        )
    pulls, rebuilds = bench_pull(1000, runs)
    print(
        f"pull and apply 1,000 campaigns (one page): {statistics.median(pulls) * 1000:.0f} ms "
        f"(median of {runs}; target <= 300 ms); index rebuild on the till's next "
        f"evaluation: {statistics.median(rebuilds) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
