"""Filling the promotion ledger with what HQ stored before it had one.

Migration ``0004_performance_ledger`` started the ledger empty, so orders,
refunds and participations HQ held before it were missing from the
performance pages. Migration ``0005_ledger_backfill`` runs
:func:`backfill_ledger` once: it replays :mod:`.ledger`'s own rules over
the stored events, so a database upgraded from 0003 shows the numbers it
would show had the ledger been there from the start:

* every order HQ counts (copy 0 of its key: a flagged copy never is) gives
  its promotions' rows, from the order's stored event;
* every refund, once per refund id (the first event HQ received under it,
  as ingest counts it), gives the discount it took back per promotion;
* every participation event gives its delta;
* a store with no ``store_pushes`` row gets one from its events: the last
  time HQ received any, and one push per distinct receipt time (every
  event of a push carries its push's time; pushes that brought nothing
  new left no trace, and the backlog the till reported is not known).

Ledger rows are keyed by event and promotion and inserted only where
missing, so running it again, or over a ledger that ingest has been
filling since 0004, changes nothing that is already there.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
from pos_promo_hq.db import Connection
from pos_promo_hq.ledger import LedgerRow, order_rows, participation_row, refund_rows

from pos_promo.model.events import Event, OrderCommitted, OrderRefunded, ParticipationChanged

__all__ = ["backfill_ledger"]

_EVENT = msgspec.json.Decoder(Event)
_PAGE = 1000
_INSERT = (
    "INSERT INTO promotion_ledger (event_id, campaign_id, kind, store_id, order_id, member_id, "
    "local_date, given, refunded, participations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING"
)


def backfill_ledger(conn: Connection) -> None:
    """Add the ledger rows and push records HQ's stored events imply (inside the
    migration's transaction); orders first, since refunds read their rows."""
    _orders(conn)
    _participations(conn)
    _refunds(conn)
    conn.execute(
        "INSERT INTO store_pushes (store_id, last_push_at, backlog, pushes) "
        "SELECT store_id, MAX(received_at), NULL, COUNT(DISTINCT received_at) FROM events "
        "GROUP BY store_id ON CONFLICT DO NOTHING"
    )


def _pages(conn: Connection, sql: str) -> Iterator[list[tuple[str, str]]]:
    """``(event id, payload)`` rows of ``sql`` (ordered by event id), a page at a time,
    so a large HQ is not decoded all at once."""
    last = ""
    while True:
        rows = [(str(r[0]), str(r[1])) for r in conn.execute(sql, (last, _PAGE)).fetchall()]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _write(conn: Connection, rows: list[LedgerRow]) -> None:
    if rows:
        conn.executemany(_INSERT, rows)


def _orders(conn: Connection) -> None:
    for page in _pages(
        conn,
        "SELECT e.id, e.payload FROM orders o JOIN events e ON e.id = o.event_id "
        "WHERE o.copy = 0 AND e.id > ? ORDER BY e.id LIMIT ?",
    ):
        rows: list[LedgerRow] = []
        for event_id, payload in page:
            event = _EVENT.decode(payload)
            if isinstance(event, OrderCommitted):
                rows += order_rows(event_id, event)
        _write(conn, rows)


def _participations(conn: Connection) -> None:
    for page in _pages(
        conn,
        "SELECT id, payload FROM events WHERE kind = 'participation.changed' AND id > ? "
        "ORDER BY id LIMIT ?",
    ):
        rows = []
        for event_id, payload in page:
            event = _EVENT.decode(payload)
            if isinstance(event, ParticipationChanged):
                rows.append(participation_row(event_id, event))
        _write(conn, rows)


def _refunds(conn: Connection) -> None:
    """As ingest counts them: the first event HQ received under each refund id."""
    first: dict[tuple[str, str], tuple[str, str, OrderRefunded]] = {}
    for event_id, received_at, payload in conn.execute(
        "SELECT id, received_at, payload FROM events WHERE kind = 'order.refunded'"
    ).fetchall():
        event = _EVENT.decode(payload)
        if not isinstance(event, OrderRefunded):
            continue
        key = (event.store_id, event.refund.refund_id)
        if key not in first or (received_at, event_id) < first[key][:2]:
            first[key] = (received_at, event_id, event)
    for _, event_id, event in sorted(first.values(), key=lambda f: (f[0], f[1])):
        _write(conn, refund_rows(conn, event_id, event))
