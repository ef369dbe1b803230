"""Two stores, random offline orders and refunds, syncing in random order.

Whatever the interleaving (HQ down for a while, faults on, pushes and pulls
in any order), once everything is pushed HQ's totals equal the sum of what
the two tills committed, net of refunds, each event counted once; and
after a final pull each till's view of a member's participations equals
HQ's, with nothing counted twice locally.

A cumulative gift ("every $40") runs beside the promotion, so the tills
grant ordinals offline, often the same ones, and refunds revoke some: HQ's
gift totals equal the tills' accruals, no grant ordinal is ever issued
twice (one grant per ordinal, one set of coupons per grant, whoever
reported it), HQ grants exactly the ordinals the combined total reaches,
and after the final pull every till sees HQ's total and grants.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_promo.errors import RefundExceedsSale
from pos_promo.store.counts import member_counts
from pos_promo.sync import steps
from pos_promo.sync.errors import SyncError
from tests import pg
from tests.sync.harness import AT, HQ, PERIOD, Till, campaign, now

MEMBERS = ["m-1", "m-2", "m-3", None]
EVERY = 4000
GIFT = [
    {
        "kind": "coupon_template",
        "id": "t-1",
        "period": PERIOD,
        "benefit": {"type": "amount_off", "amount": 100},
    },
    {
        "kind": "cumulative_gift",
        "id": "g1",
        "period": PERIOD,
        "condition": {"measure": "spend", "repeat": "every", "threshold": EVERY},
        "gifts": [
            {"template_id": "t-1", "quantity": 2},
            {"template_id": "t-1", "distribution": {"type": "hourly", "hours": 3}},
        ],
    },
]


def random_cart(rng: random.Random, order_id: str, store_id: str) -> dict[str, object]:
    member = rng.choice(MEMBERS)
    doc: dict[str, object] = {
        "order_id": order_id,
        "store_id": store_id,
        "at": (AT + dt.timedelta(minutes=rng.randrange(0, 3000))).isoformat(),
        "lines": [
            {
                "line_id": str(n),
                "item_id": f"item-{n}",
                "quantity": rng.randint(1, 3),
                "unit_price": rng.choice([250, 400, 900, 1300]),
            }
            for n in range(rng.randint(1, 3))
        ],
    }
    if member:
        doc["member"] = {"id": member}
    return doc


def local_spend(tills: list[Till]) -> dict[str, int]:
    spend: dict[str, int] = {}
    for t in tills:
        for member, total in t.conn.execute(
            "SELECT member_id, SUM(total) FROM orders WHERE member_id IS NOT NULL "
            "GROUP BY member_id"
        ):
            spend[member] = spend.get(member, 0) + total
        for member, amount in t.conn.execute(
            "SELECT o.member_id, SUM(r.amount) FROM refunds r JOIN orders o "
            "ON o.order_id = r.order_id WHERE o.member_id IS NOT NULL GROUP BY o.member_id"
        ):
            spend[member] -= amount
    return spend


def local_participations(tills: list[Till]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for t in tills:
        for member, delta in t.conn.execute(
            "SELECT member_id, SUM(delta) FROM participations WHERE member_id IS NOT NULL "
            "GROUP BY member_id"
        ):
            totals[member] = totals.get(member, 0) + delta
    return {m: n for m, n in totals.items() if n}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hq_totals_equal_what_both_stores_committed_whatever_the_sync_order(
    seed: int, hq: HQ, till: Till, till2: Till
) -> None:
    random_story(seed, hq, till, till2)


@pytest.fixture
def hq_pg(tmp_path: Path) -> Iterator[HQ]:
    """HQ on PostgreSQL (a schema of its own) under gunicorn with two workers."""
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps([campaign("p1")]))
    with pg.fresh_schema() as url:
        server = HQ(tmp_path, catalog, extra=["--workers", "2", "--database", url])
        try:
            yield server.start()
        finally:
            server.stop()


@pytest.mark.postgres
def test_the_same_story_against_hq_on_postgresql_with_two_workers(
    hq_pg: HQ, till: Till, till2: Till
) -> None:
    """One seed (each restart of gunicorn costs seconds): stops, restarts and
    faults land on either worker, and the database alone keeps it exact."""
    random_story(2, hq_pg, till, till2)


def random_story(seed: int, hq: HQ, till: Till, till2: Till) -> None:
    """150 random steps, then everything pushed and pulled; HQ's figures checked."""
    rng = random.Random(seed)
    tills = [till, till2]
    hq.publish(*GIFT)
    for t in tills:
        steps.pull_changes(t.conn, t.client(hq), now)
    committed: dict[str, list[str]] = {"s1": [], "s2": []}
    for step in range(150):
        t = rng.choice(tills)
        action = rng.random()
        if action < 0.55:
            order_id = f"{t.store_id}-{step}"
            t.engine.commit(json.dumps(random_cart(rng, order_id, t.store_id)))
            committed[t.store_id].append(order_id)
        elif action < 0.7 and committed[t.store_id]:
            order_id = rng.choice(committed[t.store_id])
            remaining = t.engine.order(order_id).remaining_units
            lines = {k: v for k, v in remaining.items() if v}
            if lines and rng.random() < 0.5:
                line = rng.choice(sorted(lines))
                lines = {line: rng.randint(1, lines[line])}
            with contextlib.suppress(RefundExceedsSale):
                t.engine.refund(order_id, lines or None)
        elif action < 0.8:
            if hq.proc is None:
                hq.start()
            elif rng.random() < 0.3:
                hq.stop()
            else:
                hq.faults(**{rng.choice(["fail_500", "drop_after_commit", "cut_short"]): 1})
        else:
            step_fn = rng.choice([steps.push_events, steps.pull_member_state])
            with contextlib.suppress(SyncError):  # HQ away or faulty: the till carries on
                step_fn(t.conn, t.client(hq), now)
    if hq.proc is None:
        hq.start()
    hq.faults()
    for t in tills:
        assert steps.push_events(t.conn, t.client(hq), now).backlog == 0
    for t in tills:
        steps.pull_member_state(t.conn, t.client(hq), now)

    report = hq.report(ids=True)
    assert sorted(report["event_ids"]) == sorted(till.outbox_ids() | till2.outbox_ids())
    assert {m["member_id"]: m["net_spend"] for m in report["members"]} == local_spend(tills)
    at_hq = {p["member_id"]: p["total"] for p in report["participations"] if p["total"]}
    assert at_hq == local_participations(tills)
    for t in tills:
        for member, total in at_hq.items():
            seen = member_counts(t.conn, member, AT.date()).participations["p1"].total
            assert seen == total, (t.store_id, member)
    no_grant_issued_twice(report, tills)


