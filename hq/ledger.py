"""The promotion ledger: what each accepted event did to each promotion, for the reports.

A receipt says where every cent of an order's discount went, per line and
benefit; the performance pages need it per promotion, store and day, across
thousands of orders. Decoding receipts at report time would not scale, so
ingest writes one ledger row per accepted event and promotion it touched,
inside the batch's transaction (so the ledger holds exactly the events HQ
holds, each once):

* ``order.committed``: the discount each applied promotion gave (``given``),
  one row even when it gave nothing (a promotion can apply for a gift);
* ``order.refunded``: the discount the refund reversed, per promotion
  (``refunded``), on the order's own store, member and local day, so a
  day's net is what that day's orders ended up costing;
* ``participation.changed``: the member's participation delta
  (``participations``).

Coupons are benefits too, but not promotions: only the campaigns the
receipt names are ledger rows, and only the first order HQ holds under an
order id (a conflicting copy is flagged, not counted). It also keeps each
store's last push and the backlog the till reported with it
(``store_pushes``). Both tables come with migration
``0004_performance_ledger``; ``0005_ledger_backfill`` fills them from the
events HQ held before it (:mod:`.backfill`).
"""

from __future__ import annotations

from collections import defaultdict

from pos_promo_hq.db import Connection

from pos_promo.model.events import OrderCommitted, OrderRefunded, ParticipationChanged

__all__ = [
    "LedgerRow",
    "order_rows",
    "participation_row",
    "record_order",
    "record_participation",
    "record_push",
    "record_refund",
    "record_rows",
    "refund_rows",
]

LedgerRow = tuple[str, str, str, str, str, str | None, str, int, int, int]

_INSERT = (
    "INSERT INTO promotion_ledger (event_id, campaign_id, kind, store_id, order_id, member_id, "
    "local_date, given, refunded, participations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def record_rows(conn: Connection, rows: list[LedgerRow]) -> None:
    """Write ledger rows in one pipelined statement (ingest gathers a batch's rows)."""
    if rows:
        conn.executemany(_INSERT, rows)


def record_order(conn: Connection, event_id: str, event: OrderCommitted) -> None:
    """Record what an order gave per promotion, for an order stored on its own (not batched)."""
    record_rows(conn, order_rows(event_id, event))


def order_rows(event_id: str, event: OrderCommitted) -> list[LedgerRow]:
    """One row per promotion the order applied, with the discount it gave."""
    given: dict[str, int] = defaultdict(int)
    applied = {c.id for c in event.receipt.campaigns if c.applied}
    for line in event.receipt.lines:
        for share in line.benefits:
            if share.benefit_id in applied:
                given[share.benefit_id] += share.amount
    day = event.local_date.isoformat()
    return [
        (
            event_id,
            c,
            "order",
            event.store_id,
            event.order_id,
            event.member_id,
            day,
            given[c],
            0,
            0,
        )
        for c in sorted(applied)
    ]


def record_refund(conn: Connection, event_id: str, event: OrderRefunded) -> None:
    """Record what a refund took back per promotion; refunds are stored one by one."""
    record_rows(conn, refund_rows(conn, event_id, event))


def refund_rows(conn: Connection, event_id: str, event: OrderRefunded) -> list[LedgerRow]:
    """One row per promotion whose discount the refund reversed (on the order's day)."""
    refund = event.refund
    order = conn.execute(
        "SELECT member_id, local_date FROM orders WHERE store_id = ? AND order_id = ? AND copy = 0",
        (event.store_id, refund.order_id),
    ).fetchone()
    if order is None:
        return []  # ingest rejects a refund of an unknown order before this
    reversed_: dict[str, int] = defaultdict(int)
    for share in refund.benefits:
        reversed_[share.benefit_id] += share.amount
    promotions = {
        c
        for (c,) in conn.execute(
            "SELECT campaign_id FROM promotion_ledger WHERE store_id = ? AND order_id = ? "
            "AND kind = 'order'",
            (event.store_id, refund.order_id),
        )
    }
    return [
        (
            event_id,
            c,
            "refund",
            event.store_id,
            refund.order_id,
            order[0],
            order[1],
            0,
            amount,
            0,
        )
        for c, amount in sorted(reversed_.items())
        if c in promotions
    ]


def record_participation(conn: Connection, event_id: str, event: ParticipationChanged) -> None:
    """Record one participation change (+1 at commit, -1 at refund) in the ledger; the event id
    keeps a re-pushed event from counting twice."""
    record_rows(conn, [participation_row(event_id, event)])


def participation_row(event_id: str, event: ParticipationChanged) -> LedgerRow:
    """The member's participation delta, as the promotion's ledger row."""
    return (
        event_id,
        event.campaign_id,
        "participation",
        event.store_id,
        event.order_id,
        event.member_id,
        event.local_date.isoformat(),
        0,
        0,
        event.delta,
    )


def record_push(conn: Connection, store_id: str, at: str, backlog: int | None) -> None:
    """The store pushed at ``at``, its till still holding ``backlog`` events (if it said)."""
    conn.execute(
        "INSERT INTO store_pushes (store_id, last_push_at, backlog, pushes) VALUES (?, ?, ?, 1) "
        "ON CONFLICT (store_id) DO UPDATE SET last_push_at = excluded.last_push_at, "
        "backlog = excluded.backlog, pushes = store_pushes.pushes + 1",
        (store_id, at, backlog),
    )
