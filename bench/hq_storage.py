"""HQ's storage, SQLite against PostgreSQL, in one process: ingest and replay.

Run ``python bench/hq_storage.py`` (``--quick`` for a smoke run). Real
tills commit member orders (each writes an ``order.committed`` and a
``participation.changed``) at ``--stores`` stores; then, for each backend,
a fresh database ingests every store's events in batches of ``--batch``
through HQ's own ingest (no HTTP), first from one thread, then from
``--threads`` threads at once (each its own connection, as HQ workers
would), and the replay queue is drained. It prints events/s, batch latency
p50/p99, and the replay rate, with PostgreSQL's figures as ratios of
SQLite's measured in the same run. No server, no HTTP: bench/hq.py measures
HQ end to end. PostgreSQL is read from POS_PROMO_TEST_PG (default
postgresql://postgres@127.0.0.1:5432/test), in a schema of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from pos_promo_hq.catalog import publish  # noqa: E402
from pos_promo_hq.db import Database, open_database  # noqa: E402
from pos_promo_hq.ingest import Ingestor  # noqa: E402
from pos_promo_hq.replay import ReplayCache, work_replays  # noqa: E402

from pos_promo.embedded import Engine  # noqa: E402
from pos_promo.model.cart import StoreContext  # noqa: E402
from pos_promo.sync.local import open_database as open_till  # noqa: E402
from pos_promo.sync.outbox import next_batch  # noqa: E402
from pos_promo.sync.protocol import PushEvent, PushRequest  # noqa: E402
from tests.sync.harness import AT, campaign, cart  # noqa: E402

PG = os.environ.get("POS_PROMO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def make_events(folder: Path, stores: int, orders: int) -> dict[str, list[PushEvent]]:
    found: dict[str, list[PushEvent]] = {}
    for n in range(stores):
        sid = f"s{n}"
        path = folder / f"{sid}.db"
        engine = Engine.open(path, StoreContext(sid), durability="normal")
        engine.import_campaigns(json.dumps([campaign("p1")]))
        for k in range(orders):
            engine.commit(json.dumps(cart(f"o-{k}", sid, member=f"m-{k % 50}")))
        engine.close()
        conn = open_till(path, "normal")
        found[sid] = next_batch(conn, 100_000)
        conn.close()
    return found


def ingest(
    db: Database, events: dict[str, list[PushEvent]], batch: int, threads: int
) -> tuple[float, list[float]]:
    stores = {sid: StoreContext(sid) for sid in events}
    work = [
        (sid, evs[i : i + batch]) for sid, evs in events.items() for i in range(0, len(evs), batch)
    ]
    lanes = [work[i::threads] for i in range(threads)]
    latencies: list[float] = []
    lock = threading.Lock()

    def lane(items: list[tuple[str, list[PushEvent]]]) -> None:
        ingestor = Ingestor(stores)
        for sid, evs in items:
            started = time.perf_counter()
            with db.connection() as conn:
                ingestor.apply(conn, sid, PushRequest(sid, tuple(evs)), AT)
            with lock:
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    runners = [threading.Thread(target=lane, args=(items,)) for items in lanes]
    for r in runners:
        r.start()
    for r in runners:
        r.join()
    return time.perf_counter() - started, latencies


def fresh(kind: str, folder: Path, tag: str, size: int) -> tuple[Database, str]:
    if kind == "sqlite":
        return open_database(folder / f"{tag}.db", size), ""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return open_database(f"{PG}?options=-csearch_path%3D{schema}", size), schema


def drop(schema: str) -> None:
    if schema:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", type=int, default=8)
    parser.add_argument("--orders", type=int, default=250, help="orders per store")
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.stores, args.orders = 2, 30
    with tempfile.TemporaryDirectory(prefix="bench-hq-storage-") as tmp:
        folder = Path(tmp)
        events = make_events(folder, args.stores, args.orders)
        total = sum(len(v) for v in events.values())
        print(
            f"{args.stores} stores x {args.orders} member orders = {total} events, "
            f"batches of {args.batch}"
        )
        base: dict[str, float] = {}
        for kind in ("sqlite", "postgresql"):
            for threads in (1, args.threads):
                db, schema = fresh(kind, folder, f"{kind}-{threads}", max(4, threads))
                try:
                    with db.connection() as conn:
                        publish(conn, [("campaign", campaign("p1"))], AT)
                    took, lat = ingest(db, events, args.batch, threads)
                    started = time.perf_counter()
                    replayed = 0
                    cache = ReplayCache()
                    while True:
                        n = work_replays(db, {}, cache, limit=100)
                        if n == 0:
                            break
                        replayed += n
                    replay_took = time.perf_counter() - started
                finally:
                    db.close()
                    drop(schema)
                rate = total / took
                key = f"ingest-{threads}"
                ratio = "" if kind == "sqlite" else f" ({rate / base[key]:.2f}x SQLite)"
                base.setdefault(key, rate)
                print(
                    f"{kind:<10} {threads} thread(s): {rate:8.0f} events/s{ratio}; batch p50 "
                    f"{pct(lat, 0.5):6.1f} ms, p99 {pct(lat, 0.99):6.1f} ms; replay "
                    f"{replayed / replay_took:6.0f} orders/s"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
