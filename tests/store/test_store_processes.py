"""Real processes on one database: a writer beside a daemon, and SIGKILL mid-commit.

Workers are forked (``multiprocessing`` "fork" context), so each one is a
real OS process with its own SQLite connection, started in milliseconds.
The parent never holds a connection across a fork.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import multiprocessing
import os
import random
import signal
import sqlite3
import time
import traceback
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pos_promo.embedded import Engine
from pos_promo.model.result import EvaluationResult
from pos_promo.store import outbox
from pos_promo.store.connection import connect, immediate
from pos_promo.store.orders import NOT_PARTICIPATIONS
from pos_promo.store.outbox import order_event_id
from pos_promo.store.schema import MIGRATIONS
from tests.gifts.builders import activity
from tests.gifts.builders import template as gift_template
from tests.store.builders import STORE, campaign, cart, dump, line
from tests.store.coupon_builders import coupon, template

FORK = multiprocessing.get_context("fork")
COMMITS = 1500
CRASH_ROUNDS = 120

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def campaigns(version: int = 1) -> list[dict[str, Any]]:
    both = {"promotions": {"mode": "all"}}
    return [
        campaign("spend", version=version, sharing=both, priority=2),
        campaign(
            "items",
            {"type": "items_save", "tiers": [{"items": 3, "save": 300}]},
            version=version,
            sharing=both,
            limits={"per_member_daily": 50},
        ),
    ]


MEMBERS = 20
COUPONS_EACH = 40


def order(order_id: str, rng: random.Random) -> bytes:
    """Six lines; a member 60 % of the time (so gift spend accrues), who
    presents one of their wallet coupons half the time (a used one is
    simply not applied)."""
    lines = [line(f"L{i}", rng.randrange(500, 6000), qty=rng.randint(1, 3)) for i in range(6)]
    member = rng.randrange(MEMBERS) if rng.random() < 0.6 else None
    if member is None:
        return dump(cart(*lines, order_id=order_id))
    coupons = [f"c{member}-{rng.randrange(COUPONS_EACH)}"] if rng.random() < 0.5 else []
    return dump(cart(*lines, order_id=order_id, member={"id": f"m{member}"}, coupons=coupons))


def fresh_db(path: Path) -> None:
    """Two promotions, a $5 coupon template with coupons in every member's
    wallet, and a gift activity granting a coupon for every $100 spent."""
    gift = activity("g1", threshold=10_000, gifts=[{"template_id": "tg"}])
    with Engine.open(path, STORE) as engine:
        engine.import_campaigns(dump([*campaigns(), template("t5"), gift_template("tg"), gift]))
        engine.add_coupons(
            dump(
                [
                    coupon(f"c{m}-{n}", member_id=f"m{m}")
                    for m in range(MEMBERS)
                    for n in range(COUPONS_EACH)
                ]
            )
        )


# -- two processes ------------------------------------------------------------


DAEMON_TRANSACTIONS = 700


def acknowledge(conn: sqlite3.Connection, limit: int) -> None:
    """What the sync daemon does once HQ holds events: read the oldest, mark them sent."""
    pending = [e.id for e in outbox.pending_events(conn, limit)]
    with immediate(conn):
        outbox.mark_sent(conn, pending)


def committer(path: str, started: EventType, daemon_done: EventType, report: Connection) -> None:
    """Commits (and some refunds) in a tight loop: far busier than a real till."""
    try:
        rng = random.Random(1)
        with Engine.open(path) as engine:
            for n in range(COMMITS):
                engine.commit(order(f"o-{n}", rng))
                started.set()
                if n % 10 == 9:
                    engine.refund(f"o-{n - 5}", {"L0": 1})
            daemon_done.wait(60)
            final = engine.commit(order("o-final", rng))
        report.send(("ok", COMMITS + COMMITS // 10 + 1, final.applied[0].version))
    except BaseException:
        report.send(("error", traceback.format_exc(), None))


def daemon(path: str, started: EventType, daemon_done: EventType, report: Connection) -> None:
    """Imports new campaign versions and acknowledges outbox rows, like the sync daemon."""
    try:
        version = 1
        with Engine.open(path) as engine, contextlib.closing(connect(path)) as conn:
            started.wait(30)  # overlap with the committer, not run before it
            for n in range(DAEMON_TRANSACTIONS):
                if n % 5 == 0:
                    version += 1
                    engine.import_campaigns(dump(campaigns(version)))
                else:
                    acknowledge(conn, 20)
        report.send(("ok", DAEMON_TRANSACTIONS, version))
    except BaseException:
        report.send(("error", traceback.format_exc(), None))
    finally:
        daemon_done.set()


def test_a_committing_process_and_a_syncing_process_never_see_database_is_locked(
    db_path: Path,
) -> None:
    fresh_db(db_path)
    started, daemon_done = FORK.Event(), FORK.Event()
    pipes = [FORK.Pipe(duplex=False) for _ in range(2)]
    workers = [
        FORK.Process(target=committer, args=(str(db_path), started, daemon_done, pipes[0][1])),
        FORK.Process(target=daemon, args=(str(db_path), started, daemon_done, pipes[1][1])),
    ]
    for worker in workers:
        worker.start()
    results = [receive.recv() for receive, _ in pipes]
    for worker in workers:
        worker.join(60)
    assert [status for status, _, _ in results] == ["ok", "ok"], results
    (_, writes, seen_version), (_, daemon_writes, last_version) = results
    assert writes + daemon_writes >= 2000
    assert seen_version == last_version  # the committer rebuilt its index from the daemon's
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == COMMITS + 1
    sent, total = conn.execute("SELECT SUM(status = 'sent'), COUNT(*) FROM outbox").fetchone()
    assert 0 < sent <= total


# -- SIGKILL at random moments --------------------------------------------------


def crash_worker(path: str, round_no: int, out: int) -> None:
    """Commits, retries, refunds and acknowledges until killed.

    It writes ``ready`` once its database is open, then ``begin ID`` before
    and ``done ID`` after each commit, so the parent times its kill from the
    moment work starts (not from process start, which a loaded machine
    stretches) and knows afterwards whether the kill landed inside a commit.
    """
    rng = random.Random(round_no)
    with Engine.open(path) as engine, contextlib.closing(connect(path)) as conn:
        os.write(out, b"ready\n")
        committed: list[str] = []
        for n in range(10_000):
            order_id = f"r{round_no}-{n}"
            os.write(out, f"begin {order_id}\n".encode())
            engine.commit(order(order_id, rng))
            os.write(out, f"done {order_id}\n".encode())
            committed.append(order_id)
            if rng.random() < 0.2:
                engine.commit(order(rng.choice(committed), rng))  # a retry: changes nothing
            if rng.random() < 0.1:
                victim = rng.choice(committed)
                left = engine.order(victim).remaining_units
                if left.get("L0"):
                    engine.refund(victim, {"L0": 1})
            if rng.random() < 0.1:
                acknowledge(conn, 5)


def _wait_for_line(stream: Any, expected: bytes) -> None:
    """Block until the worker writes ``expected`` (or fail if it dies first)."""
    line = stream.readline()
    assert line == expected, f"worker said {line!r} before {expected!r}"


def check_whole(conn: sqlite3.Connection) -> None:
    """Every order in the database is complete, and nothing exists without its order."""
    decode = msgspec.json.Decoder(EvaluationResult).decode
    events = {
        (order_id, kind): n
        for order_id, kind, n in conn.execute(
            "SELECT order_id, kind, COUNT(*) FROM outbox GROUP BY order_id, kind"
        )
    }
    parts = dict(
        conn.execute(
            "SELECT order_id, COUNT(*) FROM participations WHERE delta = 1 GROUP BY order_id"
        )
    )
    refunds = dict(conn.execute("SELECT order_id, COUNT(*) FROM refunds GROUP BY order_id"))
    refunded_units = dict(
        conn.execute("SELECT order_id, SUM(units) FROM line_refunds GROUP BY order_id")
    )
    orders = {
        oid: decode(result) for oid, result in conn.execute("SELECT order_id, result FROM orders")
    }
    lines = {  # the receipt keeps every line the cart rang up
        oid: (receipt, cart)
        for oid, receipt, cart in conn.execute(
            "SELECT order_id, json_array_length(receipt, '$.lines'), "
            "json_array_length(cart, '$.lines') FROM orders"
        )
    }
    redeemed = dict(
        conn.execute(
            "SELECT redeemed_order_id, COUNT(*) FROM wallet WHERE status = 'redeemed' "
            "GROUP BY redeemed_order_id"
        )
    )
    for oid, result in orders.items():
        assert lines[oid][0] == lines[oid][1] > 0, oid
        assert events[(oid, "order.committed")] == 1, oid
        promotions = [a for a in result.applied if a.kind not in NOT_PARTICIPATIONS]
        assert parts.get(oid, 0) == len(promotions), oid
        used = sum(a.kind == "coupon" for a in result.applied)
        assert events.get((oid, "coupon.redeemed"), 0) == used, oid
        given_back = events.get((oid, "coupon.restored"), 0)
        assert redeemed.get(oid, 0) == used - given_back, oid
        assert events.get((oid, "order.refunded"), 0) == refunds.get(oid, 0), oid
        assert refunded_units.get(oid, 0) == refunds.get(oid, 0), oid  # one unit per refund here
    orphans = conn.execute(
        "SELECT COUNT(*) FROM outbox WHERE order_id NOT IN (SELECT order_id FROM orders)"
    ).fetchone()[0]
    assert orphans == 0
    # every gift accrual entry (a sale's, or a refund's taking back) has its event, and back
    accrued = {i for (i,) in conn.execute("SELECT event_id FROM gift_accruals")}
    sent = {i for (i,) in conn.execute("SELECT id FROM outbox WHERE kind = 'gift.accrued'")}
    assert accrued == sent
    assert set(redeemed) <= set(orders)
    assert set(parts) <= set(orders) and set(refunded_units) <= set(orders)


def test_sigkill_at_random_moments_never_loses_or_half_writes_an_order(db_path: Path) -> None:
    fresh_db(db_path)
    rng = random.Random(20261120)
    reported: list[str] = []
    mid_commit = 0
    for round_no in range(CRASH_ROUNDS):
        read, write = os.pipe()
        worker = FORK.Process(target=crash_worker, args=(str(db_path), round_no, write))
        worker.start()
        os.close(write)
        with os.fdopen(read, "rb") as stream:
            _wait_for_line(stream, b"ready\n")  # the delay counts from here
            time.sleep(rng.uniform(0.0, 0.03))
            assert worker.pid is not None
            os.kill(worker.pid, signal.SIGKILL)
            worker.join(10)
            assert worker.exitcode == -signal.SIGKILL, worker.exitcode
            said = stream.read().decode().splitlines()
        reported += [entry.split()[1] for entry in said if entry.startswith("done ")]
        mid_commit += bool(said) and said[-1].startswith("begin ")
    print(f"{mid_commit} of {CRASH_ROUNDS} kills landed inside a commit")
    # A kill inside a commit is what the test is for; most of a worker's time
    # is spent there, so whatever the machine's load a good share land there.
    assert mid_commit >= CRASH_ROUNDS // 10, mid_commit
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    present = dict(conn.execute("SELECT order_id, at FROM orders"))
    assert set(reported) <= set(present)
    (till_id,) = conn.execute("SELECT value FROM meta WHERE key = 'till'").fetchone()
    for oid in reported:
        at = dt.datetime.fromisoformat(present[oid])
        committed = order_event_id(STORE.id, oid, "order.committed", till=till_id, at=at)
        assert conn.execute("SELECT 1 FROM outbox WHERE id = ?", (committed,)).fetchone(), oid
    check_whole(conn)
    # the killed work really was coupons, gift accruals and refunds, not just sales
    kinds = dict(conn.execute("SELECT kind, COUNT(*) FROM outbox GROUP BY kind").fetchall())
    assert kinds.get("coupon.redeemed", 0) > 0, kinds
    assert kinds.get("gift.accrued", 0) > 0, kinds
    assert kinds.get("order.refunded", 0) > 0, kinds
    json.dumps(sorted(present))  # every id is plain text


def opener(path: str, start: EventType, report: Connection) -> None:
    try:
        start.wait(10)
        with Engine.open(path, STORE) as engine:
            engine.import_campaigns(dump(campaigns()))
        report.send("ok")
    except BaseException:
        report.send(traceback.format_exc())


def test_processes_opening_a_new_database_at_once_migrate_it_exactly_once(
    db_path: Path,
) -> None:
    start = FORK.Event()
    pipes = [FORK.Pipe(duplex=False) for _ in range(4)]
    workers = [FORK.Process(target=opener, args=(str(db_path), start, w)) for _, w in pipes]
    for worker in workers:
        worker.start()
    start.set()
    assert [receive.recv() for receive, _ in pipes] == ["ok"] * 4
    for worker in workers:
        worker.join(10)
    conn = sqlite3.connect(db_path)
    names = [n for (n,) in conn.execute("SELECT name FROM _migrations ORDER BY seq")]
    assert names == MIGRATIONS.names  # each once, in registration order
    assert conn.execute("SELECT COUNT(*) FROM campaigns").fetchone()[0] == 2
