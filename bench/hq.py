"""HQ at chain scale: N simulated stores pushing and pulling against HQ under gunicorn.

Run ``python bench/hq.py`` (``--quick`` for a smoke run). For each backend
(SQLite with ``--sqlite-workers`` workers, PostgreSQL with ``--pg-workers``
workers at ``--pg`` / ``$POS_PROMO_TEST_PG``, in a schema of its own,
dropped afterwards) it starts a real ``pos-promo-hq`` on a loopback port
and offers rising loads: at each level every store pushes a batch of
``--batch`` events every ``--period`` seconds and pulls its member state
on the same schedule, starting at a random point of the first period, for
``--seconds`` seconds. A level is held when push p99 is at most 1 s, HQ
took at least 95% of the events offered, and nothing was lost (an event
HQ answered ``accepted`` or ``duplicate`` that it does not hold) or doubled
(held more often than once, or held without ever being sent; a push that
failed, a timeout say, may still have been stored: it counts as sent). Escalation stops at
the first level a backend does not hold.

Events are real: one order rung up by the embedded engine (an
``order.committed`` with its receipt and a ``participation.changed``),
its ids rewritten per store and order, so HQ decodes, checks and stores
what a till would send, and queues each order's replay (worked off the
push path, by HQ's niced replay process). After each level the bench
prints the replay backlog left when the pushes stopped and waits (up to
``--drain`` seconds) for HQ to work it off, printing how long that took,
so the next level starts with an empty queue.

The load generator shares the machine with HQ and PostgreSQL, so it is
kept cheap: every store's push bodies for the level are built and encoded
before the level starts, and a pool of ``--clients`` threads, each with
one kept-alive ``http.client`` connection, serves all the stores on their
schedule (a store is an id, a token and its bodies, not a thread or a
session); answers are decoded only as far as the verdicts and the cursor.
``lag`` is how late the load generator started requests against their
schedule (a large lag means the machine, not HQ, set the pace: the offered
load was not really offered).
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pos_promo.embedded import Engine  # noqa: E402
from pos_promo.model.cart import StoreContext  # noqa: E402
from pos_promo.sync.local import open_database  # noqa: E402
from pos_promo.sync.outbox import next_batch  # noqa: E402
from pos_promo.sync.protocol import API_PREFIX, PushEvent, PushRequest, encode  # noqa: E402

ADMIN = "bench-admin"
PERIOD = {"start": "2026-01-01T00:00:00", "end": "2026-12-31T23:59:59"}
CAMPAIGN = {
    "kind": "spend_and_save",
    "id": "p1",
    "version": 1,
    "name": "Spend $10 save $1",
    "period": PERIOD,
    "rule": {"type": "spend_save", "tiers": [{"spend": 1000, "save": 100}]},
}
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def template_events(folder: Path) -> list[tuple[str, str]]:
    """One real order's events, ``(kind, payload)`` with placeholder ids."""
    engine = Engine.open(folder / "template.db", StoreContext("TPL-STORE"), durability="normal")
    try:
        engine.import_campaigns(json.dumps([CAMPAIGN]))
        cart = {
            "order_id": "TPL-ORDER",
            "store_id": "TPL-STORE",
            "at": "2026-11-20T17:00:00+00:00",
            "member": {"id": "TPL-MEMBER"},
            "lines": [{"line_id": "1", "item_id": "burger", "quantity": 1, "unit_price": 1500}],
        }
        engine.commit(json.dumps(cart))
    finally:
        engine.close()
    conn = open_database(folder / "template.db", "normal")
    try:
        return [(e.kind, bytes(e.payload).decode()) for e in next_batch(conn, 10)]
    finally:
        conn.close()


class _Verdict(msgspec.Struct):
    status: str


class _Verdicts(msgspec.Struct):
    """A push answer, decoded only as far as the statuses."""

    results: list[_Verdict]


class _Cursor(msgspec.Struct):
    """A member-state page, decoded only as far as its cursor."""

    cursor: str


_VERDICTS = msgspec.json.Decoder(_Verdicts)
_CURSOR = msgspec.json.Decoder(_Cursor)


