"""The cumulative gift across stores, through the real HQ process and the real sync steps.

Two tills, both offline for a while, one member: HQ adds the member's
accruals across stores, grants what only the combined total reaches,
merges an ordinal both tills granted, revokes what a refund elsewhere took
away, and every till learns it all on its next member-state pull.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pos_promo_daemon.jobs import release_gifts

from pos_promo.engine.grants import coupon_id, grant_id
from pos_promo.sync import steps
from tests.sync.harness import AT, HQ, PERIOD, Till, now

MEMBER = "m-1"
TEMPLATE = {
    "kind": "coupon_template",
    "id": "t-5off",
    "version": 1,
    "period": PERIOD,
    "benefit": {"type": "amount_off", "amount": 500},
    "validity": {"type": "relative", "days": 30},
}


def activity(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "cumulative_gift",
        "id": "g1",
        "version": 1,
        "name": "Every $100, a $5 coupon",
        "period": PERIOD,
        "condition": {"measure": "spend", "repeat": "every", "threshold": 10000},
        "gifts": [{"template_id": "t-5off"}],
    }
    doc.update(fields)
    return doc


def order(till: Till, order_id: str, price: int, minutes: int = 0) -> None:
    """A member order; the catalog's "spend $10 save $1" takes $1 off it."""
    cart = {
        "order_id": order_id,
        "store_id": till.store_id,
        "at": (AT + dt.timedelta(minutes=minutes)).isoformat(),
        "member": {"id": MEMBER},
        "lines": [{"line_id": "1", "item_id": "steak", "quantity": 1, "unit_price": price}],
    }
    till.engine.commit(json.dumps(cart))


def sync(hq: HQ, *tills: Till) -> None:
    for till in tills:
        assert steps.push_events(till.conn, till.client(hq), now).backlog == 0
    for till in tills:
        steps.pull_member_state(till.conn, till.client(hq), now)


def standing(till: Till) -> tuple[int, int, int]:
    (row,) = till.engine.member(MEMBER).activities
    return row.confirmed, row.local, row.total


def start(hq: HQ, *tills: Till, **fields: Any) -> None:
    hq.publish(TEMPLATE, activity(**fields))
    for till in tills:
        steps.pull_changes(till.conn, till.client(hq), now)
        assert "g1" in {c.id for c in till.engine.campaigns()}


def test_hq_grants_what_only_the_total_across_two_offline_stores_reaches(
    hq: HQ, till: Till, till2: Till
) -> None:
    start(hq, till, till2)
    hq.stop()
    order(till, "s1-1", 6100)
    order(till2, "s2-1", 5100, minutes=30)
    for t in (till, till2):
        assert t.engine.member(MEMBER).grants == ()  # neither store alone reaches $100
    hq.start()
    sync(hq, till, till2)

    report = hq.report()
    (grant,) = report["grants"]
    assert (grant["ordinal"], grant["status"], grant["origin"]) == (1, "granted", "hq")
    assert grant["grant_id"] == grant_id("g1", MEMBER, 1)
    for t in (till, till2):
        assert standing(t) == (11000, 0, 11000)  # confirmed by HQ, nothing counted twice
        (seen,) = t.engine.member(MEMBER).grants
        assert (seen.ordinal, seen.status, seen.source) == (1, "granted", "hq")
        (coupon,) = t.engine.wallet(MEMBER)
        assert coupon.id == coupon_id("g1", MEMBER, 1, 1, 1) and coupon.status == "issued"
    # the member spends it at the other store
    cart = {
        "order_id": "s1-2",
        "store_id": "s1",
        "at": (AT + dt.timedelta(hours=2)).isoformat(),
        "member": {"id": MEMBER},
        "coupons": [coupon.id],
        "lines": [{"line_id": "1", "item_id": "tea", "quantity": 1, "unit_price": 900}],
    }
    assert till.engine.commit(json.dumps(cart)).total_discount == 500


def test_an_ordinal_two_offline_stores_both_granted_is_granted_once_at_hq(
    hq: HQ, till: Till, till2: Till
) -> None:
    start(hq, till, till2)
    order(till, "s1-1", 7100)
    hq.lookup("s2", MEMBER)  # the member shows their card at s2's counter
    sync(hq, till, till2)  # both now know the member stands at $70
    hq.stop()
    order(till, "s1-2", 4100)
    order(till2, "s2-1", 3600, minutes=5)
    ids = {t.store_id: [g.grant_id for g in t.engine.member(MEMBER).grants] for t in (till, till2)}
    assert ids["s1"] == ids["s2"] == [grant_id("g1", MEMBER, 1)]
    hq.start()
    sync(hq, till, till2)

    report = hq.report()
    assert [(g["ordinal"], g["reported_by"]) for g in report["grants"]] == [(1, ["s1", "s2"])]
    assert [c["coupon_id"] for c in report["wallet_coupons"]] == [coupon_id("g1", MEMBER, 1, 1, 1)]
    (total,) = report["gift_totals"]
    assert total["total"] == 14500
    for t in (till, till2):
        assert standing(t) == (14500, 0, 14500)


def test_a_refund_at_one_store_revokes_at_hq_and_the_other_store_learns_it(
    hq: HQ, till: Till, till2: Till
) -> None:
    start(hq, till, till2)
    order(till, "s1-1", 6100)
    order(till2, "s2-1", 5100)
    sync(hq, till, till2)
    assert [g["status"] for g in hq.report()["grants"]] == ["granted"]
    till2.engine.refund("s2-1")  # $60 left: below $100
    sync(hq, till2, till)

    report = hq.report()
    assert [g["status"] for g in report["grants"]] == ["revoked"]
    assert [c["status"] for c in report["wallet_coupons"]] == ["void"]
    (seen,) = till.engine.member(MEMBER).grants
    assert seen.status == "revoked"
    assert [c.status for c in till.engine.wallet(MEMBER)] == ["void"]
    assert standing(till) == (6000, 0, 6000)


def test_the_release_job_issues_due_gifts_and_hq_learns_of_them(hq: HQ, till: Till) -> None:
    daily = [{"template_id": "t-5off", "distribution": {"type": "daily", "days": 1}}]
    start(hq, till, gifts=daily)
    order(till, "s1-1", 10100)
    assert till.engine.wallet(MEMBER) == []
    assert release_gifts(till.conn, lambda: AT) == "0 gift coupon(s) released, 1 scheduled"
    tomorrow = dt.datetime.combine(AT.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    assert release_gifts(till.conn, lambda: tomorrow) == "1 gift coupon(s) released, 0 scheduled"
    assert release_gifts(till.conn, lambda: tomorrow) == "0 gift coupon(s) released, 0 scheduled"
    (coupon,) = till.engine.wallet(MEMBER)
    assert coupon.valid_from == tomorrow
    sync(hq, till)
    (held,) = hq.report()["wallet_coupons"]
    assert held["coupon_id"] == coupon.id and held["status"] == "issued"
    assert [c.status for c in till.engine.wallet(MEMBER)] == ["issued"]
