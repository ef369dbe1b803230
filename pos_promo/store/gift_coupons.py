"""A grant's coupons: issued into the wallet, scheduled, released, voided.

``gift_coupons`` holds every coupon a grant planned, with when it is due
and its validity (both fixed when the grant was made, see
:mod:`pos_promo.engine.grants`), in one of three states: ``scheduled``
(a release not due yet), ``issued`` (it went into the ``wallet`` table) or
``cancelled`` (its grant was revoked before it was due). The wallet keeps
the coupon's own life (issued, redeemed, void); a coupon put there or
voided here records its event in the wallet's ``pending_event``, so a
member-state pull HQ answered before it saw that event cannot undo it
(see :mod:`pos_promo.store.wallet`).

Releasing is idempotent: a release flips ``scheduled`` to ``issued`` inside
the caller's ``BEGIN IMMEDIATE`` transaction, so the daemon's job and a
commit that both find a coupon due issue it once. A coupon already in the
wallet (HQ granted the same ordinal and sent it first: same derived id) is
not issued twice.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence

import msgspec

from pos_promo.engine.grants import PlannedCoupon
from pos_promo.model.gift_events import GiftCouponIssued, GiftCouponVoided
from pos_promo.store.outbox import event_id

__all__ = [
    "EventRow",
    "due_text",
    "has_due",
    "place_coupons",
    "release_due",
    "revoke_coupons",
]

EventRow = tuple[str, str, str, object]
"""``(event id, kind, order id, payload)`` as :func:`pos_promo.store.outbox.add_events` takes."""


def due_text(at: dt.datetime) -> str:
    """A fixed-width UTC text, so ``due <= ?`` compares instants correctly."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


_INSTANT = msgspec.json.Decoder(dt.datetime)  # built at import: the real class


def _read(text: str) -> dt.datetime:
    """A stored instant, parsed by msgspec: a plain ``datetime`` even while a test
    has patched the class (freezegun), so the events it goes into always encode."""
    return _INSTANT.decode(f'"{text}"')


def _issue(
    conn: sqlite3.Connection,
    store_id: str,
    order_id: str,
    member_id: str,
    coupon: tuple[str, str, str, dt.datetime, dt.datetime, dt.datetime],
) -> EventRow | None:
    """Put one coupon in the wallet (or revive it from void); its event, if any."""
    coupon_id, grant, template, due, valid_from, valid_until = coupon
    eid = event_id(store_id, order_id, f"gift.coupon_issued/{coupon_id}")
    row = conn.execute("SELECT status FROM wallet WHERE coupon_id = ?", (coupon_id,)).fetchone()
    if row is None:
        conn.execute(
            "INSERT INTO wallet (coupon_id, template_id, member_id, valid_from, valid_until, "
            "status, source, issued_at, pending_event, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'issued', 'gift', ?, ?, ?)",
            (
                coupon_id,
                template,
                member_id,
                _iso(valid_from),
                _iso(valid_until),
                _iso(due),
                eid,
                _iso(due),
            ),
        )
    elif row[0] == "void":  # its grant was revoked, and is granted again
        conn.execute(
            "UPDATE wallet SET status = 'issued', valid_from = ?, valid_until = ?, "
            "issued_at = ?, pending_event = ?, updated_at = ? WHERE coupon_id = ?",
            (_iso(valid_from), _iso(valid_until), _iso(due), eid, _iso(due), coupon_id),
        )
    else:  # already there (HQ sent it first), or redeemed: nothing to issue
        return None
    payload = GiftCouponIssued(
        coupon_id, grant, template, member_id, valid_from, valid_until, store_id, order_id, due
    )
    return (eid, "gift.coupon_issued", order_id, payload)


