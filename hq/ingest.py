"""Ingesting one pushed batch: all or nothing, one verdict per event.

The whole batch is applied in one write transaction, so a crash (or a
dropped connection) leaves all of it or none of it, and HQ answers only
after the commit. Events are owned by the store that first sent them. Per
event:

* an id this store already sent with the same kind and byte-identical
  payload (or met earlier in the batch) is a ``duplicate`` and changes
  nothing, except that the member state it touched is served again, so a
  till whose acknowledgement was lost can still confirm it;
* an id another store holds is ``refused``, never "duplicate": one store
  cannot make another's event vanish by sending its id first;
* an id this store sent before with another kind or payload is a
  ``conflict``: nothing changes and HQ flags it (``event_conflict``);
* an event that cannot be used is ``rejected`` with its reason (malformed
  payload, unknown kind, another store's event, a refund of an order HQ
  never received, a grant or coupon id that does not follow from its
  content);
* anything else is ``accepted`` and applied: orders (keyed by store, order
  id and copy: a second, different order under one key, say from a second
  till reusing an order number, is kept as the next copy and flagged
  ``order_conflict``, never dropped) and refunds are kept, participation
  deltas add up per member and campaign across stores, a coupon redeemed by
  two orders is flagged (a ``coupon.restored`` event, sent when a full
  refund gives a coupon back, removes that redemption), each order goes on
  the replay queue (:mod:`.replay`, worked off the hot path) with the
  member's counts as it arrived, and cumulative gift events add up across
  stores (:mod:`.gifts`), reconciled once the whole batch is in.

A store that sends an event naming a member has served that member, and
may read its state from then on (:mod:`.members`).

New orders and participations, nearly all of what tills push, are written
set-based (:mod:`.batch`): everything the verdicts need is read in one
round trip before the first event, and their rows go in one pipelined
statement per table with the commit; an event that reads what earlier
ones wrote is applied on its own after those rows are flushed.

Exactly-once holds across HQ processes by the database: the event id is a
primary key (a concurrent insert of the same id makes one transaction fail
and retry, and then see the other's), and one store's pushes take turns
under a lock held until commit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import msgspec
import psycopg
from pos_promo_hq.batch import BatchWrites, Known
from pos_promo_hq.db import Connection, next_seq
from pos_promo_hq.gifts import GIFT_KINDS, GiftLedger, mark_redeemed, touch_gift_event
from pos_promo_hq.ledger import record_order, record_participation, record_refund
from pos_promo_hq.members import link_member
from pos_promo_hq.replay import enqueue_refund_replay, enqueue_replay

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

log = logging.getLogger("hq")
_ATTEMPTS = 5  # a batch that met a concurrent one (same id, a deadlock) runs again

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


class _SameOrder(Exception):
    """The order HQ holds under this key, sent again under another event id."""


class _Raced(Exception):
    """Another transaction stored this event id first: run the batch again."""


@dataclass
class Ingestor:
    """Applies batches for the stores HQ knows; one per server process.

    ``replay`` puts each order on the replay queue; ``on_enqueued`` is
    called after a commit that queued any (to wake this process's worker).
    """

    stores: dict[str, StoreContext]
    replay: bool = True
    on_enqueued: Callable[[], None] | None = None

    def apply(
        self, conn: Connection, store_id: str, request: PushRequest, at: dt.datetime
    ) -> list[EventResult]:
        """Record one pushed batch of a store's events and answer each event's fate. A batch that
        meets a concurrent one for the same rows (another worker, a deadlock PostgreSQL broke) is
        simply run again, a few times: the ids make every event idempotent, so a rerun never
        counts twice."""
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                results, queued = self._batch(conn, store_id, request, at)
            except (_Raced, psycopg.errors.DeadlockDetected, psycopg.errors.UniqueViolation):
                if attempt == _ATTEMPTS:
                    raise
                log.info("batch of store %s met a concurrent one; again (%d)", store_id, attempt)
                continue
            if queued and self.on_enqueued is not None:
                self.on_enqueued()
            return results
        raise AssertionError("unreachable")

    def _batch(
        self, conn: Connection, store_id: str, request: PushRequest, at: dt.datetime
    ) -> tuple[list[EventResult], bool]:
        stamp = at.isoformat()
        results: list[EventResult] = []
        seen: dict[str, tuple[str, str]] = {}
        served: set[str] = set()  # members this batch linked (or found linked)
        queued = False
        gifts = GiftLedger(self.stores)  # this batch's gift events, reconciled at its end
        decoded = {  # before the transaction: SQLite's writers wait on it
            n: self._try_decode(pushed, store_id) for n, pushed in enumerate(request.events)
        }
        with _committed_by_last_flush(conn):
            with conn.pipeline():  # the lock and every read in one round trip
                conn.lock(f"ingest:{store_id}")  # one store's pushes take turns
                known = Known.read(
                    conn,
                    store_id,
                    [pushed.id for pushed in request.events],
                    [e for e in decoded.values() if not isinstance(e, _Rejected)],
                )
            held, taken = known.holders, known.orders
            served |= known.linked
            writes = BatchWrites(store_id, stamp, known.participations, self.replay)
            for n, pushed in enumerate(request.events):
                payload = bytes(pushed.payload).decode()
                holder = seen.get(pushed.id)
                holding = (store_id, *holder) if holder else held.get(pushed.id)
                if holding is not None:
                    writes.flush(conn)  # a repeat or conflict may flag or renumber
                    results.append(
                        self._held(
                            conn, store_id, pushed, payload, holding, holder is not None, stamp
                        )
                    )
                    continue
                event = decoded[n]
                if isinstance(event, _Rejected):
                    results.append(EventResult(pushed.id, "rejected", event.reason))
                    continue  # not held: the same id may come again, fixed
                seen[pushed.id] = (pushed.kind, payload)
                order_id = (
                    event.refund.order_id
                    if isinstance(event, OrderRefunded)
                    else getattr(event, "order_id", None)
                )
                plain = _plain(event, taken)
                if plain:
                    if isinstance(event, OrderCommitted):
                        writes.order(pushed.id, event)
                    elif isinstance(event, ParticipationChanged):
                        writes.participation(pushed.id, event)
                    writes.event(pushed.id, pushed.kind, order_id, payload)
                    note = ""
                else:
                    writes.flush(conn)  # what follows reads what came before
                    try:
                        note = self._apply(conn, store_id, pushed, event, stamp, gifts)
                    except _Rejected as exc:
                        del seen[pushed.id]  # not held: the same id may come again, fixed
                        results.append(EventResult(pushed.id, "rejected", exc.reason))
                        continue
                    except _SameOrder:
                        results.append(EventResult(pushed.id, "duplicate"))
                        continue
                    _store_event(conn, store_id, pushed, order_id, payload, stamp)
                if isinstance(event, OrderCommitted):
                    taken.add(event.order_id)
                member = _member(event)
                if isinstance(member, str) and member not in served:
                    if plain:
                        writes.link(member)
                    else:
                        link_member(conn, store_id, member, "served", stamp)
                    served.add(member)
                queued |= isinstance(event, OrderCommitted | OrderRefunded) and self.replay
                results.append(EventResult(pushed.id, "accepted", note))
            gifts.reconcile(conn)
            writes.flush(conn, request.backlog, last=True)  # ... and commits
        return results, queued

    def _try_decode(self, pushed: PushEvent, store_id: str) -> Event | _Rejected:
        try:
            return self._decode(pushed, store_id)
        except _Rejected as exc:
            return exc

    def _held(
        self,
        conn: Connection,
        store_id: str,
        pushed: PushEvent,
        payload: str,
        holder: tuple[str, str, str],
        in_batch: bool,
        stamp: str,
    ) -> EventResult:
        """The verdict on an id HQ (or this batch) already holds."""
        owner, kind, held_payload = holder
        if owner != store_id:
            return EventResult(pushed.id, "refused", "this event id belongs to another store")
        if (kind, held_payload) != (pushed.kind, payload):
            reason = "this store sent this event id before with a different payload"
            _flag_once(conn, "event_conflict", store_id, pushed.id, reason, stamp)
            return EventResult(pushed.id, "conflict", reason)
        if not in_batch:
            self._touch(conn, pushed.id)
        return EventResult(pushed.id, "duplicate")

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
        conn: Connection,
        store_id: str,
        pushed: PushEvent,
        event: Event,
        stamp: str,
        gifts: GiftLedger,
    ) -> str:
        """Apply one event; a note for its verdict (empty but for a conflicting order)."""
        if isinstance(event, OrderCommitted):
            note = self._order(conn, store_id, pushed, event, stamp)
            if not note:  # a conflicting copy is flagged, not counted
                record_order(conn, pushed.id, event)
            return note
        if isinstance(event, OrderRefunded):
            refund = event.refund
            known = conn.execute(
                "SELECT 1 FROM orders WHERE store_id = ? AND order_id = ?",
                (store_id, refund.order_id),
            ).fetchone()
            if known is None:
                raise _Rejected(f"refund of order {refund.order_id!r}, which HQ never received")
            cur = conn.execute(
                "INSERT INTO refunds (store_id, refund_id, order_id, amount, discount) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (store_id, refund.refund_id, refund.order_id, refund.amount, refund.discount),
            )
            if cur.rowcount == 1:  # a refund id HQ already holds is counted once
                record_refund(conn, pushed.id, event)
            if self.replay:  # re-run with the same engine off the hot path, like orders
                enqueue_refund_replay(conn, pushed.id, store_id, refund.order_id, stamp)
        elif isinstance(event, CouponRedeemed):
            # order.committed (pushed before it) already recorded and flagged it
            conn.execute(
                "INSERT INTO redemptions (coupon_id, store_id, order_id) "
                "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (event.coupon_id, store_id, event.order_id),
            )
            mark_redeemed(
                conn, event.coupon_id, True, event.member_id
            )  # HQ's wallet, served as member state
        elif isinstance(event, CouponRestored):
            conn.execute(
                "DELETE FROM redemptions WHERE coupon_id = ? AND store_id = ? AND order_id = ?",
                (event.coupon_id, store_id, event.order_id),
            )
            mark_redeemed(conn, event.coupon_id, False, event.member_id)
        elif isinstance(event, ParticipationChanged):
            _participation(conn, event)
            record_participation(conn, pushed.id, event)
        elif isinstance(event, GiftAccrued | GiftCouponIssued):
            reason = gifts.apply(conn, store_id, pushed.id, event)
            if reason:
                raise _Rejected(reason)
        else:  # a kind the event union has but this HQ does not apply
            raise _Rejected(f"HQ does not apply {pushed.kind!r} events")
        return ""

    def _order(
        self,
        conn: Connection,
        store_id: str,
        pushed: PushEvent,
        event: OrderCommitted,
        stamp: str,
    ) -> str:
        """Keep the order under (store, order id, copy); queue its replay."""
        values = (
            pushed.id,
            event.member_id,
            event.at.isoformat(),
            event.local_date.isoformat(),
            event.subtotal,
            event.total_discount,
            event.total,
        )
        insert = (
            "INSERT INTO orders (store_id, order_id, copy, event_id, member_id, at, local_date, "
            "subtotal, total_discount, total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        cur = conn.execute(
            insert + " ON CONFLICT DO NOTHING", (store_id, event.order_id, 0, *values)
        )
        note = ""
        if cur.rowcount != 1:
            held = conn.execute(
                "SELECT o.event_id, e.payload FROM orders o JOIN events e ON e.id = o.event_id "
                "WHERE o.store_id = ? AND o.order_id = ? ORDER BY o.copy",
                (store_id, event.order_id),
            ).fetchall()
            if any(payload == bytes(pushed.payload).decode() for _, payload in held):
                raise _SameOrder(pushed.id)
            copy = len(held)
            conn.execute(insert, (store_id, event.order_id, copy, *values))
            note = (
                f"order {event.order_id!r} is already held under event {held[0][0]}: "
                f"kept as copy {copy} and flagged at HQ"
            )
            _flag(conn, "order_conflict", store_id, event.order_id, pushed.id, note, stamp)
        _redemptions(conn, store_id, event, stamp)
        if self.replay:
            enqueue_replay(conn, pushed.id, store_id, event, stamp)
        return note

    def _touch(self, conn: Connection, event_id: str) -> None:
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


@contextlib.contextmanager
def _committed_by_last_flush(conn: Connection) -> Iterator[None]:
    """A write transaction the block commits itself (its last flush sends COMMIT with
    its writes), rolled back on any exception."""
    conn.begin()
    try:
        yield
    except BaseException:
        conn.rollback()
        raise


def _member(event: Event) -> str | None:
    member = getattr(event, "member_id", None)
    return member if isinstance(member, str) else None


def _plain(event: Event, taken: set[str]) -> bool:
    """Whether the event can be written with the batch's set-based writes: a
    participation, or a new order (an id the store never used) redeeming no coupon."""
    if isinstance(event, ParticipationChanged):
        return True
    return (
        isinstance(event, OrderCommitted) and event.order_id not in taken and not _redeemed(event)
    )


def _store_event(
    conn: Connection,
    store_id: str,
    pushed: PushEvent,
    order_id: str | None,
    payload: str,
    stamp: str,
) -> None:
    cur = conn.execute(
        "INSERT INTO events (id, store_id, kind, order_id, payload, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (pushed.id, store_id, pushed.kind, order_id, payload, stamp),
    )
    if cur.rowcount != 1:
        raise _Raced(pushed.id)


def _participation(conn: Connection, event: ParticipationChanged) -> None:
    if event.member_id is None:
        return  # an anonymous order cannot be counted against a member's limit
    conn.execute(
        "INSERT INTO participation_counts (member_id, campaign_id, total, seq) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (member_id, campaign_id) DO UPDATE SET "
        "total = participation_counts.total + excluded.total, seq = excluded.seq",
        (event.member_id, event.campaign_id, event.delta, next_seq(conn)),
    )
    conn.execute(
        "INSERT INTO participation_days (member_id, campaign_id, local_date, count) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (member_id, campaign_id, local_date) DO UPDATE SET "
        "count = participation_days.count + excluded.count",
        (event.member_id, event.campaign_id, event.local_date.isoformat(), event.delta),
    )


def _redemptions(conn: Connection, store_id: str, event: OrderCommitted, stamp: str) -> None:
    """Record the coupons this order redeemed; flag one another order already redeemed.

    A presented coupon counts as redeemed when it took part of a line's
    discount (a coupon that saves nothing is not redeemed, SPEC §5).
    """
    for coupon in _redeemed(event):
        earlier = conn.execute(
            "SELECT store_id, order_id FROM redemptions WHERE coupon_id = ? "
            "AND NOT (store_id = ? AND order_id = ?)",
            (coupon, store_id, event.order_id),
        ).fetchone()
        conn.execute(
            "INSERT INTO redemptions (coupon_id, store_id, order_id) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
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


def _redeemed(event: OrderCommitted) -> list[str]:
    """The coupons the order redeemed: those that took part of a line's discount."""
    presented = set(event.receipt.inputs.coupons)
    return sorted(
        {
            share.benefit_id
            for line in event.receipt.lines
            for share in line.benefits
            if share.benefit_id in presented
        }
    )


def _flag(
    conn: Connection,
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


def _flag_once(
    conn: Connection, kind: str, store_id: str, subject: str, detail: str, stamp: str
) -> None:
    """A flag an operator needs once, however often the till sends the same thing."""
    held = conn.execute(
        "SELECT 1 FROM flags WHERE kind = ? AND store_id = ? AND subject = ?",
        (kind, store_id, subject),
    ).fetchone()
    if held is None:
        _flag(conn, kind, store_id, None, subject, detail, stamp)
