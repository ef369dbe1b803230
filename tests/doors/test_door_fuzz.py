"""Fuzzing the doors: carts and payments, wild and plausible, through the
Python API (a struct and its JSON) and through the CLI. Each example ends in
a clean refusal with the database unchanged, or in a correct result with
exactly one order more."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pos_promo.cli import main
from pos_promo.embedded import Engine
from pos_promo.errors import InvalidCart, InvalidPayment, PromoError
from pos_promo.model.cart import Cart, Line, Member
from pos_promo.model.order import Payment
from tests.store.builders import STORE, campaign, dump

WILD_INT = st.one_of(
    st.sampled_from([-1, 0, 999, 1000, 1001, 2000, 10**6, 10**9, 10**10, 2**63, 10**18, 2**70]),
    st.integers(min_value=-(2**70), max_value=2**70),
)


# hypothesis leans to the first choice and to 0: "usually" is True first
USUALLY = st.sampled_from([True, True, True, True, False])
RARELY = st.sampled_from([False, False, False, True])


@st.composite
def some_int(draw: st.DrawFn, low: int, high: int) -> int:
    """Mostly plausible (``low``..``high``), one time in five anything at all."""
    if draw(USUALLY):
        return draw(st.integers(min_value=low, max_value=high))
    return draw(WILD_INT)


@st.composite
def some_id(draw: st.DrawFn) -> str:
    if draw(USUALLY):
        return draw(st.sampled_from(["A", "B", "C", "D", "E", "F"]))
    return draw(st.sampled_from(["", "x" * 129]))


@st.composite
def lines(draw: st.DrawFn, wild: bool) -> dict[str, Any]:
    """A line; only a ``wild`` one may hold values past the rules."""
    if not wild:
        price = draw(st.integers(0, 9_000))
        return {
            "line_id": draw(st.sampled_from(["A", "B", "C", "D", "E", "F"])),
            "item_id": draw(st.sampled_from(["steak", "soup", "tea"])),
            "quantity": draw(st.integers(1, 60)),
            "unit_price": price,
            "member_unit_price": draw(st.integers(0, price)),
        }
    doc: dict[str, Any] = {
        "line_id": draw(some_id()),
        "item_id": draw(st.sampled_from(["steak", "soup", "tea"])),
        "quantity": draw(some_int(1, 60)),
        "unit_price": draw(some_int(0, 9_000)),
    }
    if draw(RARELY):
        doc["member_unit_price"] = draw(some_int(0, 9_000))
    if draw(RARELY):
        doc["role"] = draw(st.sampled_from(["side", "modifier", "main"]))
        doc["parent_line_id"] = draw(some_id())
    return doc


@st.composite
def carts(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(0, 4)) if draw(RARELY) else draw(st.integers(1, 4))
    wild = draw(st.booleans())
    found = [draw(lines(wild)) for _ in range(count)]
    if not wild or draw(USUALLY):  # mostly unique line ids, sometimes not
        found = list({line["line_id"]: line for line in found}.values())
    doc: dict[str, Any] = {
        "order_id": "o-fuzz",
        "store_id": STORE.id,
        "at": "2026-11-20T17:00:00Z",
        "lines": found,
    }
    if draw(st.booleans()):
        doc["member"] = {"id": draw(some_id())}
    return doc


ANY_PAYMENTS = st.lists(
    st.fixed_dictionaries(
        {"tender": st.sampled_from(["cash", "card", "gold"]), "amount": some_int(0, 20_000)}
    ),
    max_size=3,
)
# mostly the exact total (worked out in the test) or none; sometimes anything
PAYMENTS = st.sampled_from(["exact", None, "any"]).flatmap(
    lambda kind: ANY_PAYMENTS if kind == "any" else st.just(kind)
)


SERIAL = itertools.count()


def as_struct(doc: dict[str, Any]) -> Cart:
    """The same cart built in Python: constructors check nothing."""
    built = [Line(**line) for line in doc["lines"]]
    member = Member(**doc["member"]) if "member" in doc else None
    at = dt.datetime.fromisoformat(doc["at"].replace("Z", "+00:00"))
    return Cart(doc["order_id"], doc["store_id"], tuple(built), at=at, member=member)


def counts(path: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return tuple(  # type: ignore[return-value]
            conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("orders", "outbox", "participations")
        )
    finally:
        conn.close()


def outcome(call: Any) -> Any:
    try:
        return call()
    except (InvalidCart, InvalidPayment) as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="module")
def fuzz_till() -> Any:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.db"
        with Engine.open(path, STORE, durability="normal") as engine:
            engine.import_campaigns(
                dump(
                    [
                        campaign("p1"),
                        campaign(
                            "p2", rule={"type": "items_free", "tiers": [{"buy": 2, "free": 1}]}
                        ),
                    ]
                )
            )
            yield engine, path


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=carts(), payments=PAYMENTS)
def test_python_api_refuses_cleanly_or_commits_one_correct_order(
    fuzz_till: tuple[Engine, Path], doc: dict[str, Any], payments: Any
) -> None:
    engine, path = fuzz_till
    doc["order_id"] = f"o-{next(SERIAL)}"
    data = json.dumps(doc).encode()
    struct = as_struct(doc)
    # both doors, same verdict, before anything is written
    assert outcome(lambda: engine.evaluate(data)) == outcome(lambda: engine.evaluate(struct))
    if payments == "exact":
        preview = outcome(lambda: engine.evaluate(data))
        total = 0 if isinstance(preview, str) else preview.total
        payments = [{"tender": "card", "amount": total}]
    before = counts(path)
    first = outcome(lambda: engine.commit(struct, payments))
    event(first[:40] if isinstance(first, str) else "committed")
    if isinstance(first, str):
        assert counts(path) == before
        assert first == outcome(lambda: engine.commit(data, payments))
        assert counts(path) == before
        return
    assert counts(path)[0] == before[0] + 1
    assert first.total == first.subtotal - first.total_discount >= 0
    assert sum(line.discount for line in first.lines) == first.total_discount
    if payments is not None:
        assert sum(p["amount"] for p in payments) == first.total
    stored = engine.order(doc["order_id"])
    assert stored.result.total == first.total
    again = engine.commit(data, payments)  # idempotent, whatever the door
    assert again.repeat
    assert msgspec.structs.replace(again, repeat=False) == first
    assert counts(path)[0] == before[0] + 1


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=carts(), payments=PAYMENTS, garble=st.sampled_from([0, 0, 0, 1, 7]))
def test_cli_commit_is_one_line_or_one_order(
    fuzz_till: tuple[Engine, Path],
    capsys: pytest.CaptureFixture[str],
    doc: dict[str, Any],
    payments: Any,
    garble: int,
) -> None:
    _, path = fuzz_till
    doc["order_id"] = f"cli-{next(SERIAL)}"
    with tempfile.TemporaryDirectory() as folder:
        cart_file = Path(folder) / "cart.json"
        text = json.dumps(doc)
        cart_file.write_text(text[:-garble] if garble else text)  # sometimes cut short
        argv = ["--db", str(path), "commit", "--cart", str(cart_file)]
        if payments == "exact":
            payments = None
        if payments is not None:
            pay_file = Path(folder) / "payments.json"
            pay_file.write_text(json.dumps(payments))
            argv += ["--payments", str(pay_file)]
        before = counts(path)
        capsys.readouterr()
        code = main(argv)
        out, err = capsys.readouterr()
    event(f"exit {code}")
    if code == 0:
        result = msgspec.json.decode(out)
        assert result["total"] == result["subtotal"] - result["total_discount"] >= 0
        assert counts(path)[0] == before[0] + 1
        assert err == ""
    else:
        assert code == 2, err
        assert out == ""
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err
        assert counts(path) == before


def test_payment_structs_and_dicts_are_one_door(fuzz_till: tuple[Engine, Path]) -> None:
    engine, _ = fuzz_till
    doc = {
        "order_id": "o-pay",
        "store_id": "s1",
        "at": "2026-11-20T17:00:00Z",
        "lines": [{"line_id": "A", "item_id": "tea", "quantity": 1, "unit_price": 300}],
    }
    assert (
        outcome(lambda: engine.commit(json.dumps(doc), [Payment("cash", -1)]))
        == outcome(lambda: engine.commit(json.dumps(doc), [{"tender": "cash", "amount": -1}]))
        == "InvalidPayment: $.payments[0].amount: expected int >= 0, got -1"
    )


REFUND_UNITS = st.sampled_from([1, 2, 0, -1, 3, 10**18, True, "2", 1.5, None])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    asked=st.sampled_from(["some", "some", None, "wild"]).flatmap(
        lambda kind: (
            st.just(None)
            if kind is None
            else st.dictionaries(st.sampled_from(["A", "B"]), st.integers(1, 3), min_size=1)
            if kind == "some"
            else st.dictionaries(st.sampled_from(["A", "B", "Z", ""]), REFUND_UNITS, max_size=3)
            | st.sampled_from([["A"], "A", 7])
        )
    ),
    order=st.sampled_from(["known", "known", "known", "unknown", None]),
)
def test_refund_requests_refuse_cleanly_or_give_back_what_was_asked(
    fuzz_till: tuple[Engine, Path], asked: Any, order: Any
) -> None:
    engine, path = fuzz_till
    order_id = f"r-{next(SERIAL)}"
    sold = {"A": 3, "B": 1}
    doc = {
        "order_id": order_id,
        "store_id": STORE.id,
        "at": "2026-11-20T17:00:00Z",
        "lines": [
            {"line_id": "A", "item_id": "steak", "quantity": 3, "unit_price": 4000},
            {"line_id": "B", "item_id": "soup", "quantity": 1, "unit_price": 900},
        ],
    }
    paid = engine.commit(json.dumps(doc)).total
    target = {"known": order_id, "unknown": "r-none"}.get(order) if order else None
    before = counts(path)
    try:
        record = engine.refund(target, asked)  # type: ignore[arg-type]
    except PromoError as exc:
        event(type(exc).__name__)
        assert str(exc).count("\n") == 0
        assert counts(path) == before
        return
    event("refunded")
    units = {line.line_id: line.units for line in record.lines}
    assert units == (sold if asked is None else asked)
    assert 0 <= record.amount <= paid
    left = engine.order(order_id).remaining_units
    assert left == {line: sold[line] - units.get(line, 0) for line in sold}
