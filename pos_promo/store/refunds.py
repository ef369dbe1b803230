"""Refunds of committed orders: re-evaluated by the engine, written here.

The store looks up what the engine needs (the order's cart and receipt, the
campaign, coupon template, sharing plan and execution order versions the
receipt names, the state the last refund left) and writes what the engine
decided: the refund record with the money back and the discount taken back
per benefit, the refunded units, the participations of promotions that no
longer apply, the coupons the kept units no longer use, and the events for
HQ. The caller holds the ``BEGIN IMMEDIATE`` transaction.

An order of an earlier release whose versions this till no longer has (it
kept only the newest version of each campaign then) cannot be re-evaluated;
its refunds reverse the returned units' own discounts (:mod:`.reversal`),
as that release did, and say so (``reevaluated`` false).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Collection, Mapping, Sequence

import msgspec

from pos_promo.engine.index import build_index
from pos_promo.engine.refunds import applied_benefits, reevaluate, settle, units_back
from pos_promo.errors import InvalidRefund, RefundExceedsSale, UnknownOrder
from pos_promo.model.cart import Cart, StoreContext
from pos_promo.model.events import OrderRefunded, ParticipationChanged
from pos_promo.model.order import OrderStatus, RefundLine, RefundRecord, TakenBack
from pos_promo.model.receipt import LineAllocation, Receipt
from pos_promo.store.counts import ParticipationRow, record_participations
from pos_promo.store.meta import till_identity
from pos_promo.store.orders import refunded_units
from pos_promo.store.outbox import add_events, event_id, legacy_event_id
from pos_promo.store.reversal import UNATTRIBUTED, refund_units
from pos_promo.store.versions import kept_campaigns, kept_order, kept_plans
from pos_promo.store.wallet import restore

__all__ = ["record_refund"]

_RECEIPT = msgspec.json.Decoder(Receipt)
_CART = msgspec.json.Decoder(Cart)
_REFUND = msgspec.json.Decoder(RefundRecord)
_encode = msgspec.json.Encoder().encode

EventRows = list[tuple[str, str, str, object]]


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
    store: StoreContext,
    order_id: str,
    lines: Mapping[str, int] | None,
    refund_id: str | None = None,
    at: dt.datetime | None = None,
) -> RefundRecord:
    """Refund some or all units of an order (inside a write transaction).

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
        "SELECT store_id, member_id, receipt, cart, total FROM orders WHERE order_id = ?",
        (order_id,),
    ).fetchone()
    if found is None:
        raise UnknownOrder(order_id)
    store_id, member, receipt_json, cart_json, total = found
    receipt = _RECEIPT.decode(receipt_json)
    earlier = [
        _REFUND.decode(record)
        for (record,) in conn.execute(
            "SELECT record FROM refunds WHERE order_id = ? ORDER BY seq", (order_id,)
        )
    ]
    seq = len(earlier) + 1
    rid = refund_id or event_id(store_id, order_id, f"refund/{seq}", till=till_identity(conn))
    refunded = refunded_units(conn, order_id)
    remaining = {
        line.line_id: line.quantity - refunded.get(line.line_id, 0) for line in receipt.lines
    }
    asked = _asked(order_id, lines, remaining)
    record = None
    if all(r.reevaluated for r in earlier):
        held = earlier[-1].kept if earlier else receipt.lines
        record = _reevaluated(
            conn,
            store,
            _CART.decode(cart_json),
            receipt,
            held,
            asked,
            total - sum(r.amount for r in earlier),
            (rid, order_id, seq, at),
        )
    if record is None:
        record = _reversed(receipt, refunded, asked, remaining, (rid, order_id, seq, at))
    back = {line.line_id: line.units for line in record.lines}
    return _write_refund(conn, store_id, member, receipt.inputs.local_date, record, back)


