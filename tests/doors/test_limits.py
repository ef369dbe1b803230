"""Limits, written down once (pos_promo.limits): past one, a clear error with
its path, before any per-unit work or allocation.

Before: quantity 1,000,000 took 16 s and 370 MB at the till, 10^18 ended in a
``MemoryError``, an amount >= 2^63 in an ``OverflowError`` traceback, and a
gift activity "every 1 cent" made one commit run past 30 s.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pos_promo import InvalidCampaign, InvalidCart, decode_cart
from pos_promo.embedded import Engine
from pos_promo.errors import InvalidCoupon, InvalidPayment
from pos_promo.limits import (
    MAX_AMOUNT,
    MAX_CART_UNITS,
    MAX_DOCUMENT_BYTES,
    MAX_GRANTS_PER_ORDER,
    MAX_JSON_DEPTH,
    MAX_ORDER_AMOUNT,
    MAX_QUANTITY,
)
from pos_promo.model.receipt import Receipt
from pos_promo.schemas import schema_json
from tests.doors.conftest import snapshot
from tests.gifts.builders import STORE as GIFT_STORE
from tests.gifts.builders import activity, gift_cart, template
from tests.gifts.builders import dump as gift_dump
from tests.store.builders import STORE, campaign, cart, dump, line


def refused_with(engine: Engine, doc: bytes) -> tuple[str, int]:
    """The commit's message and the bytes the refusal allocated at its peak."""
    tracemalloc.start()
    try:
        with pytest.raises(InvalidCart) as caught:
            engine.commit(doc)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(caught.value), peak


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (MAX_QUANTITY + 1, "$.lines[0].quantity: expected int <= 1000, got 1001"),
        (1_000_000, "$.lines[0].quantity: expected int <= 1000, got 1000000"),
        (10**18, "$.lines[0].quantity: expected int <= 1000, got 1000000000000000000"),
    ],
)
def test_a_huge_quantity_is_refused_before_any_per_unit_work(
    engine: Engine, db_path: Path, quantity: int, message: str
) -> None:
    before = snapshot(db_path)
    text, peak = refused_with(engine, dump(cart(line("A", 100, qty=quantity))))
    assert text == message
    assert peak < 256 * 1024  # a per-unit list of 10^6 units alone would be ~8 MB
    assert snapshot(db_path) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("unit_price", 2**63), ("unit_price", 2**64 + 5), ("member_unit_price", 2**63)],
)
def test_an_amount_past_64_bits_is_refused_cleanly(
    engine: Engine, db_path: Path, field: str, value: int
) -> None:
    doc = cart(line("A", 100))
    doc["lines"][0][field] = value
    before = snapshot(db_path)
    text, _ = refused_with(engine, dump(doc))
    assert text == f"$.lines[0].{field}: expected int <= {MAX_AMOUNT}, got {value}"
    assert snapshot(db_path) == before


def test_a_payment_past_64_bits_is_refused_cleanly(engine: Engine, db_path: Path) -> None:
    before = snapshot(db_path)
    with pytest.raises(InvalidPayment) as caught:
        engine.commit(dump(cart(line("A", 100))), [{"tender": "cash", "amount": 2**63}])
    assert str(caught.value) == (f"$.payments[0].amount: expected int <= {MAX_AMOUNT}, got {2**63}")
    with pytest.raises(InvalidPayment) as caught:
        engine.commit(dump(cart(line("A", 100))), [{"tender": "cash", "amount": MAX_AMOUNT}] * 50)
    assert str(caught.value) == (
        f"$.payments: must add up to at most {MAX_ORDER_AMOUNT}, got {50 * MAX_AMOUNT}"
    )
    assert snapshot(db_path) == before


