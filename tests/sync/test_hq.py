"""The reference HQ through its protocol: batches, verdicts, sums and flags."""

from __future__ import annotations

import argparse
import json
import sqlite3

import msgspec
import pytest

from pos_promo.model.events import OrderCommitted
from pos_promo.model.receipt import LineAllocation, Receipt, ReceiptInputs
from pos_promo.model.result import BenefitShare
from pos_promo.store.connection import immediate
from pos_promo.store.counts import member_counts
from pos_promo.store.outbox import add_events
from pos_promo.sync import steps
from pos_promo.sync.cli import register
from pos_promo.sync.errors import HQRefused, HQUnavailable
from pos_promo.sync.outbox import next_batch, requeue_dead
from pos_promo.sync.protocol import PushEvent
from pos_promo.sync.status import read_status
from tests.sync.harness import AT, HQ, Till, campaign, cart, now, ring_up


def test_a_batch_that_fails_midway_leaves_nothing_at_hq(hq: HQ, till: Till) -> None:
    steps.pull_changes(till.conn, till.client(hq), now)
    ring_up(till, 10)
    hq_db = sqlite3.connect(hq.folder / "hq.db", isolation_level=None)
    hq_db.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON orders WHEN NEW.order_id = 'o-7' "
        "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
    )
    with pytest.raises(HQUnavailable, match="HTTP 500"):
        steps.push_events(till.conn, till.client(hq), now)
    assert hq.report()["events"] == 0
    hq_db.execute("DROP TRIGGER boom")
    hq_db.close()
    assert steps.push_events(till.conn, till.client(hq), now).accepted == 20


def test_repeated_event_ids_are_answered_duplicate_and_counted_once(hq: HQ, till: Till) -> None:
    steps.pull_changes(till.conn, till.client(hq), now)
    ring_up(till, 3, member="m-1")
    batch = next_batch(till.conn, 100)
    client = till.client(hq)
    assert {r.status for r in client.push(batch).results} == {"accepted"}
    again = client.push([*batch, batch[0]]).results
    assert {r.status for r in again} == {"duplicate"}
    report = hq.report()
    assert report["events"] == 6
    assert report["participations"][0]["total"] == 3


def test_an_event_hq_rejects_becomes_a_dead_letter_that_is_shown_and_never_dropped(
    hq: HQ, till: Till
) -> None:
    with immediate(till.conn):
        add_events(till.conn, [("evt-x", "loyalty.stamped", None, {"stamps": 1})])
    ring_up(till, 1)

    report = steps.push_events(till.conn, till.client(hq), now)

    assert (report.accepted, report.rejected) == (1, 1)
    status = read_status(till.path)
    assert [(d.event_id, d.reason) for d in status.dead_letters] == [
        ("evt-x", "unknown event kind 'loyalty.stamped'")
    ]
    assert "1 event(s) rejected by HQ (dead letters)" in status.attention
    row = till.conn.execute("SELECT status FROM outbox WHERE id = 'evt-x'").fetchone()
    assert row == ("dead",)
    assert requeue_dead(till.conn, ["evt-x"]) == 1
    assert till.pending() == 1


def test_pos_promo_requeue_puts_every_dead_letter_back_in_the_outbox(
    hq: HQ, till: Till, capsys: pytest.CaptureFixture[str]
) -> None:
    with immediate(till.conn):
        add_events(till.conn, [("evt-y", "gift.granted", None, {"ordinal": 2})])
    steps.push_events(till.conn, till.client(hq), now)
    parser = argparse.ArgumentParser()
    parser.add_argument("--db")
    register(parser.add_subparsers())
    args = parser.parse_args(["--db", str(till.path), "requeue", "--all"])
    assert args.run(args) == 0
    assert json.loads(capsys.readouterr().out) == {"requeued": 1}
    assert read_status(till.path).dead_letters == ()
    assert till.pending() == 1


def test_an_event_of_another_store_is_rejected_with_its_reason(
    hq: HQ, till: Till, till2: Till
) -> None:
    ring_up(till, 1)
    results = till2.client(hq).push(next_batch(till.conn, 10)).results
    assert {r.status for r in results} == {"rejected"}
    assert results[0].reason == "event of store 's1' pushed by store 's2'"


