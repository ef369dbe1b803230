"""Refunds take back what an order no longer earns, and the grants it no longer reaches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pos_promo.embedded import Engine
from pos_promo.engine.grants import coupon_id, grant_id
from tests.gifts.builders import MEMBER, activity, gift_cart, template
from tests.helpers import line

UTC = dt.UTC


def total(engine: Engine) -> int:
    return {a.activity_id: a.total for a in engine.member(MEMBER).activities}.get("g1", 0)


def statuses(engine: Engine) -> dict[int, str]:
    return {g.ordinal: g.status for g in engine.member(MEMBER).grants}


def test_a_partial_refund_takes_back_the_refunded_units_paid_amount(till: Engine) -> None:
    till.commit(gift_cart("o-1", line("A", 2500, qty=4)))
    record = till.refund("o-1", {"A": 1})
    assert total(till) == 7500
    assert [(c.activity_id, c.amount) for c in record.accruals] == [("g1", -2500)]


def test_refunding_every_unit_in_steps_takes_back_exactly_what_was_accrued(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(template(), activity(assets={"prepaid_balance": False}, threshold=100000))
    engine.commit(
        gift_cart("o-1", line("A", 333, qty=3), line("B", 1001)),
        [{"tender": "cash", "amount": 1000}, {"tender": "prepaid_balance", "amount": 1000}],
    )
    accrued = total(engine)
    assert accrued == 1000
    engine.refund("o-1", {"A": 1})
    engine.refund("o-1", {"B": 1})
    engine.refund("o-1", {"A": 2})
    assert total(engine) == 0


def test_a_refund_below_a_granted_ordinal_revokes_it_voids_unused_coupons_and_keeps_redeemed(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(template(), activity(gifts=[{"template_id": "t-5off", "quantity": 2}]))
    engine.commit(gift_cart("o-1", line("A", 10000), line("B", 10000)))
    assert statuses(engine) == {1: "granted", 2: "granted"}
    used = coupon_id("g1", MEMBER, 2, 1, 1)
    engine.commit(gift_cart("o-2", line("C", 1000), coupons=[used]))
    record = engine.refund("o-1", {"B": 1})
    assert total(engine) == 10000 + 500  # o-2 paid $5 after the coupon
    assert statuses(engine) == {1: "granted", 2: "revoked"}
    (revoked,) = record.revoked
    assert revoked.grant_id == grant_id("g1", MEMBER, 2)
    assert revoked.kept == (used,)
    assert revoked.voided == (coupon_id("g1", MEMBER, 2, 1, 2),)
    wallet = {c.id: c.status for c in engine.wallet(MEMBER)}
    assert wallet[used] == "redeemed"
    assert wallet[coupon_id("g1", MEMBER, 2, 1, 2)] == "void"
    assert wallet[coupon_id("g1", MEMBER, 1, 1, 1)] == "issued"


def test_a_revoked_grant_cancels_its_releases_not_yet_due(
    open_till: Callable[..., Engine],
) -> None:
    gifts = [{"template_id": "t-5off", "distribution": {"type": "daily", "days": 3}}]
    engine = open_till(template(), activity(gifts=gifts))
    engine.commit(gift_cart("o-1", line("A", 10000)))
    record = engine.refund("o-1")
    assert record.revoked[0].cancelled == (coupon_id("g1", MEMBER, 1, 1, 1),)
    assert engine.release_gifts(dt.datetime(2027, 1, 1, tzinfo=UTC)) == ()
    assert engine.wallet(MEMBER) == []


def test_earning_a_revoked_ordinal_again_grants_it_again_with_the_same_ids(till: Engine) -> None:
    till.commit(gift_cart("o-1", line("A", 10000)))
    till.refund("o-1")
    assert statuses(till) == {1: "revoked"}
    till.commit(gift_cart("o-2", line("A", 10000), at="2026-11-21T17:00:00Z"))
    assert statuses(till) == {1: "granted"}
    (coupon,) = till.wallet(MEMBER)
    assert coupon.id == coupon_id("g1", MEMBER, 1, 1, 1) and coupon.status == "issued"
    assert coupon.valid_from == dt.datetime(2026, 11, 21, 17, 0, tzinfo=UTC)


def test_a_refund_that_keeps_the_total_above_the_threshold_revokes_nothing(till: Engine) -> None:
    till.commit(gift_cart("o-1", line("A", 6000, qty=3)))
    record = till.refund("o-1", {"A": 1})
    assert total(till) == 12000 and record.revoked == ()
    assert statuses(till) == {1: "granted"}
    record = till.refund("o-1", {"A": 1})
    assert [r.ordinal for r in record.revoked] == [1]  # 6000 < 10000: taken back


def test_a_retried_refund_takes_nothing_back_twice(till: Engine) -> None:
    till.commit(gift_cart("o-1", line("A", 5000, qty=3)))
    first = till.refund("o-1", {"A": 1}, refund_id="r-1")
    again = till.refund("o-1", {"A": 1}, refund_id="r-1")
    assert first == again
    assert total(till) == 10000


def test_a_local_refund_takes_back_a_grant_hq_made_and_voids_the_coupon_hq_sent(
    till: Engine,
) -> None:
    import msgspec

    from pos_promo.sync.local import open_database
    from pos_promo.sync.members import apply_member_page
    from pos_promo.sync.protocol import (
        ConfirmedTotal,
        GrantState,
        MemberStatePage,
        WalletCoupon,
        encode,
    )

    till.commit(gift_cart("o-1", line("A", 6000)))
    at = dt.datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    gift = coupon_id("g1", MEMBER, 1, 1, 1)
    items = [  # another store's $40, and the grant HQ made from both
        ConfirmedTotal(MEMBER, "g1", "spend", 4000),
        GrantState(grant_id("g1", MEMBER, 1), "g1", MEMBER, 1, "granted", at),
        WalletCoupon(gift, "t-5off", MEMBER, at, at + dt.timedelta(days=30)),
    ]
    conn = open_database(till.path, "normal")
    page = MemberStatePage("3", False, tuple(msgspec.Raw(encode(i)) for i in items))
    apply_member_page(conn, "", page, 0, at)
    conn.close()
    assert total(till) == 10000 and statuses(till) == {1: "granted"}

    record = till.refund("o-1")
    assert total(till) == 4000
    (revoked,) = record.revoked
    assert revoked.voided == (gift,)
    assert {c.id: c.status for c in till.wallet(MEMBER)} == {gift: "void"}


def test_the_accrual_follows_what_the_kept_units_now_cost_and_revokes_below_an_ordinal(
    open_till: Callable[..., Engine],
) -> None:
    """Every $100 of spend; spend 100 save 10 high->low puts the $10 on A.
    A 6000 + B 5000 - 1000 = 10000 paid: accrues 10000, ordinal 1 granted.
    B goes back: A alone no longer earns the promotion and costs 6000, so the
    order now counts 6000 (not 10000 - 5000 = 5000, what B's own price would
    say): -4000, total 6000 < 10000, ordinal 1 revoked."""
    promotion = {
        "kind": "spend_and_save",
        "id": "p1",
        "name": "Spend 100 save 10",
        "period": {"start": "2026-01-01T00:00:00", "end": "2026-12-31T23:59:59"},
        "rule": {"type": "spend_save", "tiers": [{"spend": 10000, "save": 1000}]},
        "application_order": "high_to_low",
    }
    engine = open_till(template(), activity(), promotion)
    assert engine.commit(gift_cart("o-1", line("A", 6000), line("B", 5000))).total == 10000
    assert total(engine) == 10000 and statuses(engine) == {1: "granted"}
    record = engine.refund("o-1", {"B": 1})
    assert record.amount == 4000
    assert [(c.activity_id, c.amount) for c in record.accruals] == [("g1", -4000)]
    assert total(engine) == 6000
    assert [r.ordinal for r in record.revoked] == [1] and statuses(engine) == {1: "revoked"}
    last = engine.refund("o-1")
    assert [(c.activity_id, c.amount) for c in last.accruals] == [("g1", -6000)]
    assert total(engine) == 0
