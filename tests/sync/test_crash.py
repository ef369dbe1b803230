"""SIGKILL the daemon at 120 random moments while it pushes: nothing lost, nothing twice.

Each life of the daemon is a real process running the real ``daemon``
entry point; it is forked from the test process (already warm, so a life
costs milliseconds instead of a fresh interpreter's half second) and
killed with SIGKILL after a random delay, mid-startup, mid-request or
mid-transaction. Between lives the till keeps committing orders (members
accruing gift spend, one redeeming a wallet coupon, one refunding a whole
order). At the end one last daemon drains the backlog, and HQ must hold
exactly the events the till committed, each once, with the participation
totals they add up to.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
from pathlib import Path

from pos_promo.sync import steps
from tests.gifts.builders import activity
from tests.gifts.builders import template as gift_template
from tests.store.coupon_builders import coupon, template
from tests.sync.harness import HQ, Till, cart, daemon_config, now, ring_up, wait_for

KILLS = 120
ORDERS = 25


def _daemon(config: str) -> None:
    from pos_promo_daemon.main import main

    os._exit(main(["--config", config]))


def test_killing_the_daemon_at_random_moments_loses_nothing_and_counts_nothing_twice(
    tmp_path: Path, hq: HQ, till: Till
) -> None:
    config = str(daemon_config(tmp_path, till.path, hq, "token-s1", push_events=0.05))
    Path(config).write_text(Path(config).read_text().replace("push = 50", "push = 5"))
    fork = multiprocessing.get_context("fork")
    rng = random.Random(20261122)
    members = ["m-1", "m-2", "m-3"]
    hq.publish(template("t5"), gift_template("tg"), doc_type="coupon_template")
    hq.publish(activity("g1", threshold=10_000, gifts=[{"template_id": "tg"}]))
    steps.pull_changes(till.conn, till.client(hq), now)
    till.engine.add_coupons(json.dumps([coupon(f"c-{n}", member_id="m-c") for n in range(KILLS)]))
    mid_push = 0
    for life in range(KILLS):
        ring_up(till, ORDERS, prefix=f"life{life}", member=members[life % 3])
        with_coupon = cart(f"coupon{life}", "s1", member="m-c")
        with_coupon["coupons"] = [f"c-{life}"]
        assert till.engine.commit(json.dumps(with_coupon)).applied[-1].kind == "coupon"
        till.engine.commit(json.dumps(cart(f"back{life}", "s1", member="m-r")))
        till.engine.refund(f"back{life}")
        before = till.pending()
        child = fork.Process(target=_daemon, args=(config,), daemon=True)
        child.start()
        try:
            wait_for(lambda: till.pending() < before, what="the first batch")  # noqa: B023
            child.join(rng.uniform(0.0, 0.03))
        finally:
            if child.pid is not None and child.exitcode is None:
                os.kill(child.pid, signal.SIGKILL)
            child.join(10)
        assert child.exitcode == -signal.SIGKILL, f"life {life} ended by itself"
        mid_push += till.pending() > 0

    committed = till.outbox_ids()
    kinds = dict(till.conn.execute("SELECT kind, COUNT(*) FROM outbox GROUP BY kind").fetchall())
    assert kinds["coupon.redeemed"] == kinds["order.refunded"] == KILLS
    assert kinds["gift.accrued"] >= KILLS * (ORDERS + 2)  # every member order, and each refund
    print(f"{mid_push} of {KILLS} kills left events unsent")
    # the last life drains in batches of 200: the kills were what batches of 5 were for
    drain = tmp_path / "drain.toml"
    drain.write_text(Path(config).read_text().replace("push = 5", "push = 200"))
    last = fork.Process(target=_daemon, args=(str(drain),), daemon=True)
    last.start()
    try:
        wait_for(lambda: till.pending() == 0, timeout=120, what="the backlog to drain")
    finally:
        os.kill(last.pid or 0, signal.SIGTERM)
        last.join(15)
    assert last.exitcode == 0
    dead = till.conn.execute("SELECT event_id, reason FROM sync_dead_letters").fetchall()
    assert dead == []

    report = hq.report(ids=True)
    assert sorted(report["event_ids"]) == sorted(committed)
    assert report["events"] == len(committed)
    totals = {p["member_id"]: p["total"] for p in report["participations"]}
    assert totals == {**dict.fromkeys(members, KILLS // 3 * ORDERS), "m-c": KILLS, "m-r": 0}
