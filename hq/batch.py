"""A pushed batch's plain events, written set-based: a few statements per batch.

Nearly everything a till pushes is a new order (``order.committed``) and
its participations (``participation.changed``). Written one event at a
time that is five or six statements per event, each a round trip to
PostgreSQL; a batch of 20 events took over a hundred. Ingest reads what
those events need before the first one is applied (:class:`Participations`:
the members' counts; which order ids and member links the store already
has), decides each verdict in memory, and keeps their rows here
(:class:`BatchWrites`); :meth:`BatchWrites.flush` writes them with one
pipelined statement per table, participation deltas summed per member and
campaign (one upsert per key, not per event).

Events that read what earlier events wrote (refunds, coupons, gifts, an
order id the store already used, a repeat or conflict) still go one by
one, after a flush, so they see the database exactly as if every event
before them had been written on its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from pos_promo_hq.db import Connection, query_in
from pos_promo_hq.ledger import LedgerRow, order_rows, participation_row, record_push, record_rows
from pos_promo_hq.members import link_members
from pos_promo_hq.replay import QueueRow, enqueue_rows, queue_row

from pos_promo.model.cart import MemberCounts, ParticipationCount
from pos_promo.model.events import Event, OrderCommitted, ParticipationChanged

__all__ = [
    "BatchWrites",
    "EventRow",
    "Known",
    "Participations",
]

EventRow = tuple[str, str, str, str | None, str, str]
_ORDER_INSERT = (
    "INSERT INTO orders (store_id, order_id, copy, event_id, member_id, at, local_date, "
    "subtotal, total_discount, total) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass
class Participations:
    """Members' participation counts as the batch goes: HQ's before it, plus the batch's
    so far; what an order's replay is checked against (as it arrived)."""

    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    days: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def counts(self, member: str | None, day: dt.date) -> MemberCounts | None:
        """The member's counts as an order on ``day`` arrives (``None``: anonymous)."""
        if member is None:
            return None
        date = day.isoformat()
        return MemberCounts(
            {
                campaign: ParticipationCount(
                    max(0, total), max(0, self.days.get((member, campaign, date), 0))
                )
                for campaign, total in self.totals.get(member, {}).items()
            }
        )

    def add(self, member: str, campaign: str, date: str, delta: int) -> None:
        """Count a participation change of the batch, so a later order of the same
        batch is replayed against the counts it met at the till."""
        mine = self.totals.setdefault(member, {})
        mine[campaign] = mine.get(campaign, 0) + delta
        self.days[(member, campaign, date)] = self.days.get((member, campaign, date), 0) + delta


@dataclass
class Known:
    """What HQ holds that a batch's verdicts depend on, read before any event is applied."""

    holders: dict[str, tuple[str, str, str]]  # event id -> (store, kind, payload)
    orders: set[str]  # order ids the store already has an order under
    linked: set[str]  # members the store may already read
    participations: Participations

    @classmethod
    def read(cls, conn: Connection, store_id: str, ids: list[str], events: list[Event]) -> Known:
        """Send every query, then read the answers: one round trip in a pipeline."""
        orders = [e for e in events if isinstance(e, OrderCommitted)]
        served = sorted({m for e in events if isinstance(m := getattr(e, "member_id", None), str)})
        counted = sorted({o.member_id for o in orders if o.member_id is not None})
        dates = sorted({o.local_date.isoformat() for o in orders if o.member_id is not None})
        holders = query_in(
            conn, "SELECT id, store_id, kind, payload FROM events WHERE id IN ({marks})", ids
        )
        used = query_in(
            conn,
            "SELECT DISTINCT order_id FROM orders WHERE store_id = ? AND order_id IN ({marks})",
            [o.order_id for o in orders],
            before=(store_id,),
        )
        linked = query_in(
            conn,
            "SELECT member_id FROM store_members WHERE store_id = ? AND member_id IN ({marks})",
            served,
            before=(store_id,),
        )
        totals = query_in(
            conn,
            "SELECT member_id, campaign_id, total FROM participation_counts "
            "WHERE member_id IN ({marks})",
            counted,
        )
        days = [
            (
                day,
                query_in(
                    conn,
                    "SELECT member_id, campaign_id, count FROM participation_days "
                    "WHERE local_date = ? AND member_id IN ({marks})",
                    counted,
                    before=(day,),
                ),
            )
            for day in dates
        ]
        participations = Participations()
        for member, campaign, total in totals():
            participations.totals.setdefault(member, {})[campaign] = int(total)
        for day, rows in days:
            for member, campaign, count in rows():
                participations.days[(member, campaign, day)] = int(count)
        return cls(
            {row[0]: (row[1], row[2], row[3]) for row in holders()},
            {order_id for (order_id,) in used()},
            {member for (member,) in linked()},
            participations,
        )


