"""A grant's coupons: issued into the wallet, scheduled, released, voided.

A grant's instant coupons go straight into the ``wallet`` table, and
travel to HQ inside the grant's own event. Delayed ones wait in
``gift_releases``, keyed by when they are due, with their validity fixed
when the grant was made (:mod:`pos_promo.engine.grants`); releasing one
deletes its row and puts the coupon in the wallet, and revoking a grant
deletes its rows (the release is cancelled). The wallet keeps each
coupon's own life (issued, redeemed, void); a coupon put there or voided
here records its event in the wallet's ``pending_event``, so a
member-state pull HQ answered before it saw that event cannot undo it
(see :mod:`pos_promo.store.wallet`).

Which coupons belong to a grant is never looked up: their ids are derived
from the grant (:func:`pos_promo.engine.grants.grant_coupons`), so a grant
HQ made, whose coupons came through member state, is taken back like one
made here. Fewer rows and indexes is fewer pages for every commit that
grants to write and fsync.

Releasing is idempotent: a release deletes its row inside the caller's
``BEGIN IMMEDIATE`` transaction, so the daemon's job and a commit that both
find a coupon due issue it once. A coupon already in the wallet (HQ
granted the same ordinal and sent it first: same derived id) is not issued
twice.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import msgspec

from pos_promo.model.gift_events import GiftCouponIssued, GrantCoupon
from pos_promo.store.meta import till_identity
from pos_promo.store.outbox import event_id

if TYPE_CHECKING:  # the grant rules load with a gift activity, not with this module
    from pos_promo.engine.grants import PlannedCoupon

__all__ = [
    "EventRow",
    "cancel_releases",
    "due_text",
    "has_due",
    "place_coupons",
    "release_due",
    "revoke_coupons",
    "scheduled",
    "wallet_statuses",
]

EventRow = tuple[str, str, str, object]
"""``(event id, kind, order id, payload)`` as :func:`pos_promo.store.outbox.add_events` takes."""

_INSTANT = msgspec.json.Decoder(dt.datetime)  # built at import: the real class


def due_text(at: dt.datetime) -> str:
    """A fixed-width UTC text, so ``due <= ?`` compares instants correctly.

    ``strftime("%Y-%m-%dT%H:%M:%S.%fZ")`` written out: every commit asks
    whether a gift coupon is due, and strftime costs several times more
    (it gives the same text; a year below 1000 it leaves unpadded)."""
    u = at.astimezone(dt.UTC)
    if u.year < 1000:
        return u.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        f"{u.year}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
        f".{u.microsecond:06d}Z"
    )


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


def _read(text: str) -> dt.datetime:
    """A stored instant, parsed by msgspec: a plain ``datetime`` even while a test
    has patched the class (freezegun), so the events it goes into always encode."""
    return _INSTANT.decode(f'"{text}"')


def _issue(
    conn: sqlite3.Connection,
    member_id: str,
    coupon: tuple[str, str, dt.datetime, dt.datetime, dt.datetime],
    event: str,
) -> bool:
    """Put one coupon in the wallet (or revive it from void); whether it wrote.

    A coupon the wallet already holds issued or redeemed (HQ sent it first)
    is left alone: one upsert that returns a row only when it wrote one.
    ``event`` is the id of the event that tells HQ, kept as the wallet's
    ``pending_event``.
    """
    coupon_id, template, due, valid_from, valid_until = coupon
    wrote = conn.execute(
        "INSERT INTO wallet (coupon_id, template_id, member_id, valid_from, valid_until, "
        "status, source, issued_at, pending_event, updated_at) "
        "VALUES (?, ?, ?, ?, ?, 'issued', 'gift', ?, ?, ?) ON CONFLICT(coupon_id) DO UPDATE SET "
        "status = 'issued', valid_from = excluded.valid_from, "
        "valid_until = excluded.valid_until, issued_at = excluded.issued_at, "
        "pending_event = excluded.pending_event, updated_at = excluded.updated_at "
        "WHERE wallet.status = 'void' RETURNING coupon_id",
        (
            coupon_id,
            template,
            member_id,
            _iso(valid_from),
            _iso(valid_until),
            _iso(due),
            event,
            _iso(due),
        ),
    ).fetchall()
    return bool(wrote)


def place_coupons(
    conn: sqlite3.Connection,
    member_id: str,
    activity_id: str,
    ordinal: int,
    order_id: str,
    at: dt.datetime,
    planned: Sequence[PlannedCoupon],
    event: str,
) -> list[GrantCoupon]:
    """Issue a grant's instant coupons now and schedule the others (granted at ``at``).

    Returns the coupons it put in the wallet, for the grant's own event
    (``event``, kept as their ``pending_event``). A grant made again after
    a revocation revives its voided coupons with the new validity; a
    redeemed one stays redeemed.
    """
    later = [p for p in planned if not p.instant]
    if later:
        granted = due_text(at)
        conn.executemany(
            "INSERT OR REPLACE INTO gift_releases (due, granted, coupon_id, member_id, "
            "activity_id, ordinal, grant_id, template_id, valid_from, valid_until, order_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    due_text(p.due),
                    granted,
                    p.coupon_id,
                    member_id,
                    activity_id,
                    ordinal,
                    p.grant_id,
                    p.template_id,
                    _iso(p.valid_from),
                    _iso(p.valid_until),
                    order_id,
                )
                for p in later
            ],
        )
    issued: list[GrantCoupon] = []
    for p in planned:
        if not p.instant:
            continue
        coupon = (p.coupon_id, p.template_id, p.due, p.valid_from, p.valid_until)
        if _issue(conn, member_id, coupon, event):
            issued.append(GrantCoupon(p.coupon_id, p.template_id, p.valid_from, p.valid_until))
    return issued


def release_due(
    conn: sqlite3.Connection, store_id: str, now: dt.datetime
) -> tuple[list[str], list[EventRow]]:
    """Issue every scheduled coupon due at ``now`` or before (inside a write transaction).

    Returns the coupon ids released and the events to write (none for a
    coupon HQ had already put in the wallet).
    """
    rows = conn.execute(
        "DELETE FROM gift_releases WHERE due <= ? RETURNING due, coupon_id, member_id, "
        "grant_id, template_id, valid_from, valid_until, order_id",
        (due_text(now),),
    ).fetchall()
    released: list[str] = []
    events: list[EventRow] = []
    till = till_identity(conn) if rows else ""
    for due, coupon_id, member, grant, template, valid_from, valid_until, order_id in sorted(rows):
        released.append(coupon_id)
        eid = event_id(store_id, order_id, f"gift.coupon_issued/{coupon_id}", till=till)
        when, start, until = _read(due), _read(valid_from), _read(valid_until)
        if _issue(conn, member, (coupon_id, template, when, start, until), eid):
            payload = GiftCouponIssued(
                coupon_id, grant, template, member, start, until, store_id, order_id, when
            )
            events.append((eid, "gift.coupon_issued", order_id, payload))
    return released, events


def has_due(conn: sqlite3.Connection, now: dt.datetime) -> bool:
    """Whether any scheduled coupon is due at ``now`` (a read; no write lock)."""
    row = conn.execute(
        "SELECT 1 FROM gift_releases WHERE due <= ? LIMIT 1", (due_text(now),)
    ).fetchone()
    return row is not None


def cancel_releases(
    conn: sqlite3.Connection, member_id: str, activity_id: str, ordinal: int
) -> list[str]:
    """Cancel a grant's releases not yet due; the coupon ids cancelled.

    A scan of the pending releases, which are few: revocations are rare
    and never on the commit path.
    """
    return [
        coupon_id
        for (coupon_id,) in conn.execute(
            "DELETE FROM gift_releases WHERE member_id = ? AND activity_id = ? AND ordinal = ? "
            "RETURNING coupon_id",
            (member_id, activity_id, ordinal),
        ).fetchall()
    ]


def revoke_coupons(
    conn: sqlite3.Connection,
    grant: tuple[str, str, int],
    coupons: Sequence[tuple[str, str]],
    event: str,
    at: dt.datetime,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Void a revoked grant's unused coupons and cancel its pending releases.

    ``grant`` is ``(member, activity, ordinal)``; ``coupons`` its ``(coupon
    id, template id)``, derived from the activity; ``event`` the event that
    tells HQ, kept as each voided coupon's ``pending_event``. Returns
    ``(voided, kept, cancelled)``; ``kept`` are coupons already redeemed,
    which stay redeemed.
    """
    pending = set(cancel_releases(conn, *grant))
    cancelled: list[str] = []
    voided: list[str] = []
    kept: list[str] = []
    for coupon_id, _template in coupons:
        if coupon_id in pending:
            cancelled.append(coupon_id)
            continue
        row = conn.execute("SELECT status FROM wallet WHERE coupon_id = ?", (coupon_id,)).fetchone()
        status = row[0] if row else None
        if status == "redeemed":
            kept.append(coupon_id)
        elif status == "issued":
            conn.execute(
                "UPDATE wallet SET status = 'void', pending_event = ?, updated_at = ? "
                "WHERE coupon_id = ?",
                (event, _iso(at), coupon_id),
            )
            voided.append(coupon_id)
    return tuple(voided), tuple(kept), tuple(cancelled)


def scheduled(conn: sqlite3.Connection) -> dict[str, int]:
    """Releases not yet due, per activity."""
    return dict(
        conn.execute(
            "SELECT activity_id, COUNT(*) FROM gift_releases GROUP BY activity_id"
        ).fetchall()
    )


def wallet_statuses(conn: sqlite3.Connection, coupon_ids: Iterable[str]) -> dict[str, str]:
    """The wallet status of each of ``coupon_ids`` it holds."""
    ids = list(coupon_ids)
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(
            conn.execute(
                f"SELECT coupon_id, status FROM wallet WHERE coupon_id IN ({marks})", chunk
            ).fetchall()
        )
    return found
