"""Committed orders and their refunds: the rows, the ledger and the events.

Functions here write; the caller holds the ``BEGIN IMMEDIATE`` transaction
(:class:`pos_promo.embedded.Engine` does), so an order, its receipt, its
participations and its outbox events land together or not at all. The
commit path uses prepared ``execute`` only: sqlite-utils' table helpers
inspect the schema on every call (ARCHITECTURE, "Traps already measured").
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping, Sequence

import msgspec

from pos_promo.errors import InvalidRefund, RefundExceedsSale, UnknownOrder
from pos_promo.model.cart import Cart
from pos_promo.model.events import OrderRefunded, ParticipationChanged
from pos_promo.model.order import (
    OrderRecord,
    OrderStatus,
    Payment,
    RefundLine,
    RefundRecord,
)
from pos_promo.model.receipt import Receipt
from pos_promo.model.result import BenefitShare, EvaluationResult, LineResult
from pos_promo.store.counts import ParticipationRow, record_participations
from pos_promo.store.outbox import add_events, event_id
from pos_promo.store.reversal import UNATTRIBUTED, refund_units
from pos_promo.store.wallet import redeem, restore

__all__ = [
    "NOT_PARTICIPATIONS",
    "find_result",
    "load_order",
    "record_order",
    "record_refund",
    "refunded_units",
]

NOT_PARTICIPATIONS = frozenset({"coupon", "member_discount", "member_price"})
"""Applied kinds that are not campaigns a member takes part in: a participation
is an order in which a *promotion* gave a discount (SPEC §4), so member
benefits and coupons get no ledger row (coupons have their redemption)."""

_RESULT = msgspec.json.Decoder(EvaluationResult)
_RECEIPT = msgspec.json.Decoder(Receipt)
_CART = msgspec.json.Decoder(Cart)
_PAYMENTS = msgspec.json.Decoder(tuple[Payment, ...])
_REFUND = msgspec.json.Decoder(RefundRecord)
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
) -> None:
    """Write the order, its lines and benefits, participations, coupon
    redemptions and outbox events."""
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
        (event_id(store, order, "order.committed"), "order.committed", order, None)
    ]
    ledger: list[ParticipationRow] = []
    for a in result.applied:
        if a.kind in NOT_PARTICIPATIONS:
            continue
        eid = event_id(store, order, f"participation.recorded/{a.id}")
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


def _asked(
    order_id: str, lines: Mapping[str, int] | None, remaining: Mapping[str, int]
) -> dict[str, int]:
    """Validate the request: line id -> units to refund now."""
    if lines is None:
        wanted = {line_id: left for line_id, left in remaining.items() if left}
        if not wanted:
            raise RefundExceedsSale(order_id, None, 0, 0)
        return wanted
    if not lines:
        raise InvalidRefund("$.lines", "must name at least one line (or be null for all)", {})
    for line_id, units in lines.items():
        if line_id not in remaining:
            raise InvalidRefund(
                f"$.lines[{line_id!r}]", f"names no line of order {order_id!r}", line_id
            )
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise InvalidRefund(f"$.lines[{line_id!r}]", "must be a whole number >= 1", units)
        if units > remaining[line_id]:
            raise RefundExceedsSale(order_id, line_id, units, remaining[line_id])
    return dict(lines)


def record_refund(
    conn: sqlite3.Connection,
    order_id: str,
    lines: Mapping[str, int] | None,
    refund_id: str | None = None,
    at: dt.datetime | None = None,
) -> RefundRecord:
    """Reverse some or all units of an order (inside a write transaction).

    With ``refund_id`` the refund is idempotent: asking again with the same
    id returns the first record and writes nothing.
    """
    if refund_id is not None:
        row = conn.execute(
            "SELECT order_id, record FROM refunds WHERE refund_id = ?", (refund_id,)
        ).fetchone()
        if row is not None and row[0] == order_id:
            return _REFUND.decode(row[1])
        if row is not None:
            raise InvalidRefund("$.refund_id", f"is already used by order {row[0]!r}", refund_id)
    found = conn.execute(
        "SELECT store_id, member_id, receipt FROM orders WHERE order_id = ?",
        (order_id,),
    ).fetchone()
    if found is None:
        raise UnknownOrder(order_id)
    store, member, receipt_json = found
    receipt = _RECEIPT.decode(receipt_json)
    refunded = refunded_units(conn, order_id)
    remaining = {
        line.line_id: line.quantity - refunded.get(line.line_id, 0) for line in receipt.lines
    }
    asked = _asked(order_id, lines, remaining)
    seq = conn.execute("SELECT COUNT(*) FROM refunds WHERE order_id = ?", (order_id,)).fetchone()[0]
    seq += 1
    rid = refund_id or event_id(store, order_id, f"refund/{seq}")
    back_lines: list[RefundLine] = []
    benefits: dict[str, int] = {}
    for line in receipt.lines:  # receipt order, so records read like the order
        units = asked.get(line.line_id)
        if not units:
            continue
        back = refund_units(line, refunded.get(line.line_id, 0), units)
        back_lines.append(RefundLine(line.line_id, back.units, back.amount, back.discount))
        for key, part in back.benefits.items():
            benefits[key] = benefits.get(key, 0) + part
    full = all(remaining[k] == asked.get(k, 0) for k in remaining)
    record = RefundRecord(
        refund_id=rid,
        order_id=order_id,
        seq=seq,
        lines=tuple(back_lines),
        amount=sum(x.amount for x in back_lines),
        discount=sum(x.discount for x in back_lines),
        benefits=tuple(
            BenefitShare(k, v) for k, v in sorted(benefits.items()) if k != UNATTRIBUTED
        ),
        order_fully_refunded=full,
        at=at,
    )
    _write_refund(conn, store, member, receipt.inputs.local_date, record, asked, full)
    return record


def _write_refund(
    conn: sqlite3.Connection,
    store: str,
    member: str | None,
    day: dt.date,
    record: RefundRecord,
    asked: Mapping[str, int],
    full: bool,
) -> None:
    order_id = record.order_id
    conn.execute(
        "INSERT INTO refunds (refund_id, order_id, seq, at, amount, discount, full, record) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record.refund_id,
            order_id,
            record.seq,
            record.at.astimezone(dt.UTC).isoformat() if record.at else None,
            record.amount,
            record.discount,
            int(full),
            _encode(record),
        ),
    )
    conn.executemany(
        "INSERT INTO refund_benefits (refund_id, order_id, campaign_id, amount) "
        "VALUES (?, ?, ?, ?)",
        [(record.refund_id, order_id, b.benefit_id, b.amount) for b in record.benefits],
    )
    conn.executemany(
        "INSERT INTO line_refunds (order_id, line_id, units) VALUES (?, ?, ?) "
        "ON CONFLICT (order_id, line_id) DO UPDATE SET units = units + excluded.units",
        [(order_id, line_id, units) for line_id, units in asked.items()],
    )
    status: OrderStatus = "refunded" if full else "partially_refunded"
    conn.execute("UPDATE orders SET status = ? WHERE order_id = ?", (status, order_id))
    events: list[tuple[str, str, str, object]] = [
        (
            event_id(store, order_id, f"order.refunded/{record.seq}"),
            "order.refunded",
            order_id,
            OrderRefunded(store, record),
        )
    ]
    if full:
        events.extend(_give_back(conn, store, member, day, order_id))
        events.extend(restore(conn, store, order_id, member, record.refund_id, record.at))
    add_events(conn, events)


def _give_back(
    conn: sqlite3.Connection, store: str, member: str | None, day: dt.date, order_id: str
) -> Sequence[tuple[str, str, str, object]]:
    """A fully refunded order returns each participation it recorded."""
    benefits = [
        cid
        for (cid,) in conn.execute(
            "SELECT campaign_id FROM order_benefits WHERE order_id = ? ORDER BY campaign_id",
            (order_id,),
        )
    ]
    # the benefits that got a +1 at commit (promotions, not member benefits or
    # coupons), found by the +1 row's key: the ledger has no order_id index
    campaigns = [
        cid
        for cid in benefits
        if conn.execute(
            "SELECT 1 FROM participations WHERE event_id = ?",
            (event_id(store, order_id, f"participation.recorded/{cid}"),),
        ).fetchone()
    ]
    ledger: list[ParticipationRow] = []
    events: list[tuple[str, str, str, object]] = []
    for cid in campaigns:
        eid = event_id(store, order_id, f"participation.returned/{cid}")
        ledger.append((eid, order_id, cid, member, day.isoformat(), -1))
        events.append(
            (
                eid,
                "participation.changed",
                order_id,
                ParticipationChanged(order_id, store, cid, member, day, -1),
            )
        )
    record_participations(conn, ledger)
    return events