@dataclass
class BatchWrites:
    """The rows of a batch's plain events, held until :meth:`flush`."""

    store_id: str
    stamp: str
    participations: Participations
    replay: bool
    events: list[EventRow] = field(default_factory=list)
    orders: list[tuple[object, ...]] = field(default_factory=list)
    queue: list[QueueRow] = field(default_factory=list)
    ledger: list[LedgerRow] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    totals: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    days: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))

    def event(self, event_id: str, kind: str, order_id: str | None, payload: str) -> None:
        """Hold an event row for the batch's one multi-row insert at :meth:`flush`."""
        self.events.append((event_id, self.store_id, kind, order_id, payload, self.stamp))

    def link(self, member: str) -> None:
        """The store serves ``member`` from now on (the caller read it was not linked)."""
        self.links.append(member)

    def order(self, event_id: str, event: OrderCommitted) -> None:
        """A new order under a key the store never used, redeeming no coupon."""
        self.orders.append(
            (
                self.store_id,
                event.order_id,
                event_id,
                event.member_id,
                event.at.isoformat(),
                event.local_date.isoformat(),
                event.subtotal,
                event.total_discount,
                event.total,
            )
        )
        if self.replay:
            counts = self.participations.counts(event.member_id, event.local_date)
            self.queue.append(
                queue_row(event_id, self.store_id, event.order_id, counts, self.stamp)
            )
        self.ledger += order_rows(event_id, event)

    def participation(self, event_id: str, event: ParticipationChanged) -> None:
        """Sum a participation change per member and campaign (one upsert per pair at
        :meth:`flush`, not one per event) and hold its ledger row."""
        member = event.member_id
        if member is not None:  # an anonymous order is not counted against a limit
            date = event.local_date.isoformat()
            self.participations.add(member, event.campaign_id, date, event.delta)
            self.totals[(member, event.campaign_id)] += event.delta
            self.days[(member, event.campaign_id, date)] += event.delta
        self.ledger.append(participation_row(event_id, event))

    def flush(self, conn: Connection, backlog: int | None = None, last: bool = False) -> None:
        """Write what is held, one statement per table, in one round trip, and forget it.

        The ``last`` flush also records the push (and the backlog the till
        reported) and sends COMMIT in the same round trip: the member-state
        counter's row, which every writer takes in turn, is then held only
        while the server runs these statements, never while it waits for HQ
        (on a busy machine, a worker holding it while descheduled stalled
        every other batch).
        """
        with conn.pipeline():
            if self.events:  # a concurrent batch that stored one of the ids first fails
                # this one (unique violation): ingest runs it again and sees them held
                conn.executemany(
                    "INSERT INTO events (id, store_id, kind, order_id, payload, received_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    self.events,
                )
            if self.orders:
                conn.executemany(_ORDER_INSERT, self.orders)
            enqueue_rows(conn, self.queue)
            record_rows(conn, self.ledger)
            link_members(conn, self.store_id, self.links, "served", self.stamp)
            self._counts(conn)
            if last:
                record_push(conn, self.store_id, self.stamp, backlog)
                conn.commit()
        self.events, self.orders, self.queue, self.ledger, self.links = [], [], [], [], []
        self.totals.clear()
        self.days.clear()

    def _counts(self, conn: Connection) -> None:
        """One upsert per member and campaign the batch changed, each a new state number
        (counted back from the counter, so nothing needs reading before the upserts)."""
        if not self.totals:
            return
        keys = sorted(self.totals)
        conn.execute("UPDATE meta SET value = value + ? WHERE key = 'state_seq'", (len(keys),))
        conn.executemany(
            "INSERT INTO participation_counts (member_id, campaign_id, total, seq) "
            "VALUES (?, ?, ?, (SELECT value FROM meta WHERE key = 'state_seq') - ?) "
            "ON CONFLICT (member_id, campaign_id) DO UPDATE SET "
            "total = participation_counts.total + excluded.total, seq = excluded.seq",
            [(m, c, self.totals[(m, c)], len(keys) - 1 - n) for n, (m, c) in enumerate(keys)],
        )
        conn.executemany(
            "INSERT INTO participation_days (member_id, campaign_id, local_date, count) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (member_id, campaign_id, local_date) DO UPDATE SET "
            "count = participation_days.count + excluded.count",
            [(m, c, d, delta) for (m, c, d), delta in sorted(self.days.items())],
        )