def place_coupons(
    conn: sqlite3.Connection,
    store_id: str,
    order_id: str,
    member_id: str,
    activity_id: str,
    planned: Sequence[PlannedCoupon],
) -> list[EventRow]:
    """Issue a grant's instant coupons now and schedule the others."""
    events: list[EventRow] = []
    for p in planned:
        conn.execute(
            "INSERT INTO gift_coupons (coupon_id, grant_id, activity_id, member_id, template_id, "
            "line, unit, due, valid_from, valid_until, state, order_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(coupon_id) DO UPDATE SET "
            "due = excluded.due, valid_from = excluded.valid_from, "
            "valid_until = excluded.valid_until, state = excluded.state, "
            "order_id = excluded.order_id",
            (
                p.coupon_id,
                p.grant_id,
                activity_id,
                member_id,
                p.template_id,
                p.line,
                p.unit,
                due_text(p.due),
                _iso(p.valid_from),
                _iso(p.valid_until),
                "issued" if p.instant else "scheduled",
                order_id,
            ),
        )
        if p.instant:
            coupon = (p.coupon_id, p.grant_id, p.template_id, p.due, p.valid_from, p.valid_until)
            event = _issue(conn, store_id, order_id, member_id, coupon)
            if event is not None:
                events.append(event)
    return events


def release_due(
    conn: sqlite3.Connection, store_id: str, now: dt.datetime
) -> tuple[list[str], list[EventRow]]:
    """Issue every scheduled coupon due at ``now`` or before (inside a write transaction).

    Returns the coupon ids released and the events to write (none for a
    coupon HQ had already put in the wallet).
    """
    rows = conn.execute(
        "SELECT coupon_id, grant_id, template_id, member_id, due, valid_from, valid_until, "
        "order_id FROM gift_coupons WHERE state = 'scheduled' AND due <= ? "
        "ORDER BY due, coupon_id",
        (due_text(now),),
    ).fetchall()
    released: list[str] = []
    events: list[EventRow] = []
    for coupon_id, grant, template, member, due, valid_from, valid_until, order_id in rows:
        conn.execute("UPDATE gift_coupons SET state = 'issued' WHERE coupon_id = ?", (coupon_id,))
        coupon = (coupon_id, grant, template, _read(due), _read(valid_from), _read(valid_until))
        released.append(coupon_id)
        event = _issue(conn, store_id, order_id, member, coupon)
        if event is not None:
            events.append(event)
    return released, events


def has_due(conn: sqlite3.Connection, now: dt.datetime) -> bool:
    """Whether any scheduled coupon is due at ``now`` (a read; no write lock)."""
    row = conn.execute(
        "SELECT 1 FROM gift_coupons WHERE state = 'scheduled' AND due <= ? LIMIT 1",
        (due_text(now),),
    ).fetchone()
    return row is not None


def revoke_coupons(
    conn: sqlite3.Connection,
    store_id: str,
    order_id: str,
    refund_id: str,
    grant: str,
    member_id: str,
    coupons: Sequence[tuple[str, str]],
    at: dt.datetime,
) -> tuple[list[str], list[str], list[str], list[EventRow]]:
    """Void a revoked grant's unused coupons and cancel its pending releases.

    ``coupons`` are the grant's ``(coupon id, template id)``, derived from
    the activity, so a grant HQ made (whose coupons came through member
    state) is taken back as well as one made here. Returns ``(voided,
    kept, cancelled, events)``; ``kept`` are coupons already redeemed,
    which stay redeemed.
    """
    voided: list[str] = []
    kept: list[str] = []
    cancelled: list[str] = []
    events: list[EventRow] = []
    for coupon_id, template in coupons:
        cur = conn.execute(
            "UPDATE gift_coupons SET state = 'cancelled' WHERE coupon_id = ? "
            "AND state = 'scheduled'",
            (coupon_id,),
        )
        if cur.rowcount:
            cancelled.append(coupon_id)
            continue
        row = conn.execute("SELECT status FROM wallet WHERE coupon_id = ?", (coupon_id,)).fetchone()
        status = row[0] if row else None
        if status == "redeemed":
            kept.append(coupon_id)
        elif status == "issued":
            eid = event_id(store_id, order_id, f"gift.coupon_voided/{coupon_id}/{refund_id}")
            conn.execute(
                "UPDATE wallet SET status = 'void', pending_event = ?, updated_at = ? "
                "WHERE coupon_id = ?",
                (eid, _iso(at), coupon_id),
            )
            voided.append(coupon_id)
            payload = GiftCouponVoided(
                coupon_id, grant, template, member_id, store_id, order_id, at
            )
            events.append((eid, "gift.coupon_voided", order_id, payload))
    return voided, kept, cancelled, events