def _reevaluated(
    conn: sqlite3.Connection,
    store: StoreContext,
    cart: Cart,
    receipt: Receipt,
    held: Sequence[LineAllocation],
    asked: Mapping[str, int],
    paid_before: int,
    key: tuple[str, str, int, dt.datetime | None],
) -> RefundRecord | None:
    """The refund re-evaluated with the receipt; ``None`` if a version is not kept."""
    campaigns, missing = kept_campaigns(
        conn, [(ref.id, ref.version) for ref in receipt.campaigns if ref.applied]
    )
    inputs = receipt.inputs
    plans, missing_plans = kept_plans(conn, inputs.sharing_plans or ())
    order = None
    if inputs.execution_order_version is not None:
        order = kept_order(conn, inputs.execution_order_version)
        if order is None:
            return None
    if missing or missing_plans:
        return None
    held_units = {line.line_id: line.quantity for line in held}
    back = units_back(cart, held_units, asked)
    kept = {line_id: units - back.get(line_id, 0) for line_id, units in held_units.items()}
    context = msgspec.structs.replace(store, timezone=inputs.timezone)
    result = reevaluate(
        cart,
        kept,
        applied_benefits(receipt),
        build_index(campaigns, context),
        at=inputs.at,
        counts=inputs.counts,
        plans={pid: plan.sharing for pid, plan in plans.items()},
        wallet={coupon.id: coupon for coupon in inputs.wallet},
        order=order,
    )
    done = settle(held, back, paid_before, result)
    rid, order_id, seq, at = key
    return RefundRecord(
        refund_id=rid,
        order_id=order_id,
        seq=seq,
        lines=done.lines,
        amount=done.amount,
        discount=done.discount,
        benefits=done.benefits,
        order_fully_refunded=done.full,
        at=at,
        paid_before=done.paid_before,
        kept_cost=done.kept_cost,
        kept_discount_lost=done.kept_discount_lost,
        shortfall=done.shortfall,
        dropped=done.dropped,
        kept=done.kept,
        reevaluated=True,
    )


def _reversed(
    receipt: Receipt,
    refunded: Mapping[str, int],
    asked: Mapping[str, int],
    remaining: Mapping[str, int],
    key: tuple[str, str, int, dt.datetime | None],
) -> RefundRecord:
    """The earlier release's arithmetic: the returned units' own discounts."""
    back_lines: list[RefundLine] = []
    benefits: dict[str, int] = {}
    for line in receipt.lines:  # receipt order, so records read like the order
        units = asked.get(line.line_id)
        if not units:
            continue
        back = refund_units(line, refunded.get(line.line_id, 0), units)
        back_lines.append(RefundLine(line.line_id, back.units, back.amount, back.discount))
        for benefit, part in back.benefits.items():
            benefits[benefit] = benefits.get(benefit, 0) + part
    rid, order_id, seq, at = key
    amount = sum(x.amount for x in back_lines)
    return RefundRecord(
        refund_id=rid,
        order_id=order_id,
        seq=seq,
        lines=tuple(back_lines),
        amount=amount,
        discount=sum(x.discount for x in back_lines),
        benefits=tuple(TakenBack(k, v) for k, v in sorted(benefits.items()) if k != UNATTRIBUTED),
        order_fully_refunded=all(remaining[k] == asked.get(k, 0) for k in remaining),
        at=at,
        reevaluated=False,
    )


def _write_refund(
    conn: sqlite3.Connection,
    store: str,
    member: str | None,
    day: dt.date,
    record: RefundRecord,
    back: Mapping[str, int],
) -> RefundRecord:
    """Write the refund, its units, benefits, give-backs and events; the record
    completed with the participations and coupons it gave back."""
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
    # coupons), found by the +1 row's key: the ledger has no order_id index; an
    # order committed before the till drew its identity has the old keys
    till = till_identity(conn)

    def held(cid: str) -> bool:
        def has(name: str) -> bool:
            key = f"{name}/{cid}"
            ids = (event_id(store, order_id, key, till=till), legacy_event_id(store, order_id, key))
            return bool(
                conn.execute(
                    "SELECT 1 FROM participations WHERE event_id IN (?, ?)", ids
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
