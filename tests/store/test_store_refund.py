"""Refunds: whole orders, some lines or units, exactly what was given, refused cleanly."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos_promo.embedded import Engine
from pos_promo.engine.reversal import refund_units, unit_shares
from pos_promo.errors import InvalidRefund, RefundExceedsSale, UnknownOrder
from pos_promo.model.receipt import LineAllocation
from pos_promo.model.result import BenefitShare
from tests.store.builders import campaign, cart, dump, line, row_counts, stacking_campaigns

MEMBER = {"id": "m1"}


@pytest.fixture
def stacked(engine: Engine) -> Engine:
    """An order whose line A carries two promotions over 3 units."""
    engine.import_campaigns(dump(stacking_campaigns()))
    engine.commit(dump(cart(line("A", 3000, qty=3), line("B", 1001, qty=2), member=MEMBER)))
    return engine


def given_per_benefit(engine: Engine, order_id: str = "o-1") -> dict[str, int]:
    return {a.id: a.amount for a in engine.order(order_id).result.applied}


def test_a_whole_order_refund_gives_back_what_was_paid_and_reverses_every_discount(
    stacked: Engine,
) -> None:
    result = stacked.order("o-1").result
    record = stacked.refund("o-1")
    assert record.order_fully_refunded
    assert record.amount == result.total
    assert record.discount == result.total_discount
    assert {b.benefit_id: b.amount for b in record.benefits} == given_per_benefit(stacked)
    assert stacked.order("o-1").status == "refunded"
    assert stacked.order("o-1").remaining_units == {"A": 0, "B": 0}


def test_refunding_some_units_takes_the_last_sold_units_first(stacked: Engine) -> None:
    (a, _b) = stacked.order("o-1").receipt.lines
    record = stacked.refund("o-1", {"A": 1})
    (back,) = record.lines
    assert back.discount == a.unit_discounts[-1]
    assert back.amount == a.unit_price - a.unit_discounts[-1]
    assert not record.order_fully_refunded
    assert stacked.order("o-1").status == "partially_refunded"
    assert stacked.order("o-1").remaining_units == {"A": 2, "B": 2}


def test_a_full_refund_in_several_steps_reverses_exactly_the_original_amounts(
    stacked: Engine,
) -> None:
    record = stacked.order("o-1")
    steps = [{"A": 1}, {"B": 1}, {"A": 1, "B": 1}, {"A": 1}]
    refunds = [stacked.refund("o-1", step) for step in steps]
    assert [r.order_fully_refunded for r in refunds] == [False, False, False, True]
    reversed_per_benefit: dict[str, int] = {}
    for r in refunds:
        for b in r.benefits:
            reversed_per_benefit[b.benefit_id] = (
                reversed_per_benefit.get(b.benefit_id, 0) + b.amount
            )
    assert reversed_per_benefit == given_per_benefit(stacked)
    assert sum(r.amount for r in refunds) == record.result.total
    assert sum(r.discount for r in refunds) == record.result.total_discount
    assert [r.seq for r in stacked.order("o-1").refunds] == [1, 2, 3, 4]


def test_refunding_more_units_than_sold_is_refused_and_nothing_is_written(
    stacked: Engine, db_path: Path
) -> None:
    stacked.refund("o-1", {"A": 2})
    before = row_counts(db_path)
    with pytest.raises(
        RefundExceedsSale, match=r"line 'A': cannot refund 2 unit\(s\), only 1 left to refund"
    ) as caught:
        stacked.refund("o-1", {"B": 1, "A": 2})
    assert (caught.value.line_id, caught.value.asked, caught.value.remaining) == ("A", 2, 1)
    assert isinstance(caught.value, ValueError)
    assert row_counts(db_path) == before


def test_refunding_an_unknown_order_is_refused_and_nothing_is_written(
    stacked: Engine, db_path: Path
) -> None:
    before = row_counts(db_path)
    with pytest.raises(UnknownOrder, match="unknown order 'o-404'") as caught:
        stacked.refund("o-404")
    assert isinstance(caught.value, LookupError)
    assert row_counts(db_path) == before


def test_refunding_a_fully_refunded_order_again_is_refused(stacked: Engine) -> None:
    stacked.refund("o-1")
    with pytest.raises(RefundExceedsSale, match="already fully refunded"):
        stacked.refund("o-1")


def test_a_refund_naming_an_unknown_line_or_no_units_is_refused(
    stacked: Engine, db_path: Path
) -> None:
    before = row_counts(db_path)
    with pytest.raises(InvalidRefund, match=r"\$\.lines\['Z'\]: names no line of order 'o-1'"):
        stacked.refund("o-1", {"Z": 1})
    with pytest.raises(InvalidRefund, match=r"must be a whole number >= 1, got 0"):
        stacked.refund("o-1", {"A": 0})
    with pytest.raises(InvalidRefund, match=r"\$\.lines: must name at least one line"):
        stacked.refund("o-1", {})
    assert row_counts(db_path) == before


def test_a_refund_with_an_id_is_safe_to_retry(stacked: Engine, db_path: Path) -> None:
    first = stacked.refund("o-1", {"A": 1}, refund_id="till-refund-7")
    before = row_counts(db_path)
    assert stacked.refund("o-1", {"A": 1}, refund_id="till-refund-7") == first
    assert row_counts(db_path) == before
    assert stacked.order("o-1").remaining_units["A"] == 2


def test_a_participation_goes_back_when_its_promotion_no_longer_applies(
    stacked: Engine, db_path: Path
) -> None:
    def standing() -> int:
        conn = sqlite3.connect(db_path)
        return int(conn.execute("SELECT SUM(delta) FROM participations").fetchone()[0])

    assert standing() == 2  # two promotions took part in o-1
    stacked.refund("o-1", {"A": 1})  # A 6000 + B 2002 kept: spend 50 and 3 items still met
    assert standing() == 2
    record = stacked.refund("o-1", {"A": 2})  # B 2002 alone meets neither
    assert record.dropped == ("items", "spend")
    assert record.participations_returned == ("items", "spend")
    assert standing() == 0
    last = stacked.refund("o-1")  # nothing is returned twice
    assert last.order_fully_refunded and last.participations_returned == ()
    assert standing() == 0


def test_a_refund_writes_an_outbox_event_and_a_full_one_returns_participations(
    stacked: Engine, db_path: Path
) -> None:
    conn = sqlite3.connect(db_path)
    stacked.refund("o-1", {"A": 1})
    kinds = [k for (k,) in conn.execute("SELECT kind FROM outbox ORDER BY seq")]
    assert kinds[-1] == "order.refunded"
    stacked.refund("o-1")
    kinds = [k for (k,) in conn.execute("SELECT kind FROM outbox ORDER BY seq")]
    assert kinds[-3:] == ["order.refunded", "participation.changed", "participation.changed"]
    ids = [i for (i,) in conn.execute("SELECT id FROM outbox")]
    assert len(ids) == len(set(ids))


def test_a_refund_reverses_the_receipt_even_after_the_campaign_changed(engine: Engine) -> None:
    engine.import_campaigns(dump([campaign("p1")]))
    engine.commit(dump(cart(line("A", 12000))))
    engine.import_campaigns(dump([campaign("p1", version=2, status="archived")]))
    assert engine.refund("o-1").discount == 1000


@st.composite
def lines(draw: st.DrawFn) -> LineAllocation:
    quantity = draw(st.integers(1, 8))
    price = draw(st.integers(0, 5000))
    units = tuple(draw(st.integers(0, price)) for _ in range(quantity))
    total = sum(units)
    cuts = sorted(draw(st.lists(st.integers(0, total), max_size=3)))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    benefits = tuple(BenefitShare(f"b{i}", p) for i, p in enumerate(parts) if p)
    return LineAllocation("L", "item", quantity, price, units, benefits)


@settings(max_examples=300, deadline=None)
@given(lines(), st.data())
def test_any_batching_of_unit_refunds_reverses_exactly_per_benefit(
    line_alloc: LineAllocation, data: st.DataObject
) -> None:
    left, done = line_alloc.quantity, 0
    per_benefit: dict[str, int] = {}
    discount = amount = 0
    while left:
        step = data.draw(st.integers(1, left))
        back = refund_units(line_alloc, done, step)
        assert all(v > 0 for v in back.benefits.values())
        assert sum(back.benefits.values()) == back.discount
        for key, value in back.benefits.items():
            per_benefit[key] = per_benefit.get(key, 0) + value
        discount += back.discount
        amount += back.amount
        done += step
        left -= step
    assert per_benefit == {b.benefit_id: b.amount for b in line_alloc.benefits}
    assert discount == sum(line_alloc.unit_discounts)
    assert amount == line_alloc.unit_price * line_alloc.quantity - discount
    assert len(unit_shares(line_alloc)) == line_alloc.quantity
