"""One validation for every entry: a struct built in Python and its JSON are
refused with the same ``path: rule, got value``, and nothing is written.

Before: ``Engine.commit(Cart(...))`` skipped every check and stored an order
with a total of -500; a dict or ``None`` ended in an ``AttributeError``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pos_promo import InvalidCampaign, InvalidCart, InvalidInput, InvalidStore, PromoError
from pos_promo import evaluate as pure_evaluate
from pos_promo.embedded import Engine
from pos_promo.errors import InvalidCoupon, InvalidPayment, InvalidRefund
from pos_promo.model.base import Period
from pos_promo.model.campaign import SpendAndSave, SpendSave, SpendTier
from pos_promo.model.cart import Cart, Line, MemberCounts, ParticipationCount, StoreContext
from pos_promo.model.catalog import Catalog
from pos_promo.model.coupon import Coupon
from pos_promo.model.order import Payment
from tests.doors.conftest import snapshot
from tests.store.builders import STORE, cart, dump, line

AT = dt.datetime(2026, 11, 20, 17, tzinfo=dt.UTC)


def good_line(line_id: str = "A", price: int = 5000, quantity: int = 1, **fields: Any) -> Line:
    return Line(line_id, line_id.lower(), quantity, price, **fields)


def struct_cart(*lines: Line, **fields: Any) -> Cart:
    return Cart("o-1", "s1", lines, at=AT, **fields)


BAD_CARTS = [
    pytest.param(
        struct_cart(good_line(price=-500)),
        "$.lines[0].unit_price: expected int >= 0, got -500",
        id="negative-price",
    ),
    pytest.param(
        struct_cart(good_line("A"), good_line("A")),
        '$.lines[1].line_id: must be unique, got "A"',
        id="duplicate-line-ids",
    ),
    pytest.param(struct_cart(), "$.lines: expected array of length >= 1, got []", id="empty-cart"),
    pytest.param(
        struct_cart(good_line(quantity=0)),
        "$.lines[0].quantity: expected int >= 1, got 0",
        id="quantity-zero",
    ),
    pytest.param(
        struct_cart(good_line(price=2**63)),
        f"$.lines[0].unit_price: expected int <= 1000000000, got {2**63}",
        id="price-past-64-bits",
    ),
    pytest.param(
        struct_cart(good_line(quantity=10**18)),
        f"$.lines[0].quantity: expected int <= 1000, got {10**18}",
        id="quantity-10-18",
    ),
    pytest.param(
        struct_cart(good_line(price="12.50")),  # type: ignore[arg-type]
        '$.lines[0].unit_price: expected int, got "12.50"',
        id="price-as-text",
    ),
    pytest.param(
        struct_cart(good_line(), channel="kiosk"),  # type: ignore[arg-type]
        '$.channel: is not an allowed channel, got "kiosk"',
        id="unknown-channel",
    ),
]


@pytest.mark.parametrize(("bad", "message"), BAD_CARTS)
def test_a_struct_and_its_json_are_refused_alike_and_nothing_is_written(
    engine: Engine, db_path: Path, bad: Cart, message: str
) -> None:
    before = snapshot(db_path)
    refused = []
    for door in (bad, msgspec.json.encode(bad), msgspec.json.encode(bad).decode()):
        with pytest.raises(InvalidCart) as commit:
            engine.commit(door)
        with pytest.raises(InvalidCart) as evaluate:
            engine.evaluate(door)
        refused += [str(commit.value), str(evaluate.value)]
    assert refused == [message] * 6
    assert snapshot(db_path) == before


def test_the_order_stored_with_a_negative_total_is_now_refused(
    engine: Engine, db_path: Path
) -> None:
    before = snapshot(db_path)
    with pytest.raises(InvalidCart, match=r"^\$\.lines\[0\]\.unit_price: expected int >= 0"):
        engine.commit(struct_cart(good_line(price=-500)), [Payment("cash", 0)])
    assert snapshot(db_path) == before
    assert before["orders"] == []


@pytest.mark.parametrize(
    ("payments", "message"),
    [
        ([Payment("cash", -500)], "$.payments[0].amount: expected int >= 0, got -500"),
        ([{"tender": "cash", "amount": -500}], "$.payments[0].amount: expected int >= 0, got -500"),
        (
            b'[{"tender": "cash", "amount": -500}]',
            "$.payments[0].amount: expected int >= 0, got -500",
        ),
        ([Payment("gold", 5000)], '$.payments[0].tender: is not an allowed tender, got "gold"'),  # type: ignore[arg-type]
        (
            [Payment("cash", 2**63)],
            f"$.payments[0].amount: expected int <= 1000000000, got {2**63}",
        ),
        (
            [Payment("cash", 10**9)] * 101,
            "$.payments: expected array of length <= 50, got ",
        ),
        (
            {"tender": "cash"},
            "$.payments: expected a list of Payment (or of mappings) or its JSON (bytes or str), "
            'got "dict"',
        ),
        (
            5000,
            "$.payments: expected a list of Payment (or of mappings) or its JSON (bytes or str), "
            'got "int"',
        ),
    ],
)
def test_bad_payments_are_refused_the_same_way_in_every_form(
    engine: Engine, db_path: Path, payments: Any, message: str
) -> None:
    before = snapshot(db_path)
    with pytest.raises(InvalidPayment) as caught:
        engine.commit(struct_cart(good_line()), payments)
    assert str(caught.value).startswith(message)
    assert snapshot(db_path) == before


@pytest.mark.parametrize("wrong", [None, {"order_id": "o-1"}, 42, [b"{}"]])
def test_anything_but_a_cart_or_its_json_names_the_type_expected(
    engine: Engine, db_path: Path, wrong: Any
) -> None:
    before = snapshot(db_path)
    for entry in (engine.commit, engine.evaluate):
        with pytest.raises(InvalidCart) as caught:
            entry(wrong)
        name = "null" if wrong is None else type(wrong).__name__
        assert str(caught.value) == (f'$: expected a Cart or its JSON (bytes or str), got "{name}"')
    assert snapshot(db_path) == before


def test_the_pure_evaluate_and_explain_check_a_struct_too() -> None:
    from pos_promo import build_index, explain

    index = build_index((), StoreContext("s1"))
    bad = struct_cart(good_line(price=-1))
    with pytest.raises(
        InvalidCart, match=(r"^\$\.lines\[0\]\.unit_price: expected int >= 0, got -1$")
    ):
        pure_evaluate(bad, index)
    with pytest.raises(InvalidCart, match=r"^\$\.lines\[0\]\.unit_price"):
        explain(bad, index, "p1")
    with pytest.raises(
        InvalidCart, match=(r'^\$: expected a Cart or its JSON \(bytes or str\), got "dict"$')
    ):
        pure_evaluate({"order_id": "o"}, index)  # type: ignore[arg-type]
    assert pure_evaluate(dump(cart(line("A", 100))), index).total_discount == 0


def test_member_counts_built_in_python_are_checked_like_their_json() -> None:
    from pos_promo import build_index

    index = build_index((), StoreContext("s1"))
    good = dump(cart(line("A", 100)))
    bad = MemberCounts({"p1": ParticipationCount(total=-1)})
    for door in (bad, msgspec.json.encode(bad)):
        with pytest.raises(InvalidCart) as caught:
            pure_evaluate(good, index, counts=door)  # type: ignore[arg-type]
        # msgspec names no key inside a map: the path says "[...]"
        assert str(caught.value) == "$.participations[...].total: expected int >= 0"


def test_the_engines_explain_and_counts_go_through_the_same_doors(
    engine: Engine, db_path: Path
) -> None:
    before = snapshot(db_path)
    bad = struct_cart(good_line(price=-500))
    with pytest.raises(InvalidCart, match=r"^\$\.lines\[0\]\.unit_price: expected int >= 0"):
        engine.explain(bad, "p1")
    with pytest.raises(InvalidCart, match=r'^\$: expected a Cart or its JSON .*got "null"$'):
        engine.explain(None, "p1")  # type: ignore[arg-type]
    wrong = MemberCounts({"p1": ParticipationCount(today=-2)})
    for entry in (engine.evaluate, lambda c, counts: engine.explain(c, "p1", counts=counts)):
        with pytest.raises(InvalidCart) as caught:
            entry(struct_cart(good_line()), counts=wrong)
        assert str(caught.value) == "$.participations[...].today: expected int >= 0"
    assert snapshot(db_path) == before


def test_a_campaign_built_in_python_is_checked_like_its_json(engine: Engine, db_path: Path) -> None:
    period = Period(dt.datetime(2026, 12, 1), dt.datetime(2026, 1, 1))
    bad = SpendAndSave(id="p2", period=period, rule=SpendSave((SpendTier(1000, -5),)))
    before = snapshot(db_path)
    messages = []
    for door in ([bad], Catalog(campaigns=(bad,)), msgspec.json.encode([bad])):
        with pytest.raises(InvalidCampaign) as caught:
            engine.import_campaigns(door)
        messages.append(str(caught.value))
    assert messages[0] == messages[2] == "$[0].rule.tiers[0].save: expected int >= 1, got -5"
    assert messages[1] == "$.campaigns[0].rule.tiers[0].save: expected int >= 1, got -5"
    for wrong in (None, {"campaigns": []}, b"nope"[:0] or 7):
        with pytest.raises(InvalidCampaign, match=r"^\$: expected a Catalog, a list of campaigns"):
            engine.import_campaigns(wrong)  # type: ignore[arg-type]
    assert snapshot(db_path) == before


def test_coupons_built_in_python_are_checked_like_their_json(engine: Engine, db_path: Path) -> None:
    bad = Coupon("c1", "t1", "m1", AT, AT - dt.timedelta(days=1))
    before = snapshot(db_path)
    messages = []
    for door in ([bad], msgspec.json.encode([bad])):
        with pytest.raises(InvalidCoupon) as caught:
            engine.add_coupons(door)
        messages.append(str(caught.value))
    assert (
        messages
        == [
            "$[0].valid_until: must be after valid_from 2026-11-20T17:00:00+00:00, "
            'got "2026-11-19T17:00:00+00:00"'
        ]
        * 2
    )
    with pytest.raises(InvalidCoupon, match=r'^\$: expected a list of Coupon .*got "null"$'):
        engine.add_coupons(None)  # type: ignore[arg-type]
    assert snapshot(db_path) == before


def test_a_store_built_in_python_is_checked_like_its_json(tmp_path: Path) -> None:
    bad = StoreContext("s1", "Mars/Olympus_Mons")
    for door in (bad, msgspec.json.encode(bad)):
        with pytest.raises(InvalidStore) as caught:
            Engine.open(tmp_path / "t.db", door)  # type: ignore[arg-type]
        assert str(caught.value) == (
            '$.timezone: must be an IANA time zone such as Europe/Paris, got "Mars/Olympus_Mons"'
        )
    with pytest.raises(InvalidStore, match=r"^\$: expected a StoreContext or its JSON"):
        Engine.open(tmp_path / "t.db", {"id": "s1"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("order_id", "lines", "refund_id", "message"),
    [
        (None, None, None, '$.order_id: expected a string id, got "null"'),
        ("", None, None, '$.order_id: expected a string id of length 1 to 128, got ""'),
        (
            "o-1",
            ["A"],
            None,
            '$.lines: expected a mapping of line id to units, or null, got "list"',
        ),
        ("o-1", {"A": 0}, None, "$.lines['A']: must be a whole number >= 1, got 0"),
        ("o-1", {"A": True}, None, "$.lines['A']: must be a whole number >= 1, got true"),
        ("o-1", None, 12, '$.refund_id: expected a string id, got "int"'),
    ],
)
def test_a_refund_request_of_the_wrong_shape_is_refused_by_name(
    engine: Engine, db_path: Path, order_id: Any, lines: Any, refund_id: Any, message: str
) -> None:
    engine.commit(dump(cart(line("A", 5000, qty=2))))
    before = snapshot(db_path)
    with pytest.raises(InvalidRefund) as caught:
        engine.refund(order_id, lines, refund_id=refund_id)
    assert str(caught.value) == message
    assert snapshot(db_path) == before


def test_instants_given_as_arguments_are_checked(engine: Engine, db_path: Path) -> None:
    before = snapshot(db_path)
    good = dump(cart(line("A", 100)))
    with pytest.raises(
        InvalidCart, match=(r'^\$\.at: must carry a UTC offset, got "2026-11-20T17:00:00"$')
    ):
        engine.commit(good, at=dt.datetime(2026, 11, 20, 17))
    with pytest.raises(
        InvalidCart, match=(r'^\$\.at: must be in the years 1970 to 2999, got "9999-')
    ):
        engine.commit(good, at=dt.datetime(9999, 12, 31, tzinfo=dt.UTC))
    with pytest.raises(
        InvalidCart, match=(r'^\$\.at: expected a datetime with a UTC offset, got "str"$')
    ):
        engine.evaluate(good, at="2026-11-20T17:00:00Z")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"^now: must carry a UTC offset"):
        engine.release_gifts(dt.datetime(2026, 11, 20))
    assert snapshot(db_path) == before


def test_every_refusal_is_a_promo_error_and_a_value_error(engine: Engine) -> None:
    with pytest.raises(PromoError):
        engine.commit(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        engine.commit(struct_cart(good_line(price=-1)))


def test_a_good_struct_commits_as_its_json_would(engine: Engine, db_path: Path) -> None:
    good = struct_cart(good_line("A", 6000), good_line("B", 5000))
    result = engine.commit(good, [Payment("card", 10000)])
    assert (result.subtotal, result.total_discount, result.total) == (11000, 1000, 10000)
    stored = engine.order("o-1")
    assert stored.result.total == 10000
    assert STORE.id == "s1"
