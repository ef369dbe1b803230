"""The coupon wallet: redemption at commit, restoration by a full refund, refusals."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import msgspec
import pytest

from pos_promo.embedded import Engine
from pos_promo.errors import InvalidCoupon
from pos_promo.model.coupon import Coupon
from pos_promo.model.events import CouponRedeemed, CouponRestored, Event
from pos_promo.model.receipt import CampaignRef
from pos_promo.store.outbox import event_id, order_event_id
from tests.store.builders import STORE, dump, line, row_counts
from tests.store.coupon_builders import coupon, member_cart, template

EVENTS = msgspec.json.Decoder(Event)


def till_event_id(path: Path, order_id: str, key: str, *, committing: bool = False) -> str:
    """The id this till's database gives the event ``key`` of ``order_id``
    (``committing``: an event the order's commit writes, led by its instant)."""
    conn = sqlite3.connect(path)
    try:
        (till,) = conn.execute("SELECT value FROM meta WHERE key = 'till'").fetchone()
        (at,) = conn.execute("SELECT at FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    finally:
        conn.close()
    if committing:
        return order_event_id(STORE.id, order_id, key, till=till, at=dt.datetime.fromisoformat(at))
    return event_id(STORE.id, order_id, key, till=till)


@pytest.fixture
def till(engine: Engine) -> Engine:
    engine.import_campaigns(dump([template()]))
    engine.add_coupons(dump([coupon()]))
    return engine


def events(path: Path, kind: str) -> list[tuple[str, Event]]:
    conn = sqlite3.connect(path)
    try:
        return [
            (eid, EVENTS.decode(payload))
            for eid, payload in conn.execute(
                "SELECT id, payload FROM outbox WHERE kind = ? ORDER BY seq", (kind,)
            )
        ]
    finally:
        conn.close()


def status(engine: Engine, coupon_id: str = "c1") -> str:
    return next(e.status for e in engine.wallet("m1") if e.id == coupon_id)


def test_a_commit_redeems_the_coupon_with_its_event_and_receipt(
    till: Engine, db_path: Path
) -> None:
    result = till.commit(dump(member_cart("c1")))
    applied = {a.id: a for a in result.applied}
    assert (applied["c1"].kind, applied["c1"].template_id, applied["c1"].amount) == (
        "coupon",
        "t5",
        500,
    )
    [entry] = till.wallet("m1")
    assert (entry.status, entry.redeemed_order_id, entry.unconfirmed) == ("redeemed", "o-1", True)
    assert entry.redeemed_at == dt.datetime(2026, 11, 20, 17, tzinfo=dt.UTC)
    [(eid, event)] = events(db_path, "coupon.redeemed")
    assert eid == till_event_id(db_path, "o-1", "coupon.redeemed/c1", committing=True)
    assert event == CouponRedeemed("o-1", "s1", "c1", "t5", "m1", result.at, 500)
    receipt = till.order("o-1").receipt
    assert receipt.inputs.coupons == ("c1",)
    assert [c.id for c in receipt.inputs.wallet] == ["c1"]
    assert receipt.inputs.wallet[0].status == "issued"  # as the evaluation saw it
    assert CampaignRef("t5", 1, True) in receipt.campaigns
    # a coupon is not a promotion a member takes part in
    assert not events(db_path, "participation.changed")


def test_a_retried_commit_does_not_redeem_twice(till: Engine, db_path: Path) -> None:
    first = till.commit(dump(member_cart("c1")))
    again = till.commit(dump(member_cart("c1")))
    assert again == msgspec.structs.replace(first, repeat=True)
    assert len(events(db_path, "coupon.redeemed")) == 1
    other = till.commit(dump(member_cart("c1", order_id="o-2")))
    assert other.total_discount == 0
    [refused] = other.not_applied
    assert (refused.id, refused.reason, refused.cause) == ("c1", "coupon_invalid", "redeemed")
    assert len(events(db_path, "coupon.redeemed")) == 1
    assert till.wallet("m1")[0].redeemed_order_id == "o-1"


def test_a_full_refund_gives_the_coupon_back(till: Engine, db_path: Path) -> None:
    till.commit(dump(member_cart("c1")))
    refund = till.refund("o-1", refund_id="r-1")
    assert refund.order_fully_refunded
    [entry] = till.wallet("m1")
    assert (entry.status, entry.redeemed_order_id, entry.unconfirmed) == ("issued", None, True)
    [(eid, event)] = events(db_path, "coupon.restored")
    assert eid == till_event_id(db_path, "o-1", "coupon.restored/c1")
    assert event == CouponRestored("o-1", "s1", "c1", "t5", "m1", "r-1")
    again = till.commit(dump(member_cart("c1", order_id="o-2")))
    assert [a.id for a in again.applied] == ["c1"]


def test_a_partial_refund_keeps_the_redemption_until_the_order_is_fully_refunded(
    till: Engine, db_path: Path
) -> None:
    till.commit(dump(member_cart("c1")))
    till.refund("o-1", {"A": 1})
    assert status(till) == "redeemed"
    assert not events(db_path, "coupon.restored")
    till.refund("o-1", {"B": 1})  # the last units: the order is now fully refunded
    assert status(till) == "issued"
    assert len(events(db_path, "coupon.restored")) == 1


def test_a_restored_coupon_whose_window_has_passed_is_refused_as_expired(till: Engine) -> None:
    till.commit(dump(member_cart("c1")))
    till.refund("o-1", at=dt.datetime(2026, 12, 5, tzinfo=dt.UTC))
    assert status(till) == "issued"  # not used; its window decides, at the moment of use
    late = till.evaluate(dump(member_cart("c1", order_id="o-2", at="2026-12-05T12:00:00Z")))
    assert [(n.id, n.cause) for n in late.not_applied] == [("c1", "expired")]


@pytest.mark.parametrize(
    ("wallet", "presented", "cause"),
    [
        ([], "c-x", "unknown"),
        ([coupon(valid_until="2026-11-15T00:00:00Z")], "c1", "expired"),
        ([coupon(valid_from="2026-11-25T00:00:00Z")], "c1", "not_yet_valid"),
        ([coupon(member_id="m2")], "c1", "not_owner"),
        ([coupon(status="void")], "c1", "void"),
        ([coupon(status="redeemed")], "c1", "redeemed"),
    ],
    ids=["unknown", "expired", "not-yet-valid", "someone-elses", "void", "already-redeemed"],
)
def test_an_unusable_coupon_is_refused_with_its_cause_and_nothing_about_it_is_written(
    engine: Engine, db_path: Path, wallet: list[dict[str, str]], presented: str, cause: str
) -> None:
    engine.import_campaigns(dump([template()]))
    if wallet:
        engine.add_coupons(dump(wallet))
    before = row_counts(db_path)["wallet"]
    result = engine.commit(dump(member_cart(presented)))
    [refused] = result.not_applied
    assert (refused.id, refused.reason, refused.cause) == (presented, "coupon_invalid", cause)
    assert (result.applied, result.total_discount) == ((), 0)
    assert row_counts(db_path)["wallet"] == before
    assert not events(db_path, "coupon.redeemed")
    assert engine.order("o-1").status == "committed"


def test_a_coupon_that_saves_nothing_stays_issued(engine: Engine, db_path: Path) -> None:
    dessert = template("t-dessert", {"type": "free_item"}, items={"item_ids": ["dessert"]})
    engine.import_campaigns(dump([dessert]))
    engine.add_coupons(dump([coupon("c-d", "t-dessert")]))
    result = engine.commit(dump(member_cart("c-d")))
    assert result.applied == ()
    assert [(n.id, n.reason) for n in result.not_applied] == [("c-d", "no_eligible_items")]
    assert status(engine, "c-d") == "issued"
    assert not events(db_path, "coupon.redeemed")


def test_a_coupon_on_items_already_at_zero_saves_nothing_and_stays_issued(
    engine: Engine, db_path: Path
) -> None:
    only_a = template("t-a", items={"item_ids": ["a"]})
    engine.import_campaigns(dump([only_a]))
    engine.add_coupons(dump([coupon("c-a", "t-a")]))
    result = engine.commit(dump(member_cart("c-a", lines=[line("A", 0), line("B", 1000)])))
    assert result.applied == ()
    assert [(n.id, n.reason) for n in result.not_applied] == [("c-a", "nothing_to_discount")]
    assert status(engine, "c-a") == "issued"
    assert not events(db_path, "coupon.redeemed")


def test_member_benefits_get_no_participation_and_a_full_refund_returns_only_promotions(
    engine: Engine, db_path: Path
) -> None:
    promo = {
        "kind": "spend_and_save",
        "id": "p1",
        "name": "p1",
        "period": template()["period"],
        "rule": {"type": "spend_save", "tiers": [{"spend": 1000, "save": 100}]},
        "sharing": {"coupons": {"mode": "all"}},
    }
    engine.import_campaigns(dump([promo, template()]))
    engine.add_coupons(dump([coupon()]))
    member = {"id": "m1", "discount_rate_bp": 1000}
    result = engine.commit(dump(member_cart("c1", member=member)))
    kinds = {a.kind for a in result.applied}
    assert kinds == {"member_discount", "coupon", "spend_and_save"}
    changes = [e for _, e in events(db_path, "participation.changed")]
    assert [e.campaign_id for e in changes] == [  # type: ignore[union-attr]
        a.id for a in result.applied if a.kind == "spend_and_save"
    ]
    engine.refund("o-1")
    returned = [e for _, e in events(db_path, "participation.changed")][len(changes) :]
    assert [(e.campaign_id, e.delta) for e in returned] == [  # type: ignore[union-attr]
        (e.campaign_id, -1)  # type: ignore[union-attr]
        for e in changes
    ]


def test_add_coupons_refuses_a_bad_batch_whole(engine: Engine, db_path: Path) -> None:
    before = row_counts(db_path)
    with pytest.raises(InvalidCoupon, match=r"\$\[1\]\.valid_until: must be after valid_from"):
        engine.add_coupons(dump([coupon("c1"), coupon("c2", valid_until="2026-10-01T00:00:00Z")]))
    with pytest.raises(InvalidCoupon, match=r"\$\[1\]\.id: must be unique"):
        engine.add_coupons([msgspec.convert(coupon(), Coupon)] * 2)
    with pytest.raises(InvalidCoupon, match=r"\$\[0\]\.member_id: is required"):
        engine.add_coupons(dump([{k: v for k, v in coupon().items() if k != "member_id"}]))
    assert row_counts(db_path) == before


def test_the_wallet_lists_a_members_coupons_with_where_they_came_from(engine: Engine) -> None:
    report = engine.add_coupons(dump([coupon("c1"), coupon("c2", member_id="m2")]), source="pos")
    assert (report.added, report.updated) == (("c1", "c2"), ())
    again = engine.add_coupons(dump([coupon("c1"), coupon("c2", member_id="m2")]))
    assert again.unchanged == ("c1", "c2")
    [entry] = engine.wallet("m1")
    assert (entry.id, entry.template_id, entry.source, entry.status) == (
        "c1",
        "t5",
        "pos",
        "issued",
    )
    assert entry.valid_from == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert engine.wallet("nobody") == []


def test_a_stale_hq_state_does_not_undo_a_local_redemption(till: Engine) -> None:
    till.commit(dump(member_cart("c1")))
    # HQ has not seen the redemption yet: it still says issued, and moves the window
    report = till.add_coupons(dump([coupon(valid_until="2026-12-31T00:00:00Z")]))
    assert report.kept_local == ("c1",)
    [entry] = till.wallet("m1")
    assert (entry.status, entry.unconfirmed) == ("redeemed", True)
    assert entry.valid_until == dt.datetime(2026, 12, 31, tzinfo=dt.UTC)  # HQ owns the window
    again = till.commit(dump(member_cart("c1", order_id="o-2")))
    assert [(n.id, n.cause) for n in again.not_applied] == [("c1", "redeemed")]


def test_hq_state_that_includes_the_local_change_wins_again(till: Engine, db_path: Path) -> None:
    from pos_promo.store.connection import connect, immediate
    from pos_promo.store.wallet import upsert_coupons

    till.commit(dump(member_cart("c1")))
    conn = connect(db_path)
    try:
        with immediate(conn):
            redeemed = msgspec.convert(coupon(status="redeemed"), Coupon)
            report = upsert_coupons(
                conn,
                [redeemed],
                confirmed={till_event_id(db_path, "o-1", "coupon.redeemed/c1", committing=True)},
            )
        assert report.updated == ("c1",)
        [entry] = till.wallet("m1")
        assert (entry.status, entry.redeemed_order_id, entry.unconfirmed) == (
            "redeemed",
            "o-1",
            False,
        )
        with immediate(conn):  # later, HQ voids it: nothing local is pending, HQ wins
            upsert_coupons(conn, [msgspec.convert(coupon(status="void"), Coupon)])
        [entry] = till.wallet("m1")
        assert (entry.status, entry.redeemed_order_id) == ("void", None)
    finally:
        conn.close()
    till.refund("o-1")  # no longer this order's redemption: a void coupon stays void
    assert status(till) == "void"
    assert not events(db_path, "coupon.restored")


def test_the_report_counts_coupons_under_their_template(till: Engine) -> None:
    till.add_coupons(dump([coupon("c2")]))
    till.commit(dump(member_cart("c1")))
    till.commit(dump(member_cart("c2", order_id="o-2")))
    till.refund("o-2")
    [row] = till.report()
    assert (row.campaign_id, row.name, row.orders, row.orders_refunded) == ("t5", "t5", 1, 1)
    assert (row.discount_given, row.discount_refunded, row.discount_net) == (1000, 500, 500)
    assert (row.participations, row.members) == (0, 0)  # coupons are not participations
