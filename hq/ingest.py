"""Ingesting one pushed batch: all or nothing, one verdict per event.

The whole batch is applied in one write transaction, so a crash (or a
dropped connection) leaves all of it or none of it, and HQ answers only
after the commit. Per event:

* an id HQ already holds (or met earlier in the batch) is a ``duplicate``
  and changes nothing, except that the member state it touched is served
  again, so a till whose acknowledgement was lost can still confirm it;
* an event that cannot be used is ``rejected`` with its reason (malformed
  payload, unknown kind, another store's event, a refund of an order HQ
  never received, an order id already held under another event);
* anything else is ``accepted`` and applied: orders and refunds are kept,
  participation deltas add up per member and campaign across stores, a
  coupon redeemed by two orders is flagged (a ``coupon.restored`` event,
  sent when a full refund gives a coupon back, removes that redemption),
  each order's receipt is replayed (:mod:`hq.replay`) with any
  difference flagged, and cumulative gift events add up across stores
  (:mod:`hq.gifts`), reconciled once the whole batch is in: HQ grants what
  only the combined total reaches and merges grants stores made offline.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field

import msgspec
from pos_promo_hq.db import next_seq, write
from pos_promo_hq.gifts import GIFT_KINDS, GiftLedger, mark_redeemed, touch_gift_event
from pos_promo_hq.replay import ReplayCache, replay_order

from pos_promo.model.cart import StoreContext
from pos_promo.model.events import (
    CouponRedeemed,
    CouponRestored,
    Event,
    GiftAccrued,
    GiftCouponIssued,
    OrderCommitted,
    OrderRefunded,
    ParticipationChanged,
)
from pos_promo.sync.protocol import EventResult, PushEvent, PushRequest

__all__ = [
    "KNOWN_KINDS",
    "Ingestor",
]

_EVENT = msgspec.json.Decoder(Event)
KNOWN_KINDS = frozenset(
    {
        "coupon.redeemed",
        "coupon.restored",
        "order.committed",
        "order.refunded",
        "participation.changed",
        *GIFT_KINDS,
    }
)


class _Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Ingestor:
    """Applies batches for the stores HQ knows; one per server."""

    stores: dict[str, StoreContext]
    replay: bool = True
    cache: ReplayCache = field(default_factory=ReplayCache)

    def apply(
        self, conn: sqlite3.Connection, store_id: str, request: PushRequest, at: dt.datetime
    ) -> list[EventResult]:
        stamp = at.isoformat()
        results: list[EventResult] = []
        seen: set[str] = set()
        gifts = GiftLedger(self.stores)  # this batch's gift events, reconciled at its end
        with write(conn):
            for pushed in request.events:
                if pushed.id in seen or _held(conn, pushed.id):
                    if pushed.id not in seen:
                        self._touch(conn, pushed.id)
                    results.append(EventResult(pushed.id, "duplicate"))
                    seen.add(pushed.id)
                    continue
                seen.add(pushed.id)
                try:
                    event = self._decode(pushed, store_id)
                    self._apply(conn, store_id, pushed, event, stamp, gifts)
                except _Rejected as exc:
                    results.append(EventResult(pushed.id, "rejected", exc.reason))
                    continue
                conn.execute(
                    "INSERT INTO events (id, store_id, kind, order_id, payload, received_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        pushed.id,
                        store_id,
                        pushed.kind,
                        getattr(event, "order_id", None),
                        bytes(pushed.payload).decode(),
                        stamp,
                    ),
                )
                results.append(EventResult(pushed.id, "accepted"))
            gifts.reconcile(conn)
        return results

    @staticmethod
    def _decode(pushed: PushEvent, store_id: str) -> Event:
        if pushed.kind not in KNOWN_KINDS:
            raise _Rejected(f"unknown event kind {pushed.kind!r}")
        try:
            event: Event = _EVENT.decode(pushed.payload)
        except msgspec.MsgspecError as exc:
            raise _Rejected(f"malformed {pushed.kind} payload: {exc}") from None
        kind = type(event).__struct_config__.tag
        if kind != pushed.kind:
            raise _Rejected(f"payload kind {kind!r} does not match envelope kind {pushed.kind!r}")
        if event.store_id != store_id:
            raise _Rejected(f"event of store {event.store_id!r} pushed by store {store_id!r}")
        return event

    def _apply(
        self,
        conn: sqlite3.Connection,
        store_id: str,
        pushed: PushEvent,
        event: Event,
        stamp: str,
        gifts: GiftLedger,
    ) -> None:
        if isinstance(event, OrderCommitted):
            self._order(conn, store_id, pushed, event, stamp)
        elif isinstance(event, OrderRefunded):
            refund = event.refund
            known = conn.execute(
                "SELECT 1 FROM orders WHERE store_id = ? AND order_id = ?",
                (store_id, refund.order_id),
            ).fetchone()
            if known is None:
                raise _Rejected(f"refund of order {refund.order_id!r}, which HQ never received")
            conn.execute(
                "INSERT OR IGNORE INTO refunds (store_id, refund_id, order_id, amount, discount) "
                "VALUES (?, ?, ?, ?, ?)",
                (store_id, refund.refund_id, refund.order_id, refund.amount, refund.discount),
            )
        elif isinstance(event, CouponRedeemed):
            # order.committed (pushed before it) already recorded and flagged it
            conn.execute(
                "INSERT OR IGNORE INTO redemptions (coupon_id, store_id, order_id) "
                "VALUES (?, ?, ?)",
                (event.coupon_id, store_id, event.order_id),
            )
            mark_redeemed(conn, event.coupon_id, True)  # HQ's wallet, served as member state
        elif isinstance(event, CouponRestored):
            conn.execute(
                "DELETE FROM redemptions WHERE coupon_id = ? AND store_id = ? AND order_id = ?",
                (event.coupon_id, store_id, event.order_id),
            )
            mark_redeemed(conn, event.coupon_id, False)
        elif isinstance(event, ParticipationChanged):
            _participation(conn, event)
        elif isinstance(event, GiftAccrued | GiftCouponIssued):
            gifts.apply(conn, store_id, pushed.id, event)
        else:  # a kind the event union has but this HQ does not apply
            raise _Rejected(f"HQ does not apply {pushed.kind!r} events")

    def _order(
        self,
        conn: sqlite3.Connection,
        store_id: str,
        pushed: PushEvent,
        event: OrderCommitted,
        stamp: str,
    ) -> None:
        held = conn.execute(
            "SELECT event_id FROM orders WHERE store_id = ? AND order_id = ?",
            (store_id, event.order_id),
        ).fetchone()
        if held is not None:
            raise _Rejected(f"order {event.order_id!r} is already held under event {held[0]}")
        conn.execute(
            "INSERT INTO orders (store_id, order_id, event_id, member_id, at, local_date, "
            "subtotal, total_discount, total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                store_id,
                event.order_id,
                pushed.id,
                event.member_id,
                event.at.isoformat(),
                event.local_date.isoformat(),
                event.subtotal,
                event.total_discount,
                event.total,
            ),
        )
        _redemptions(conn, store_id, event, stamp)
        if not self.replay:
            return
        store = self.stores.get(store_id, StoreContext(store_id))
        differences = replay_order(conn, event, store, self.cache)
        for difference in differences:
            _flag(conn, "receipt_divergence", store_id, event.order_id, None, difference, stamp)

    def _touch(self, conn: sqlite3.Connection, event_id: str) -> None:
        """Serve again the member state a repeated event touched."""
        row = conn.execute("SELECT kind, payload FROM events WHERE id = ?", (event_id,)).fetchone()
        if row is not None and row[0] in ("coupon.redeemed", "coupon.restored"):
            coupon = _EVENT.decode(row[1])
            assert isinstance(coupon, CouponRedeemed | CouponRestored)
            conn.execute(  # the till confirms its redemption by this coupon's state
                "UPDATE wallet_coupons SET seq = ? WHERE coupon_id = ?",
                (next_seq(conn), coupon.coupon_id),
            )
            return
        if row is not None and row[0] in GIFT_KINDS:
            gift = _EVENT.decode(row[1])
            assert isinstance(gift, GiftAccrued | GiftCouponIssued)
            touch_gift_event(conn, gift)
            return
        if row is None or row[0] != "participation.changed":
            return
        event = _EVENT.decode(row[1])
        assert isinstance(event, ParticipationChanged)
        if event.member_id is not None:
            conn.execute(
                "UPDATE participation_counts SET seq = ? WHERE member_id = ? AND campaign_id = ?",
                (next_seq(conn), event.member_id, event.campaign_id),
            )


def _held(conn: sqlite3.Connection, event_id: str) -> bool:
    return conn.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)).fetchone() is not None


def _participation(conn: sqlite3.Connection, event: ParticipationChanged) -> None:
    if event.member_id is None:
        return  # an anonymous order cannot be counted against a member's limit
    conn.execute(
        "INSERT INTO participation_counts (member_id, campaign_id, total, seq) "
        "VALUES (?, ?, ?, ?) ON CONFLICT(member_id, campaign_id) DO UPDATE SET "
        "total = total + excluded.total, seq = excluded.seq",
        (event.member_id, event.campaign_id, event.delta, next_seq(conn)),
    )
    conn.execute(
        "INSERT INTO participation_days (member_id, campaign_id, local_date, count) "
        "VALUES (?, ?, ?, ?) ON CONFLICT(member_id, campaign_id, local_date) DO UPDATE SET "
        "count = count + excluded.count",
        (event.member_id, event.campaign_id, event.local_date.isoformat(), event.delta),
    )


def _redemptions(
    conn: sqlite3.Connection, store_id: str, event: OrderCommitted, stamp: str
) -> None:
    """Record the coupons this order redeemed; flag one another order already redeemed.

    A presented coupon counts as redeemed when it took part of a line's
    discount (a coupon that saves nothing is not redeemed, SPEC §5).
    """
    presented = set(event.receipt.inputs.coupons)
    used = {
        share.benefit_id
        for line in event.receipt.lines
        for share in line.benefits
        if share.benefit_id in presented
    }
    for coupon in sorted(used):
        earlier = conn.execute(
            "SELECT store_id, order_id FROM redemptions WHERE coupon_id = ? "
            "AND NOT (store_id = ? AND order_id = ?)",
            (coupon, store_id, event.order_id),
        ).fetchone()
        conn.execute(
            "INSERT OR IGNORE INTO redemptions (coupon_id, store_id, order_id) VALUES (?, ?, ?)",
            (coupon, store_id, event.order_id),
        )
        if earlier is not None:
            _flag(
                conn,
                "coupon_redeemed_twice",
                store_id,
                event.order_id,
                coupon,
                f"coupon {coupon} already redeemed by order {earlier[1]} at store {earlier[0]}",
                stamp,
            )


def _flag(
    conn: sqlite3.Connection,
    kind: str,
    store_id: str,
    order_id: str | None,
    subject: str | None,
    detail: str,
    stamp: str,
) -> None:
    conn.execute(
        "INSERT INTO flags (kind, store_id, order_id, subject, detail, at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (kind, store_id, order_id, subject, detail, stamp),
    )