def test_a_malformed_payload_is_rejected_and_the_rest_of_its_batch_accepted(
    hq: HQ, till: Till
) -> None:
    ring_up(till, 1)
    good = next_batch(till.conn, 10)
    bad = PushEvent("evt-bad", "order.committed", msgspec.Raw(b'{"kind": "order.committed"}'))
    results = till.client(hq).push([bad, *good]).results
    assert results[0].status == "rejected"
    assert results[0].reason.startswith("malformed order.committed payload")
    assert [r.status for r in results[1:]] == ["accepted"] * len(good)


def test_a_refund_of_an_order_hq_never_received_is_rejected(hq: HQ, till: Till) -> None:
    ring_up(till, 1)
    till.engine.refund("o-0")
    batch = [e for e in next_batch(till.conn, 10) if e.kind == "order.refunded"]
    results = till.client(hq).push(batch).results
    assert results[0].reason == "refund of order 'o-0', which HQ never received"


def test_an_unknown_token_is_refused_at_once_without_retrying(hq: HQ, till: Till) -> None:
    ring_up(till, 1)
    with pytest.raises(HQRefused, match="HTTP 401"):
        steps.push_events(till.conn, till.client(hq, token="stolen"), now)
    assert hq.faults()["fired"] == {}
    assert till.pending() == 1


def test_a_token_used_for_another_store_is_forbidden(hq: HQ, till: Till) -> None:
    ring_up(till, 1)
    with pytest.raises(HQRefused, match="HTTP 403"):
        steps.push_events(till.conn, till.client(hq, token="token-s2"), now)


def test_participation_counts_add_up_across_stores_and_come_back_confirmed(
    hq: HQ, till: Till, till2: Till
) -> None:
    for t in (till, till2):
        steps.pull_changes(t.conn, t.client(hq), now)
    ring_up(till, 3, member="m-1")
    ring_up(till2, 2, member="m-1")
    day = AT.date()
    assert member_counts(till.conn, "m-1", day).participations["p1"].total == 3

    for t in (till, till2):
        steps.push_events(t.conn, t.client(hq), now)
    for t in (till, till2):
        report = steps.pull_member_state(t.conn, t.client(hq), now)
        assert report.counts == 1

    assert hq.report()["participations"] == [{"member_id": "m-1", "campaign_id": "p1", "total": 5}]
    for t in (till, till2):
        counts = member_counts(t.conn, "m-1", day).participations["p1"]
        assert (counts.total, counts.today) == (5, 5)


def test_a_full_refund_gives_the_participation_back_at_hq(hq: HQ, till: Till) -> None:
    steps.pull_changes(till.conn, till.client(hq), now)
    ring_up(till, 2, member="m-1")
    till.engine.refund("o-1")
    steps.push_events(till.conn, till.client(hq), now)
    steps.pull_member_state(till.conn, till.client(hq), now)
    assert hq.report()["participations"][0]["total"] == 1
    assert member_counts(till.conn, "m-1", AT.date()).participations["p1"].total == 1


def test_hq_replays_every_receipt_and_flags_only_the_one_that_differs(hq: HQ, till: Till) -> None:
    steps.pull_changes(till.conn, till.client(hq), now)
    till.engine.commit(json.dumps(cart("fair", "s1")))
    rogue = campaign(
        "p1", version=9, rule={"type": "spend_save", "tiers": [{"spend": 1000, "save": 700}]}
    )
    hq.publish(campaign("p1", version=9))
    till.engine.import_campaigns(json.dumps([rogue]))
    till.engine.commit(json.dumps(cart("rogue", "s1")))

    steps.push_events(till.conn, till.client(hq), now)

    flags = hq.report()["flags"]
    assert {f["order_id"] for f in flags} == {"rogue"}
    assert "p1: till gave 700, replay gives 100" in [f["detail"] for f in flags]


