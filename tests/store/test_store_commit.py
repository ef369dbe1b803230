"""Committing orders: one transaction, a receipt, participations, outbox, idempotency."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from pos_promo.embedded import Engine
from pos_promo.errors import InvalidCart, InvalidPayment, PromoError
from pos_promo.model.events import Event, OrderCommitted, ParticipationChanged
from pos_promo.model.order import Payment
from pos_promo.store import outbox
from pos_promo.store.connection import connect, immediate
from pos_promo.store.outbox import order_event_id
from tests.store.builders import (
    STORE,
    campaign,
    cart,
    dump,
    line,
    row_counts,
    stacking_campaigns,
)

MEMBER = {"id": "m1", "tier": "gold", "tags": ["vip"]}
ORDER = cart(
    line("A", 9000),
    line("A-side", 1000, role="side", parent_line_id="A"),
    line("B", 2500, qty=2),
    member=MEMBER,
    channel="pos",
    service_type="pickup",
)
CAMPAIGNS = [campaign("p1", version=4), campaign("p-other", priority=-1)]
EVENTS = msgspec.json.Decoder(Event)


@pytest.fixture
def till(engine: Engine) -> Engine:
    engine.import_campaigns(dump(CAMPAIGNS))
    return engine


def pending_events(path: Path) -> list[outbox.PendingEvent]:
    """What the sync side reads (the till's face has no outbox reading)."""
    conn = connect(path)
    try:
        return outbox.pending_events(conn, 100)
    finally:
        conn.close()


def outbox_rows(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    return conn.execute("SELECT id, kind, payload FROM outbox ORDER BY seq").fetchall()


def test_a_commit_records_the_order_with_its_first_result(till: Engine) -> None:
    result = till.commit(dump(ORDER), [Payment("card", 14000)])
    assert (result.subtotal, result.total_discount, result.total) == (15000, 1000, 14000)
    record = till.order("o-1")
    assert record.status == "committed"
    assert record.result == result
    assert record.payments == (Payment("card", 14000),)
    assert record.remaining_units == {"A": 1, "A-side": 1, "B": 2}


def test_the_stored_result_keeps_its_lines_once_in_the_receipt(till: Engine, db_path: Path) -> None:
    """The ``result`` column is written without lines (the receipt has them);
    reading it back, and reading a row of the previous release that kept
    them, give the same result."""
    result = till.commit(dump(ORDER), [Payment("card", 14000)])
    conn = sqlite3.connect(db_path)
    stored = msgspec.json.decode(conn.execute("SELECT result FROM orders").fetchone()[0])
    assert stored["lines"] == [] and stored["total"] == 14000
    assert till.order("o-1").result == result
    with conn:  # an order row as the previous release wrote it
        conn.execute("UPDATE orders SET result = ?", (msgspec.json.encode(result),))
    assert till.order("o-1").result == result
    assert till.commit(dump(ORDER)) == msgspec.structs.replace(result, repeat=True)
    # $10 off, placed from the cheapest unit up: B's first unit ($25) takes it all
    assert [x.unit_discounts for x in result.lines] == [(0,), (0,), (1000, 0)]


def test_the_receipt_names_campaign_versions_inputs_and_allocations(till: Engine) -> None:
    result = till.commit(dump(ORDER))
    receipt = till.order("o-1").receipt
    assert [(c.id, c.version, c.applied) for c in receipt.campaigns] == [
        ("p-other", 1, False),
        ("p1", 4, True),
    ]
    inputs = receipt.inputs
    assert inputs.at == result.at
    assert inputs.local_date == dt.date(2026, 11, 20)
    assert (inputs.store_id, inputs.timezone) == ("s1", "America/New_York")
    assert (inputs.member_id, inputs.member_tier, inputs.member_tags) == (
        "m1",
        "gold",
        frozenset({"vip"}),
    )
    assert (inputs.channel, inputs.service_type) == ("pos", "pickup")
    by_line = {a.line_id: a for a in receipt.lines}
    assert sum(sum(a.unit_discounts) for a in receipt.lines) == 1000
    assert by_line["B"].unit_price == 2500 and len(by_line["B"].unit_discounts) == 2
    assert sum(s.amount for a in receipt.lines for s in a.benefits) == 1000


def test_a_commit_writes_outbox_events_with_unique_derived_ids(till: Engine, db_path: Path) -> None:
    result = till.commit(dump(ORDER), [Payment("card", 14000)])
    rows = outbox_rows(db_path)
    assert [kind for _, kind, _ in rows] == ["order.committed", "participation.changed"]
    ids = [i for i, _, _ in rows]
    assert len(set(ids)) == len(ids)
    conn = sqlite3.connect(db_path)
    (till_id,) = conn.execute("SELECT value FROM meta WHERE key = 'till'").fetchone()
    conn.close()
    assert len(till_id) == 32
    assert ids[0] == order_event_id("s1", "o-1", "order.committed", till=till_id, at=result.at)
    pending = pending_events(Path(till.path))
    assert [e.id for e in pending] == ids
    committed = EVENTS.decode(pending[0].payload)
    assert isinstance(committed, OrderCommitted)
    assert committed.receipt == till.order("o-1").receipt
    assert committed.cart is not None and committed.cart.order_id == "o-1"
    assert committed.payments == (Payment("card", 14000),)
    assert (committed.at, committed.total, committed.member_id) == (result.at, 14000, "m1")
    part = EVENTS.decode(pending[1].payload)
    assert isinstance(part, ParticipationChanged)
    assert (part.campaign_id, part.member_id, part.delta) == ("p1", "m1", 1)
    assert till.outbox_counts().pending == 2


def test_an_event_payload_reads_the_same_after_the_order_is_refunded(till: Engine) -> None:
    till.commit(dump(ORDER))
    before = pending_events(Path(till.path))[0]
    till.refund("o-1")
    after = pending_events(Path(till.path))[0]
    assert (after.id, bytes(after.payload)) == (before.id, bytes(before.payload))


def test_the_same_order_in_another_database_gets_other_event_ids(
    till: Engine, db_path: Path, tmp_path: Path
) -> None:
    # a second till of the store reusing the order number must not collide at HQ
    till.commit(dump(ORDER))
    with Engine.open(tmp_path / "other.db", STORE) as other:
        other.import_campaigns(dump(CAMPAIGNS))
        other.commit(dump(ORDER))
    mine = [r[0] for r in outbox_rows(db_path)]
    theirs = [r[0] for r in outbox_rows(tmp_path / "other.db")]
    assert len(mine) == len(theirs) == 2
    assert not set(mine) & set(theirs)


def test_committing_the_same_order_again_returns_the_first_result_and_writes_nothing(
    till: Engine, db_path: Path
) -> None:
    first = till.commit(dump(ORDER))
    before = row_counts(db_path)
    changed = dict(ORDER, lines=[line("Z", 50)])
    repeat = msgspec.structs.replace(first, repeat=True)
    assert not first.repeat
    assert till.commit(dump(changed)) == repeat
    assert till.commit(dump(ORDER), [Payment("cash", 1)]) == repeat  # other payments: a repeat
    assert row_counts(db_path) == before


def test_a_retry_from_another_connection_is_also_idempotent(
    till: Engine, open_engine: Callable[..., Engine], db_path: Path
) -> None:
    first = till.commit(dump(ORDER))
    before = row_counts(db_path)
    assert open_engine().commit(dump(ORDER)) == msgspec.structs.replace(first, repeat=True)
    assert row_counts(db_path) == before


def test_payments_that_do_not_add_up_are_refused_and_nothing_is_written(
    till: Engine, db_path: Path
) -> None:
    before = row_counts(db_path)
    with pytest.raises(
        InvalidPayment, match=r"\$\.payments: must add up to the order total 14000, got 12000"
    ):
        till.commit(dump(ORDER), [Payment("card", 10000), Payment("cash", 2000)])
    assert row_counts(db_path) == before


def test_payments_of_the_wrong_shape_are_refused_with_their_path(till: Engine) -> None:
    with pytest.raises(InvalidPayment, match=r"\$\.payments\[0\]\.amount"):
        till.commit(dump(ORDER), [{"tender": "cash", "amount": -5}])


def test_a_cart_that_fails_validation_is_refused_and_nothing_is_written(
    till: Engine, db_path: Path
) -> None:
    before = row_counts(db_path)
    bad = cart(line("A", 100, qty=0))
    with pytest.raises(InvalidCart, match=r"\$\.lines\[0\]\.quantity"):
        till.commit(dump(bad))
    orphan = cart(line("S", 100, role="side", parent_line_id="nope"))
    with pytest.raises(InvalidCart, match=r"parent_line_id"):
        till.commit(dump(orphan))
    with pytest.raises(InvalidCart, match="store_id"):
        till.commit(dump(cart(line("A", 100), store_id="s2")))
    assert row_counts(db_path) == before


def test_a_cart_without_an_instant_is_refused_the_engine_never_reads_the_clock(
    till: Engine,
) -> None:
    undated = dict(ORDER)
    del undated["at"]
    with pytest.raises(InvalidCart, match=r"\$\.at: is required"):
        till.commit(dump(undated))
    result = till.commit(dump(undated), at=dt.datetime(2026, 11, 20, 17, tzinfo=dt.UTC))
    assert result.total_discount == 1000


def test_an_order_without_a_discount_records_no_participation(till: Engine, db_path: Path) -> None:
    till.commit(dump(cart(line("A", 500))))
    assert [kind for _, kind, _ in outbox_rows(db_path)] == ["order.committed"]


def test_evaluating_writes_nothing(till: Engine, db_path: Path) -> None:
    before = row_counts(db_path)
    till.evaluate(dump(ORDER))
    assert row_counts(db_path) == before


def test_two_stacked_promotions_are_both_recorded(engine: Engine) -> None:
    engine.import_campaigns(dump(stacking_campaigns()))
    result = engine.commit(dump(cart(line("A", 3000, qty=3))))
    assert sorted(a.id for a in result.applied) == ["items", "spend"]
    (alloc,) = engine.order("o-1").receipt.lines
    assert {b.benefit_id for b in alloc.benefits} == {"items", "spend"}


def test_marking_events_sent_moves_them_out_of_pending(till: Engine) -> None:
    till.commit(dump(ORDER))
    pending = pending_events(Path(till.path))
    conn = connect(till.path)
    try:
        with immediate(conn):
            assert outbox.mark_sent(conn, [pending[0].id]) == 1
        with immediate(conn):
            assert outbox.mark_sent(conn, [pending[0].id]) == 0  # acknowledging twice is harmless
    finally:
        conn.close()
    counts = till.outbox_counts()
    assert (counts.pending, counts.sent) == (1, 1)


def test_every_store_error_is_a_promo_error(till: Engine) -> None:
    till.close()
    with pytest.raises(PromoError):
        till.outbox_counts()


def test_the_order_record_keeps_the_cart_and_refunds_a_reprint_needs(till: Engine) -> None:
    named = cart(
        line("A", 9000, name="Ribeye steak"),
        line("B", 2500, qty=2, name="House red (glass)"),
        member=MEMBER,
    )
    till.commit(dump(named))
    refund = till.refund("o-1", {"B": 1}, refund_id="r-1")
    record = till.order("o-1")
    assert [(x.line_id, x.name, x.quantity, x.unit_price) for x in record.cart.lines] == [
        ("A", "Ribeye steak", 1, 9000),
        ("B", "House red (glass)", 2, 2500),
    ]
    assert record.cart.member is not None and record.cart.member.id == "m1"
    assert record.refunds == (refund,)
    assert record.remaining_units == {"A": 1, "B": 1}
