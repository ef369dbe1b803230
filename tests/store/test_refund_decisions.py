"""The engine decides a refund from what the store read; the store writes exactly that.

After part 8 of issue 14 the refund arithmetic lives in pure engine
functions (:mod:`pos_promo.engine.refund_orders`,
:mod:`pos_promo.engine.gift_refunds`): they run here on values alone, with
no database, and the record the till writes is their decision completed
with what it gave back. Figures are worked out beside each assertion.
"""

from __future__ import annotations

import msgspec

from pos_promo.embedded import Engine
from pos_promo.engine.gift_refunds import Revocation, accrual_changes, revocations, units_left
from pos_promo.engine.grants import coupon_id, grant_id
from pos_promo.engine.refund_orders import (
    KeptVersions,
    RefundKey,
    reevaluated_refund,
    requested_units,
    reversed_refund,
)
from pos_promo.model.gift import AccrualBasis, AccrualChange, CumulativeGift
from pos_promo.model.receipt import LineAllocation
from tests.gifts.builders import activity
from tests.store.builders import campaign, cart, dump, line

MEMBER = {"id": "m1"}


def sold(engine: Engine) -> None:
    """A 6000 + B 5000 = 11000 >= 10000: p1 takes 1000 off, high->low puts it on A; paid 10000."""
    engine.import_campaigns(dump([campaign("p1", application_order="high_to_low")]))
    engine.commit(dump(cart(line("A", 6000), line("B", 5000), member=MEMBER)))


def test_the_engine_decides_the_refund_the_till_writes(engine: Engine) -> None:
    sold(engine)
    order = engine.order("o-1")
    kept = KeptVersions((engine.campaign("p1"),))
    remaining = {"A": 1, "B": 1}
    asked = requested_units("o-1", {"B": 1}, remaining)
    assert asked == {"B": 1}
    key = RefundKey("r-1", "o-1", 1, None)
    receipt = order.receipt
    decided = reevaluated_refund(
        engine.store, order.cart, receipt, receipt.lines, asked, 10000, kept, key
    )
    # B back: A alone (6000) misses the 10000 threshold and costs 6000; 10000 - 6000 = 4000
    assert (decided.paid_before, decided.kept_cost, decided.amount) == (10000, 6000, 4000)
    assert decided.dropped == ("p1",) and decided.reevaluated
    # the earlier release's arithmetic gives B's own price back: it had no discount, 5000
    old = reversed_refund(receipt, {}, asked, remaining, key)
    assert (old.amount, old.discount, old.reevaluated) == (5000, 0, False)

    written = engine.refund("o-1", {"B": 1}, refund_id="r-1")
    assert written.participations_returned == ("p1",)
    bare = msgspec.structs.replace(written, participations_returned=())
    assert bare == decided


def gift(threshold: int) -> CumulativeGift:
    return msgspec.convert(activity("g1", threshold=threshold), CumulativeGift)


def test_the_engine_decides_what_a_refund_takes_back_from_a_gift() -> None:
    # the order counted A (6000 - 1000 off) + B 5000 = 10000 for g1, all paid shareably
    basis = AccrualBasis("g1", 1, "spend", 10000, 10000, ("A", "B"))
    receipt_lines = [
        line_allocation("A", 6000, (1000,)),
        line_allocation("B", 5000, (0,)),
    ]
    left = units_left(receipt_lines, {"B": 1})
    assert left == {"A": (6000, (1000,), 1), "B": (5000, (0,), 0)}
    # now it counts A only: 5000, so the standing moves by 5000 - 10000
    assert accrual_changes([(basis, 10000)], left) == (AccrualChange("g1", -5000),)
    # nothing moved (a retried refund): no change at all
    assert accrual_changes([(basis, 5000)], left) == ()
    # every 4000: the member's total fell to 9000, which reaches ordinals 1 and 2 only
    gone = revocations(gift(4000), "m1", 9000, {1, 2, 3})
    assert gone == (
        Revocation(3, grant_id("g1", "m1", 3), ((coupon_id("g1", "m1", 3, 1, 1), "t-5off"),)),
    )
    assert revocations(gift(4000), "m1", 12000, {1, 2, 3}) == ()


def line_allocation(line_id: str, price: int, discounts: tuple[int, ...]) -> LineAllocation:
    """One receipt line of ``len(discounts)`` units at ``price``, each with its discount."""
    return LineAllocation(line_id, line_id, len(discounts), price, discounts, ())
