"""Two tills on one database present the same coupon at the same moment.

Two forked processes, each with its own engine and SQLite connection, meet
at a barrier every round and then commit an order presenting that round's
coupon. Whichever gets the write lock first redeems it; the other evaluates
inside its own write transaction, sees the coupon redeemed, and commits its
order without it. Nothing here depends on who wins or how fast.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import traceback
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from pos_promo.embedded import Engine
from tests.store.builders import STORE, dump
from tests.store.coupon_builders import coupon, member_cart, template

FORK = multiprocessing.get_context("fork")
ROUNDS = 150
TILLS = ("t1", "t2")

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

Outcome = tuple[int, str, tuple[str, ...], tuple[tuple[str, str | None], ...]]
"""round, order id, coupons applied, (coupon, cause) refused."""


def till(path: str, name: str, barrier: Barrier, report: Connection) -> None:
    try:
        outcomes: list[Outcome] = []
        with Engine.open(path) as engine:
            for n in range(ROUNDS):
                barrier.wait(30)  # both released together
                order_id = f"{name}-{n}"
                result = engine.commit(dump(member_cart(f"c-{n}", order_id=order_id)))
                outcomes.append(
                    (
                        n,
                        order_id,
                        tuple(a.id for a in result.applied if a.kind == "coupon"),
                        tuple((x.id, x.cause) for x in result.not_applied),
                    )
                )
        report.send(("ok", outcomes))
    except BaseException:
        barrier.abort()  # the other till stops waiting instead of timing out
        report.send(("error", traceback.format_exc()))


def test_two_processes_redeeming_one_coupon_at_once_redeem_it_exactly_once(
    db_path: Path,
) -> None:
    with Engine.open(db_path, STORE) as engine:
        engine.import_campaigns(dump([template()]))
        engine.add_coupons(dump([coupon(f"c-{n}") for n in range(ROUNDS)]))
    barrier = FORK.Barrier(len(TILLS))
    pipes = [FORK.Pipe(duplex=False) for _ in TILLS]
    workers = [
        FORK.Process(target=till, args=(str(db_path), name, barrier, send))
        for name, (_, send) in zip(TILLS, pipes, strict=True)
    ]
    for worker in workers:
        worker.start()
    reports = []
    for receive, _ in pipes:
        assert receive.poll(300), "a till never reported"
        reports.append(receive.recv())
    for worker in workers:
        worker.join(30)
    assert [status for status, _ in reports] == ["ok", "ok"], reports
    by_round: dict[int, list[Outcome]] = {}
    for _, outcomes in reports:
        for outcome in outcomes:
            by_round.setdefault(outcome[0], []).append(outcome)
    winners: dict[str, str] = {}
    for n, (first, second) in sorted(by_round.items()):
        won = [o for o in (first, second) if o[2] == (f"c-{n}",)]
        lost = [o for o in (first, second) if o[2] == ()]
        assert len(won) == 1 and len(lost) == 1, (n, first, second)
        assert lost[0][3] == ((f"c-{n}", "redeemed"),), lost[0]  # refused, with the cause
        winners[f"c-{n}"] = won[0][1]
    assert len(winners) == ROUNDS

    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 2 * ROUNDS
    wallet = dict(conn.execute("SELECT coupon_id, redeemed_order_id FROM wallet"))
    assert wallet == winners
    assert {s for (s,) in conn.execute("SELECT DISTINCT status FROM wallet")} == {"redeemed"}
    redeemed = conn.execute(
        "SELECT json_extract(payload, '$.coupon_id'), order_id FROM outbox "
        "WHERE kind = 'coupon.redeemed'"
    ).fetchall()
    assert sorted(redeemed) == sorted(winners.items())  # one event per coupon, by its winner