@dataclass
class Store:
    """One simulated store: its token, its push bodies (built before the level), its cursor."""

    id: str
    token: str
    bodies: list[bytes]
    ids: list[list[str]]
    cursor: str = ""
    pushed: int = 0
    sent: set[str] = field(default_factory=set)  # every id of every push tried
    acknowledged: set[str] = field(default_factory=set)  # answered accepted or duplicate
    accepted: int = 0

    @classmethod
    def build(
        cls, n: int, run: int, template: list[tuple[str, str]], size: int, pushes: int
    ) -> Store:
        sid, member = f"st{n:04}", f"m-{run}-{n}"
        bodies, ids = [], []
        orders = 0
        for _ in range(pushes):
            events: list[PushEvent] = []
            while len(events) < size:
                orders += 1
                order = f"{sid}-r{run}-o{orders}"
                for kind, text in template:
                    payload = (
                        text.replace("TPL-ORDER", order)
                        .replace("TPL-STORE", sid)
                        .replace("TPL-MEMBER", member)
                    )
                    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{order}/{kind}"))
                    events.append(PushEvent(event_id, kind, msgspec.Raw(payload.encode())))
            events = events[:size]
            bodies.append(encode(PushRequest(sid, tuple(events), 0)))
            ids.append([e.id for e in events])
        return cls(sid, f"tok-{n:04}", bodies, ids)


