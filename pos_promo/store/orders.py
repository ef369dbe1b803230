"""Committed orders: the rows, the ledger and the events (refunds: :mod:`.refunds`).

Functions here write; the caller holds the ``BEGIN IMMEDIATE`` transaction
(:class:`pos_promo.embedded.Engine` does), so an order, its receipt, its
participations and its outbox events land together or not at all. The
commit path uses prepared ``execute`` only: sqlite-utils' table helpers
inspect the schema on every call (ARCHITECTURE, "Traps already measured").
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import msgspec

from pos_promo.decoders import LazyDecoder
from pos_promo.errors import UnknownOrder
from pos_promo.model.cart import Cart
from pos_promo.model.events import ParticipationChanged
from pos_promo.model.order import OrderRecord, Payment, RefundRecord
from pos_promo.model.receipt import Receipt
from pos_promo.model.result import EvaluationResult, LineResult
from pos_promo.store.counts import ParticipationRow, record_participations
from pos_promo.store.outbox import add_events, order_event_id
from pos_promo.store.wallet import redeem

__all__ = [
    "NOT_PARTICIPATIONS",
    "find_result",
    "load_order",
    "record_order",
    "refunded_units",
]

NOT_PARTICIPATIONS = frozenset({"coupon", "member_discount", "member_price"})
"""Applied kinds that are not campaigns a member takes part in: a participation
is an order in which a *promotion* gave a discount (SPEC §4), so member
benefits and coupons get no ledger row (coupons have their redemption)."""

_RESULT = LazyDecoder[EvaluationResult](EvaluationResult)
_RECEIPT = LazyDecoder[Receipt](Receipt)
_CART = LazyDecoder[Cart](Cart)
_PAYMENTS = LazyDecoder[tuple[Payment, ...]](tuple[Payment, ...])
_REFUND = LazyDecoder[RefundRecord](RefundRecord)
_encode = msgspec.json.Encoder().encode


def find_result(conn: sqlite3.Connection, order_id: str) -> EvaluationResult | None:
    """The first result stored for ``order_id``, if that order was committed."""
    row = conn.execute(
        "SELECT result, receipt FROM orders WHERE order_id = ?", (order_id,)
    ).fetchone()
    return None if row is None else _stored_result(row[0], _RECEIPT.decode(row[1]))


def _stored_result(result_json: str | bytes, receipt: Receipt) -> EvaluationResult:
    """The result as committed, its lines rebuilt from the receipt's.

    The ``result`` column is written without ``lines``: the receipt keeps
    each line's item, quantity, unit price, unit discounts and benefit
    shares, from which every field of a :class:`LineResult` follows, so the
    row does not carry the same 30 lines twice. (Rows written before this
    kept their lines; those are read as stored.)
    """
    result = _RESULT.decode(result_json)
    if result.lines or not receipt.lines:
        return result
    lines = []
    for line in receipt.lines:
        subtotal = line.unit_price * line.quantity
        discount = sum(line.unit_discounts)
        lines.append(
            LineResult(
                line.line_id,
                line.item_id,
                line.quantity,
                subtotal,
                discount,
                subtotal - discount,
                line.benefits,
                line.unit_discounts,
            )
        )
    return msgspec.structs.replace(result, lines=tuple(lines))


def refunded_units(conn: sqlite3.Connection, order_id: str) -> dict[str, int]:
    """Units refunded so far, by line id (a line never refunded is absent)."""
    return dict(
        conn.execute("SELECT line_id, units FROM line_refunds WHERE order_id = ?", (order_id,))
    )


def record_order(
    conn: sqlite3.Connection,
    cart: Cart,
    result: EvaluationResult,
    receipt: Receipt,
    payments: tuple[Payment, ...],
    *,
    till: str,
) -> None:
    """Write the order, its lines and benefits, participations, coupon
    redemptions and outbox events (``till``: the database's identity, see
    :func:`pos_promo.store.meta.till_identity`, which the caller reads once)."""
    store, order = cart.store_id, cart.order_id
    inputs = receipt.inputs
    day = inputs.local_date.isoformat()
    member = inputs.member_id
    conn.execute(
        "INSERT INTO orders (order_id, store_id, at, local_date, member_id, subtotal, "
        "total_discount, total, status, result, receipt, payments, cart) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'committed', ?, ?, ?, ?)",
        (
            order,
            store,
            result.at.astimezone(dt.UTC).isoformat(),
            day,
            member,
            result.subtotal,
            result.total_discount,
            result.total,
            _encode(msgspec.structs.replace(result, lines=())),  # see _stored_result
            _encode(receipt),
            _encode(payments),
            _encode(cart),
        ),
    )
    conn.executemany(
        "INSERT INTO order_benefits (order_id, campaign_id, version, amount) VALUES (?, ?, ?, ?)",
        [(order, a.id, a.version, a.amount) for a in result.applied],
    )
    # The payload of order.committed is composed from this row when read
    # (see outbox.pending_events), so the receipt and cart are written once.
    events: list[tuple[str, str, str, object]] = [
        (
            order_event_id(store, order, "order.committed", till=till, at=result.at),
            "order.committed",
            order,
            None,
        )
    ]
    ledger: list[ParticipationRow] = []
    for a in result.applied:
        if a.kind in NOT_PARTICIPATIONS:
            continue
        eid = order_event_id(
            store, order, f"participation.recorded/{a.id}", till=till, at=result.at
        )
        ledger.append((eid, order, a.id, member, day, 1))
        events.append(
            (
                eid,
                "participation.changed",
                order,
                ParticipationChanged(order, store, a.id, member, inputs.local_date, 1),
            )
        )
    record_participations(conn, ledger)
    events.extend(redeem(conn, store, order, member, result.at, result.applied))
    add_events(conn, events)


def _refund_record(conn: sqlite3.Connection, order_id: str) -> list[RefundRecord]:
    return [
        _REFUND.decode(record)
        for (record,) in conn.execute(
            "SELECT record FROM refunds WHERE order_id = ? ORDER BY seq", (order_id,)
        )
    ]


def load_order(conn: sqlite3.Connection, order_id: str) -> OrderRecord:
    """A committed order with its first result, receipt, cart, payments and refunds (all a
    reprint needs); :class:`UnknownOrder` if none."""
    row = conn.execute(
        "SELECT status, result, receipt, payments, cart FROM orders WHERE order_id = ?",
        (order_id,),
    ).fetchone()
    if row is None:
        raise UnknownOrder(order_id)
    status, result_json, receipt_json, payments, cart = row
    receipt = _RECEIPT.decode(receipt_json)
    result = _stored_result(result_json, receipt)
    refunded = refunded_units(conn, order_id)
    remaining = {
        line.line_id: line.quantity - refunded.get(line.line_id, 0) for line in result.lines
    }
    return OrderRecord(
        order_id,
        status,
        result,
        receipt,
        _PAYMENTS.decode(payments),
        tuple(_refund_record(conn, order_id)),
        remaining,
        _CART.decode(cart),
    )