def local_accruals(tills: list[Till]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for t in tills:
        for member, amount in t.conn.execute(
            "SELECT member_id, SUM(amount) FROM gift_accruals GROUP BY member_id"
        ):
            totals[member] = totals.get(member, 0) + amount
    return totals


def no_grant_issued_twice(report: dict[str, object], tills: list[Till]) -> None:
    totals = {t["member_id"]: t["total"] for t in report["gift_totals"]}  # type: ignore[attr-defined]
    assert totals == local_accruals(tills)
    grants: list[dict[str, object]] = report["grants"]  # type: ignore[assignment]
    keys = [(g["member_id"], g["ordinal"]) for g in grants]
    assert len(keys) == len(set(keys)), "a grant ordinal was issued twice"
    for member, total in totals.items():
        standing = sorted(k for m, k in keys if m == member and _granted(grants, m, k))
        assert standing == list(range(1, total // EVERY + 1)), member
    coupons: list[dict[str, object]] = report["wallet_coupons"]  # type: ignore[assignment]
    ids = [c["coupon_id"] for c in coupons]
    assert len(ids) == len(set(ids))
    for grant in grants:
        mine = [c for c in coupons if c["grant_id"] == grant["grant_id"]]
        assert len(mine) == 3, grant  # two instant, one delayed: once, whoever reported it
        if grant["status"] == "granted":
            assert all(c["status"] in ("issued", "redeemed") for c in mine)
    for t in tills:
        for member, total in totals.items():
            (row,) = [a for a in t.engine.member(member).activities if a.activity_id == "g1"]
            assert row.total == total and row.local == 0, (t.store_id, member)
            seen = {g.ordinal for g in t.engine.member(member).grants if g.status == "granted"}
            assert seen == set(range(1, total // EVERY + 1)), (t.store_id, member)


def _granted(grants: list[dict[str, object]], member: object, ordinal: object) -> bool:
    return any(
        g["member_id"] == member and g["ordinal"] == ordinal and g["status"] == "granted"
        for g in grants
    )
