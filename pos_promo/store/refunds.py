"""Refunds of committed orders: what the store reads for one, and how it records one.

The embedded engine orchestrates a refund (:mod:`pos_promo.till.refunds`):
this module reads what the engine needs to decide it (:func:`find_refund`
for a retried refund id, :func:`load_sale` for the order's cart, receipt,
total and earlier refunds; :mod:`.versions` for the versions its receipt
names), the engine decides the record (:mod:`pos_promo.engine.refund_orders`),
and :func:`write_refund` writes it: the refund record, the refunded units,
the discount taken back per benefit, the participations of promotions that
no longer apply, the coupons the kept units no longer use, and the events
for HQ. The caller holds the ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Collection, Mapping

import msgspec

from pos_promo.errors import InvalidRefund, UnknownOrder
from pos_promo.model.cart import Cart
from pos_promo.model.events import OrderRefunded, ParticipationChanged
from pos_promo.model.order import OrderStatus, RefundRecord
from pos_promo.model.receipt import Receipt
from pos_promo.store.counts import ParticipationRow, record_participations
from pos_promo.store.meta import till_identity
from pos_promo.store.orders import refunded_units
from pos_promo.store.outbox import add_events, event_id, legacy_event_id, order_event_id
from pos_promo.store.wallet import restore

__all__ = ["Sale", "find_refund", "load_sale", "refund_id_for", "write_refund"]

_RECEIPT = msgspec.json.Decoder(Receipt)
_CART = msgspec.json.Decoder(Cart)
_REFUND = msgspec.json.Decoder(RefundRecord)
_encode = msgspec.json.Encoder().encode

EventRows = list[tuple[str, str, str, object]]


class Sale(msgspec.Struct, frozen=True):
    """A committed order as a refund finds it: what was sold and what is left.

    ``earlier`` are its refunds so far, in order; ``refunded`` the units
    they took back per line; ``remaining`` the units still held per line.
    """

    store_id: str
    member_id: str | None
    cart: Cart
    receipt: Receipt
    total: int
    earlier: tuple[RefundRecord, ...]
    refunded: Mapping[str, int]

    @property
    def remaining(self) -> dict[str, int]:
        """Units each line of the receipt still holds."""
        return {
            line.line_id: line.quantity - self.refunded.get(line.line_id, 0)
            for line in self.receipt.lines
        }


def find_refund(conn: sqlite3.Connection, order_id: str, refund_id: str) -> RefundRecord | None:
    """The record of a refund already written under ``refund_id`` for this order.

    A retried refund returns it and writes nothing; an id another order
    used is refused, since two refunds must never share an id.
    """
    row = conn.execute(
        "SELECT order_id, record FROM refunds WHERE refund_id = ?", (refund_id,)
    ).fetchone()
    if row is None:
        return None
    if row[0] != order_id:
        raise InvalidRefund("$.refund_id", f"is already used by order {row[0]!r}", refund_id)
    return _REFUND.decode(row[1])


def load_sale(conn: sqlite3.Connection, order_id: str) -> Sale:
    """The order as sold and as its refunds left it; :class:`UnknownOrder` if none."""
    found = conn.execute(
        "SELECT store_id, member_id, receipt, cart, total FROM orders WHERE order_id = ?",
        (order_id,),
    ).fetchone()
    if found is None:
        raise UnknownOrder(order_id)
    store_id, member, receipt_json, cart_json, total = found
    earlier = tuple(
        _REFUND.decode(record)
        for (record,) in conn.execute(
            "SELECT record FROM refunds WHERE order_id = ? ORDER BY seq", (order_id,)
        )
    )
    return Sale(
        store_id,
        member,
        _CART.decode(cart_json),
        _RECEIPT.decode(receipt_json),
        total,
        earlier,
        refunded_units(conn, order_id),
    )


def refund_id_for(conn: sqlite3.Connection, store_id: str, order_id: str, seq: int) -> str:
    """The id of the order's ``seq``-th refund when the caller named none:
    derived from this till's identity, so it is unique across tills."""
    return event_id(store_id, order_id, f"refund/{seq}", till=till_identity(conn))