def test_a_sharing_plan_changed_after_the_order_is_replayed_at_the_version_the_till_used(
    hq: HQ, till: Till
) -> None:
    """Two promotions on plan "stack": v1 lets them combine ($1 + $1 off $15),
    v2, published after the order was rung up, does not. HQ replays the
    order with v1, as the receipt says, and flags nothing."""
    hq.publish(
        {"id": "stack", "version": 1, "sharing": {"promotions": {"mode": "all"}}},
        doc_type="sharing_plan",
    )
    hq.publish(campaign("p1", 2, sharing_plan="stack"), campaign("p2", sharing_plan="stack"))
    steps.pull_changes(till.conn, till.client(hq), now)
    before = till.engine.commit(json.dumps(cart("before", "s1")))
    assert (before.total_discount, len(before.applied)) == (200, 2)
    hq.publish(
        {"id": "stack", "version": 2, "sharing": {"promotions": {"mode": "none"}}},
        doc_type="sharing_plan",
    )

    steps.push_events(till.conn, till.client(hq), now)
    assert hq.report()["flags"] == []

    steps.pull_changes(till.conn, till.client(hq), now)
    after = till.engine.commit(json.dumps(cart("after", "s1")))
    assert (after.total_discount, len(after.applied)) == (100, 1)
    steps.push_events(till.conn, till.client(hq), now)
    assert hq.report()["flags"] == []


def _order_with_coupon(order_id: str, store_id: str) -> PushEvent:
    inputs = ReceiptInputs(
        AT, AT.date(), store_id, "UTC", "pos", "dine_in", "m-1", coupons=("cpn-1",)
    )
    line = LineAllocation("1", "burger", 1, 1500, (500,), (BenefitShare("cpn-1", 500),))
    event = OrderCommitted(
        order_id,
        store_id,
        AT,
        AT.date(),
        "m-1",
        1500,
        500,
        1000,
        (),
        Receipt(order_id, (), inputs, (line,)),
    )
    return PushEvent(f"evt-{order_id}", "order.committed", msgspec.Raw(msgspec.json.encode(event)))


def test_a_coupon_redeemed_at_two_stores_is_flagged(hq: HQ, till: Till, till2: Till) -> None:
    till.client(hq).push([_order_with_coupon("a-1", "s1")])
    till2.client(hq).push([_order_with_coupon("b-1", "s2")])
    twice = [f for f in hq.report()["flags"] if f["kind"] == "coupon_redeemed_twice"]
    assert [(f["order_id"], f["subject"]) for f in twice] == [("b-1", "cpn-1")]
    assert "already redeemed by order a-1 at store s1" in twice[0]["detail"]


def test_hq_applies_a_pushed_batch_in_one_go_even_when_the_answer_is_lost(
    hq: HQ, till: Till
) -> None:
    steps.pull_changes(till.conn, till.client(hq), now)
    ring_up(till, 5)
    hq.faults(drop_after_commit=1)
    report = steps.push_events(till.conn, till.client(hq), now)
    assert (report.accepted, report.duplicate) == (0, 10)
    assert hq.report()["events"] == 10


def test_hq_replays_each_refund_with_the_same_engine_and_flags_one_that_differs(
    hq: HQ, till: Till
) -> None:
    """p1 is spend $10 save $1. A 600 + B 500 = 1100: 100 off, 1000 paid. B
    goes back: A 600 alone misses the threshold and costs 600, so 400 goes
    back. HQ re-runs both refunds of "fair" and agrees; the refund of
    "rogue" claims 500 back and is flagged."""
    from pos_promo.model.events import OrderRefunded

    steps.pull_changes(till.conn, till.client(hq), now)
    for order_id in ("fair", "rogue"):
        doc = cart(order_id, "s1")
        doc["lines"] = [
            {"line_id": "A", "item_id": "burger", "quantity": 1, "unit_price": 600},
            {"line_id": "B", "item_id": "salad", "quantity": 1, "unit_price": 500},
        ]
        assert till.engine.commit(json.dumps(doc)).total == 1000
        assert till.engine.refund(order_id, {"B": 1}).amount == 400
    assert till.engine.refund("fair").amount == 600
    decoder = msgspec.json.Decoder(OrderRefunded)
    ((eid, payload),) = till.conn.execute(
        "SELECT id, payload FROM outbox WHERE kind = 'order.refunded' AND order_id = 'rogue'"
    ).fetchall()
    event = decoder.decode(payload)
    forged = msgspec.structs.replace(
        event, refund=msgspec.structs.replace(event.refund, amount=500)
    )
    with immediate(till.conn):
        till.conn.execute(
            "UPDATE outbox SET payload = ? WHERE id = ?",
            (msgspec.json.encode(forged).decode(), eid),
        )

    steps.push_events(till.conn, till.client(hq), now)

    flags = hq.report()["flags"]
    assert [(f["order_id"], f["detail"]) for f in flags] == [
        ("rogue", f"refund {event.refund.refund_id} money back: till 500, replay 400")
    ]