def test_units_are_bounded_per_cart_not_only_per_line(engine: Engine) -> None:
    lines = [line(f"L{i}", 100, qty=MAX_QUANTITY) for i in range(MAX_CART_UNITS // MAX_QUANTITY)]
    assert engine.evaluate(dump(cart(*lines))).subtotal == 100 * MAX_CART_UNITS
    lines.append(line("one-more", 100))
    with pytest.raises(InvalidCart) as caught:
        engine.evaluate(dump(cart(*lines)))
    assert str(caught.value) == (
        "$.lines[2].quantity: takes the cart past 2000 units in all, got 1"
    )


def test_an_order_subtotal_is_bounded(engine: Engine) -> None:
    lines = [line("L0", MAX_AMOUNT, qty=MAX_ORDER_AMOUNT // MAX_AMOUNT), line("L1", MAX_AMOUNT)]
    with pytest.raises(InvalidCart) as caught:
        engine.evaluate(dump(cart(*lines)))
    assert str(caught.value) == (
        f"$.lines[1].unit_price: takes the cart's subtotal past {MAX_ORDER_AMOUNT}, "
        f"got {MAX_AMOUNT}"
    )


def test_a_gift_every_one_cent_is_refused_at_import(engine: Engine, db_path: Path) -> None:
    before = snapshot(db_path)
    with pytest.raises(InvalidCampaign) as caught:
        engine.import_campaigns(gift_dump([template(), activity(threshold=1)]))
    assert str(caught.value) == (
        "$[1].condition.threshold: must be >= 100 (minor units) for a spend condition, got 1"
    )
    assert snapshot(db_path) == before


def test_a_gift_issuing_too_many_coupons_per_grant_is_refused(engine: Engine) -> None:
    gifts = [{"template_id": "t-5off", "quantity": 15}, {"template_id": "t-5off", "quantity": 6}]
    with pytest.raises(InvalidCampaign) as caught:
        engine.import_campaigns(gift_dump([template(), activity(gifts=gifts)]))
    assert str(caught.value) == (
        "$[1].gifts: must issue at most 20 coupons per grant in all, got 21"
    )


def test_one_order_grants_at_most_the_limit_and_the_next_order_grants_the_rest(
    tmp_path: Path,
) -> None:
    # every 1.00 spent, one order of 25.00: 25 ordinals reached, 10 granted per order
    till = Engine.open(tmp_path / "gifts.db", GIFT_STORE, durability="normal")
    till.import_campaigns(gift_dump([template(), activity(threshold=100)]))
    order = line("A", 2500)
    till.commit(gift_cart("o-1", order))
    assert [g.ordinal for g in till.member("m-1").grants] == list(
        range(1, MAX_GRANTS_PER_ORDER + 1)
    )
    till.commit(gift_cart("o-2", line("B", 100)))
    assert [g.ordinal for g in till.member("m-1").grants] == list(range(1, 21))
    till.commit(gift_cart("o-3", line("C", 100)))
    assert [g.ordinal for g in till.member("m-1").grants] == list(range(1, 28))
    assert len(till.wallet("m-1")) == 27
    till.close()


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("name", "x" * 201, "$[0].name: expected str of length <= 200"),
        ("code", "x" * 65, "$[0].code: expected str of length <= 64"),
        ("id", "x" * 129, "$[0].id: expected str of length <= 128"),
        ("version", 2**63, "$[0].version: expected int <= 9007199254740991"),
        ("priority", 10**7, "$[0].priority: expected int <= 1000000"),
    ],
)
def test_campaign_text_and_numbers_are_bounded(
    engine: Engine, field: str, value: Any, path: str
) -> None:
    with pytest.raises(InvalidCampaign) as caught:
        engine.import_campaigns(dump([campaign("p9", **{field: value})]))
    assert str(caught.value).startswith(path + ", got ")


def test_a_year_9999_period_is_refused_with_its_path(engine: Engine) -> None:
    period = {"start": "2026-01-01T00:00:00", "end": "9999-12-31T23:59:59"}
    with pytest.raises(InvalidCampaign) as caught:
        engine.import_campaigns(dump([campaign("p9", period=period)]))
    assert str(caught.value) == (
        '$[0].period.end: must be in the years 1970 to 2999, got "9999-12-31T23:59:59"'
    )


def test_a_year_9999_coupon_window_is_refused(engine: Engine) -> None:
    coupon = {
        "id": "c1",
        "template_id": "t1",
        "member_id": "m1",
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "9999-12-31T23:59:59Z",
    }
    with pytest.raises(InvalidCoupon, match=r"^\$\[0\]\.valid_until: must be in the years"):
        engine.add_coupons(json.dumps([coupon]))


def test_a_document_nested_past_the_depth_limit_is_refused_not_a_recursion_error() -> None:
    doc = cart(line("A", 100))
    text = json.dumps(doc)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(InvalidCart) as caught:
        decode_cart(text)
    assert str(caught.value) == f"$: must not nest deeper than {MAX_JSON_DEPTH} levels"


def test_depth_counts_arrays_and_objects_but_not_brackets_inside_strings() -> None:
    deep = 29  # the cart, its lines, a line and one unknown field: 3 levels
    doc = cart(line("A", 100, note="[[[[" * 20))
    for levels, refused in ((deep, False), (deep + 1, True)):
        doc["lines"][0]["extra"] = json.loads("[" * levels + "]" * levels)
        text = json.dumps(doc)
        if refused:
            with pytest.raises(InvalidCart, match=r"^\$: must not nest deeper than 32 levels$"):
                decode_cart(text)
        else:
            assert decode_cart(text).lines[0].quantity == 1


def test_a_document_past_the_body_limit_is_refused_unread() -> None:
    with pytest.raises(InvalidCart) as caught:
        decode_cart(b" " * (MAX_DOCUMENT_BYTES + 1))
    assert str(caught.value) == (
        f"$: must be at most {MAX_DOCUMENT_BYTES} bytes long, got {MAX_DOCUMENT_BYTES + 1}"
    )


def test_the_limits_show_in_the_json_schemas() -> None:
    schema = json.loads(schema_json("cart"))
    line_props = schema["$defs"]["Line"]["properties"]
    assert line_props["quantity"]["maximum"] == MAX_QUANTITY
    assert line_props["unit_price"]["maximum"] == MAX_AMOUNT
    assert line_props["line_id"]["maxLength"] == 128
    assert schema["$defs"]["Cart"]["properties"]["lines"]["maxItems"] == 500


def test_the_bounds_themselves_are_accepted(engine: Engine) -> None:
    result = engine.evaluate(dump(cart(line("A", MAX_AMOUNT, qty=MAX_ORDER_AMOUNT // MAX_AMOUNT))))
    assert result.subtotal == MAX_ORDER_AMOUNT
    assert STORE.id == "s1"


def test_an_order_past_one_amount_but_within_the_order_limit_is_stored_and_read_back(
    engine: Engine, db_path: Path
) -> None:
    """Lines and payments may add up past MAX_AMOUNT (one amount) while the
    order stays within MAX_ORDER_AMOUNT: what the till stored must read back."""
    doc = cart(line("A", MAX_AMOUNT, qty=MAX_ORDER_AMOUNT // MAX_AMOUNT))
    total = engine.evaluate(dump(doc)).total
    assert total == MAX_ORDER_AMOUNT - 1_000  # the fixture's $10 off
    paid = [{"tender": "card", "amount": MAX_AMOUNT}] * 9 + [
        {"tender": "card", "amount": total - 9 * MAX_AMOUNT}
    ]
    committed = engine.commit(dump(doc), paid)
    record = engine.order(committed.order_id)
    assert record.result.subtotal == MAX_ORDER_AMOUNT
    assert record.result.total == MAX_ORDER_AMOUNT - 1_000
    assert sum(p.amount for p in record.payments) == MAX_ORDER_AMOUNT - 1_000


@pytest.mark.parametrize(
    ("path", "value", "rule"),
    [
        (("inputs", "execution_order_version"), 2**63, "Expected `int` <= 9007199254740991"),
        (("campaigns", 0, "version"), 2**63, "Expected `int` <= 9007199254740991"),
        (("lines", 0, "quantity"), 10**18, f"Expected `int` <= {MAX_QUANTITY}"),
        (("lines", 0, "quantity"), -1, "Expected `int` >= 0"),
        (("lines", 0, "unit_discounts", 0), 2**70, f"Expected `int` <= {MAX_AMOUNT}"),
    ],
)
def test_a_receipt_out_of_range_is_refused_where_it_is_read_not_in_hq_replay(
    engine: Engine, path: tuple[str | int, ...], value: int, rule: str
) -> None:
    """HQ replays the receipts tills push: a version past 64 bits once got as
    far as an SQL parameter there (OverflowError in the replay worker)."""
    committed = engine.commit(dump(cart(line("A", 6_000), line("B", 5_000))))
    doc = json.loads(msgspec.json.encode(engine.order(committed.order_id).receipt))
    here: Any = doc
    for step in path[:-1]:
        here = here[step]
    here[path[-1]] = value
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(json.dumps(doc), type=Receipt)
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    assert str(caught.value) == f"{rule} - at `${where}`"