def write_refund(
    conn: sqlite3.Connection,
    store: str,
    member: str | None,
    day: dt.date,
    record: RefundRecord,
    back: Mapping[str, int],
) -> RefundRecord:
    """Write the refund the engine decided, its units, benefits, give-backs and
    events; the record completed with the participations and coupons it gave
    back. ``back`` is the units going back per line, ``day`` the order's
    local date (the day whose participation count gives one back)."""
    order_id, full = record.order_id, record.order_fully_refunded
    events: EventRows = []
    # a promotion that no longer applies gives its participation back, and a
    # coupon the kept units no longer use goes back to the wallet; a full
    # refund gives back whatever is left of both
    events.extend(_give_back(conn, store, member, day, order_id, None if full else record.dropped))
    if full or record.dropped:
        events.extend(
            restore(
                conn,
                store,
                order_id,
                member,
                record.refund_id,
                record.at,
                None if full else record.dropped,
            )
        )
    record = _completed(record, events)
    events.insert(
        0,
        (
            event_id(store, order_id, f"order.refunded/{record.seq}", till=till_identity(conn)),
            "order.refunded",
            order_id,
            OrderRefunded(store, record),
        ),
    )
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
        [(order_id, line_id, units) for line_id, units in back.items() if units],
    )
    status: OrderStatus = "refunded" if full else "partially_refunded"
    conn.execute("UPDATE orders SET status = ? WHERE order_id = ?", (status, order_id))
    add_events(conn, events)
    return record


def _completed(record: RefundRecord, events: EventRows) -> RefundRecord:
    """The record with the participations and coupons its events gave back."""
    returned, restored = [], []
    for _eid, kind, _order, payload in events:
        if kind == "participation.changed" and isinstance(payload, ParticipationChanged):
            returned.append(payload.campaign_id)
        elif kind == "coupon.restored":
            restored.append(str(getattr(payload, "coupon_id", "")))
    return msgspec.structs.replace(
        record,
        participations_returned=tuple(sorted(returned)),
        coupons_restored=tuple(sorted(restored)),
    )


def _give_back(
    conn: sqlite3.Connection,
    store: str,
    member: str | None,
    day: dt.date,
    order_id: str,
    only: Collection[str] | None,
) -> EventRows:
    """Return the participation of each promotion in ``only`` (``None``: every
    one) that the order recorded and has not returned yet."""
    benefits = [
        cid
        for (cid,) in conn.execute(
            "SELECT campaign_id FROM order_benefits WHERE order_id = ? ORDER BY campaign_id",
            (order_id,),
        )
        if only is None or cid in only
    ]

    # the benefits that got a +1 at commit (promotions, not member benefits or
    # coupons), found by the +1 row's key: the ledger has no order_id index. The
    # key has the form of the release that committed the order: led by the
    # order's instant, or not, or (before the till drew its identity) the old one
    till = till_identity(conn)
    (stamp,) = conn.execute("SELECT at FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    ordered_at = dt.datetime.fromisoformat(stamp)

    def held(cid: str) -> bool:
        def has(name: str) -> bool:
            key = f"{name}/{cid}"
            ids = (
                order_event_id(store, order_id, key, till=till, at=ordered_at),
                event_id(store, order_id, key, till=till),
                legacy_event_id(store, order_id, key),
            )
            return bool(
                conn.execute(
                    "SELECT 1 FROM participations WHERE event_id IN (?, ?, ?)", ids
                ).fetchone()
            )

        return has("participation.recorded") and not has("participation.returned")

    ledger: list[ParticipationRow] = []
    events: EventRows = []
    for cid in filter(held, benefits):
        eid = event_id(store, order_id, f"participation.returned/{cid}", till=till)
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