class Wire:
    """One client thread's kept-alive connection to HQ (reopened once when HQ closed it
    between requests: resending a push is safe, HQ answers a repeat as a duplicate)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, token: str, body: bytes | None) -> bytes:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            try:
                self.conn.request(method, API_PREFIX + path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.HTTPException, ConnectionError) as exc:
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise OSError(f"{method} {path}: {exc}") from None
                continue
            if response.status != 200:
                raise OSError(f"{method} {path}: HTTP {response.status}")
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return data
        raise AssertionError("unreachable")


@dataclass
class Level:
    stores: int
    offered: float
    achieved: float = 0.0
    push: list[float] = field(default_factory=list)
    pull: list[float] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)
    failed: int = 0
    lost: int = 0
    doubled: int = 0
    replay_backlog: int = 0
    drained: float | None = None  # seconds to work the backlog off; None: not within --drain

    def pct(self, values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def held(self) -> bool:
        return (
            self.pct(self.push, 0.99) <= 1.0
            and self.achieved >= 0.95 * self.offered
            and self.lost == 0
            and self.doubled == 0
            and self.failed == 0
        )


class HQProcess:
    """``pos-promo-hq`` under gunicorn with the bench's stores."""

    def __init__(
        self, folder: Path, database: str, workers: int, stores: int, extra: list[str]
    ) -> None:
        self.folder = folder
        entries = [
            {"id": f"st{n:04}", "token": f"tok-{n:04}", "timezone": "UTC"} for n in range(stores)
        ]
        (folder / "stores.json").write_text(json.dumps(entries))
        (folder / "catalog.json").write_text(json.dumps([CAMPAIGN]))
        port_file = folder / "port"
        port_file.unlink(missing_ok=True)
        args = [
            sys.executable,
            "-m",
            "pos_promo_hq",
            "--database",
            database,
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--stores",
            str(folder / "stores.json"),
            "--catalog",
            str(folder / "catalog.json"),
            "--workers",
            str(workers),
            *extra,
        ]
        env = dict(os.environ, PYTHONPATH=str(ROOT), POS_PROMO_HQ_ADMIN_TOKEN=ADMIN)
        log = (folder / "hq.log").open("ab")
        self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=log, cwd=ROOT)
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise SystemExit(f"HQ did not start; see {folder / 'hq.log'}")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text()}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def run_level(
    hq: HQProcess,
    count: Counter,
    template: list[tuple[str, str]],
    stores: int,
    args: argparse.Namespace,
    seed: int,
) -> Level:
    """Offer ``stores`` stores' load for ``args.seconds``; measure; count what HQ holds."""
    rng = random.Random(seed)
    level = Level(stores, stores * args.batch / args.period)
    pushes = int(args.seconds // args.period) + 1
    sims = [Store.build(n, seed, template, args.batch, pushes) for n in range(stores)]
    host, port = hq.url.removeprefix("http://").rsplit(":", 1)
    local = threading.local()
    start = time.monotonic() + 0.5
    end = start + args.seconds
    queue: list[tuple[float, int, str]] = []
    for n in range(stores):
        first = start + rng.uniform(0, args.period)
        heapq.heappush(queue, (first, n, "push"))
        heapq.heappush(queue, (first + rng.uniform(0, args.period), n, "pull"))
    lock = threading.Lock()

    def task(due: float, n: int, what: str) -> None:
        store = sims[n]
        if not hasattr(local, "wire"):
            local.wire = Wire(host, int(port))
        began = time.monotonic()
        try:
            if what == "push":
                with lock:
                    k = store.pushed
                    store.pushed += 1
                    store.sent.update(store.ids[k])
                answer = _VERDICTS.decode(
                    local.wire.call("POST", "/events", store.token, store.bodies[k])
                )
                took = time.monotonic() - began
                with lock:
                    verdicts = [r.status for r in answer.results]
                    store.accepted += verdicts.count("accepted")
                    store.acknowledged.update(
                        i
                        for i, v in zip(store.ids[k], verdicts, strict=True)
                        if v in ("accepted", "duplicate")
                    )
                    level.push.append(took)
            else:
                since = store.cursor
                page = _CURSOR.decode(
                    local.wire.call(
                        "GET", f"/member-state?since={since}&limit=500", store.token, None
                    )
                )
                took = time.monotonic() - began
                with lock:
                    store.cursor = page.cursor
                    level.pull.append(took)
        except (OSError, msgspec.MsgspecError):
            with lock:
                level.failed += 1
        with lock:
            level.lag.append(max(0.0, began - due))

    with ThreadPoolExecutor(max_workers=args.clients) as pool:
        while queue:
            due, n, what = heapq.heappop(queue)
            if due >= end:
                continue
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            pool.submit(task, due, n, what)
            heapq.heappush(queue, (due + args.period, n, what))
    took = time.monotonic() - start
    sent = {i for s in sims for i in s.sent}
    acknowledged = {i for s in sims for i in s.acknowledged}
    held, rows = count(f"%-r{seed}-o%")
    level.achieved = sum(s.accepted for s in sims) / took
    level.lost = len(acknowledged - held)
    level.doubled = (rows - len(held)) + len(held - sent)
    return level


Counter = Callable[[str], tuple[set[str], int]]


def sqlite_counter(path: Path) -> Counter:
    """The event ids HQ holds for this level's orders (``LIKE`` pattern), and its rows."""
    import sqlite3

    def count(orders: str) -> tuple[set[str], int]:
        conn = sqlite3.connect(path, timeout=30)
        try:
            ids = [
                i for (i,) in conn.execute("SELECT id FROM events WHERE order_id LIKE ?", (orders,))
            ]
            return set(ids), len(ids)
        finally:
            conn.close()

    return count


def pg_counter(url: str) -> Counter:
    import psycopg

    def count(orders: str) -> tuple[set[str], int]:
        with psycopg.connect(url) as conn:
            ids = [
                str(i)
                for (i,) in conn.execute("SELECT id FROM events WHERE order_id LIKE %s", (orders,))
            ]
            return set(ids), len(ids)

    return count


def bench_backend(
    name: str,
    database: str,
    workers: int,
    counter: Counter,
    pending: Callable[[], int],
    template: list[tuple[str, str]],
    args: argparse.Namespace,
    folder: Path,
) -> list[Level]:
    levels: list[Level] = []
    hq = HQProcess(
        folder, database, workers, max(args.levels), ["--no-replay"] if args.no_replay else []
    )
    try:
        for n, stores in enumerate(args.levels):
            level = run_level(hq, counter, template, stores, args, seed=n)
            level.replay_backlog = pending()
            level.drained = drain(pending, args.drain) if level.replay_backlog else 0.0
            levels.append(level)
            pct = level.pct
            print(
                f"{name:<10} {workers:>2}w {stores:>5} stores  offered {level.offered:>7.0f} ev/s"
                f"  took {level.achieved:>7.0f} ev/s  push p50 {pct(level.push, 0.5):6.3f}s"
                f" p99 {pct(level.push, 0.99):6.3f}s  pull p50 {pct(level.pull, 0.5):6.3f}s"
                f" p99 {pct(level.pull, 0.99):6.3f}s  lag p99 {pct(level.lag, 0.99):5.2f}s"
                f"  failed {level.failed}  lost {level.lost}  doubled {level.doubled}"
                f"  replay backlog {level.replay_backlog}"
                f" {_drained(level.drained)}  {'HELD' if level.held else 'not held'}",
                flush=True,
            )
            if not level.held:
                break
    finally:
        hq.stop()
    return levels


def drain(pending: Callable[[], int], limit: float) -> float | None:
    """Seconds until HQ's replay queue is empty (``None``: still not after ``limit``)."""
    began = time.monotonic()
    while pending():
        if time.monotonic() - began > limit:
            return None
        time.sleep(0.25)
    return time.monotonic() - began


def _drained(seconds: float | None) -> str:
    return "(not drained)" if seconds is None else f"(drained in {seconds:.1f}s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    parser.add_argument(
        "--levels", type=int, nargs="+", default=[250, 500, 1000], help="stores per level"
    )
    parser.add_argument("--batch", type=int, default=20, help="events per push")
    parser.add_argument("--period", type=float, default=10.0, help="seconds between pushes")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each level")
    parser.add_argument("--clients", type=int, default=64, help="client threads")
    parser.add_argument("--sqlite-workers", type=int, default=2)
    parser.add_argument("--pg-workers", type=int, default=4)
    parser.add_argument("--pg", default=os.environ.get("POS_PROMO_TEST_PG", DEFAULT_PG))
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument(
        "--no-replay", action="store_true", help="HQ without replay (what replay costs pushes)"
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--drain", type=float, default=180.0, help="seconds to wait for the replay backlog"
    )
    args = parser.parse_args()
    if args.quick:
        args.levels, args.seconds, args.period = [10, 20], 4.0, 2.0
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; {args.batch}-event batches "
        f"every {args.period:g}s, {args.seconds:g}s per level; "
        f"started {dt.datetime.now(dt.UTC):%H:%M:%S}Z, load average {os.getloadavg()[0]:.1f}"
    )
    results: dict[str, list[Level]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = template_events(folder)
        if not args.skip_sqlite:
            path = folder / "hq.db"

            def sqlite_pending() -> int:
                import sqlite3

                conn = sqlite3.connect(path, timeout=30)
                try:
                    row = conn.execute(
                        "SELECT COUNT(*) FROM replay_queue WHERE status = 'pending'"
                    ).fetchone()
                    return int(row[0])
                finally:
                    conn.close()

            results["SQLite"] = bench_backend(
                "SQLite",
                str(path),
                args.sqlite_workers,
                sqlite_counter(path),
                sqlite_pending,
                template,
                args,
                folder,
            )
        if not args.skip_pg:
            results["PostgreSQL"] = _bench_pg(args, template, folder)
    print()
    for name, levels in results.items():
        held = [lv for lv in levels if lv.held]
        best = max(held, key=lambda lv: lv.offered) if held else None
        if best is None:
            print(f"{name}: held no level tried (lowest offered {levels[0].offered:.0f} ev/s)")
        else:
            print(
                f"{name}: highest load held {best.offered:.0f} events/s offered "
                f"({best.stores} stores), push p99 {best.pct(best.push, 0.99):.3f}s"
            )


def _bench_pg(
    args: argparse.Namespace, template: list[tuple[str, str]], folder: Path
) -> list[Level]:
    import psycopg

    schema = f"bench_hq_{os.getpid()}"
    try:
        admin = psycopg.connect(args.pg, autocommit=True)
    except psycopg.Error as exc:
        print(f"PostgreSQL: not reachable at {args.pg} ({exc}); skipped")
        return []
    admin.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in args.pg else "?"
    url = f"{args.pg}{sep}options=-csearch_path%3D{schema}"
    pg_folder = folder / "pg"
    pg_folder.mkdir()

    def pending() -> int:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM replay_queue WHERE status = 'pending'"
            ).fetchone()
            return int(row[0]) if row else 0

    try:
        return bench_backend(
            "PostgreSQL", url, args.pg_workers, pg_counter(url), pending, template, args, pg_folder
        )
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


if __name__ == "__main__":
    main()
