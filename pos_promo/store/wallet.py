"""The coupon wallet: instances with owner, validity window and status (SPEC §7).

Coupons come in from HQ's member state (through the sync daemon, or a POS
passing on what its member service said) and from local gifts. Their
status changes here in two ways only, each with an outbox event written in
the same transaction: a commit redeems a coupon (``coupon.redeemed``),
and a full refund of that order gives it back (``coupon.restored``).

**Who wins, HQ or the till?** HQ's member state is newer than the till's
copy *except* for a local change HQ has not seen yet. A redemption made
here is pushed as an event; a pull that HQ answered before it processed
that event still says ``issued``, and taking it would let the coupon be
redeemed twice. So each local change records its event id in
``pending_event`` and, while it is set, HQ's *status* is not taken (its
template, owner and window are: HQ owns those). It is cleared when a pull
is known to include the event — the sync layer passes those event ids as
``confirmed``, by the same acknowledgement watermark that confirms
participations (see the sync layer's member-state pull) — and then HQ's status
wins again, whatever it says.

Redemption runs inside the commit's ``BEGIN IMMEDIATE`` transaction, after
an evaluation that read the wallet inside it, so a second till on the same
file sees the coupon redeemed and commits its order without it. The
``UPDATE ... WHERE status = 'issued'`` row count is a second guard.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Collection, Iterable, Sequence

from pos_promo.errors import CouponConflict
from pos_promo.model.coupon import Coupon
from pos_promo.model.events import CouponRedeemed, CouponRestored
from pos_promo.model.result import Applied
from pos_promo.model.wallet import WalletEntry, WalletReport
from pos_promo.store.meta import till_identity
from pos_promo.store.outbox import event_id, order_event_id

__all__ = [
    "EventRow",
    "member_wallet",
    "presented",
    "redeem",
    "restore",
    "unconfirmed_events",
    "upsert_coupons",
]

EventRow = tuple[str, str, str, object]
"""``(event id, kind, order id, payload)`` as :func:`pos_promo.store.outbox.add_events` takes."""

_COLUMNS = (
    "coupon_id, template_id, member_id, valid_from, valid_until, status, source, "
    "issued_at, redeemed_order_id, redeemed_at, pending_event, updated_at"
)


def _iso(at: dt.datetime | None) -> str | None:
    return None if at is None else at.astimezone(dt.UTC).isoformat()


def _instant(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _chunks(ids: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def upsert_coupons(
    conn: sqlite3.Connection,
    coupons: Sequence[Coupon],
    *,
    source: str = "hq",
    at: dt.datetime | None = None,
    issued_at: dt.datetime | None = None,
    confirmed: Collection[str] = (),
) -> WalletReport:
    """Add new coupons and take HQ's newer state for known ones (inside a write transaction).

    ``confirmed``: ids of local events the given state is known to include;
    a coupon whose pending local change is among them takes HQ's status
    again. ``source`` and ``issued_at`` are recorded for new coupons only
    (a coupon keeps where it first came from). When one id appears twice,
    the later entry wins.
    """
    latest = {coupon.id: coupon for coupon in coupons}
    stamp = _iso(at)
    outcome: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": [], "kept_local": []}
    for coupon_id, coupon in sorted(latest.items()):
        fields = (
            coupon.template_id,
            coupon.member_id,
            _iso(coupon.valid_from),
            _iso(coupon.valid_until),
        )
        row = conn.execute(
            "SELECT template_id, member_id, valid_from, valid_until, status, pending_event "
            "FROM wallet WHERE coupon_id = ?",
            (coupon_id,),
        ).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO wallet (coupon_id, template_id, member_id, valid_from, valid_until, "
                "status, source, issued_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (coupon_id, *fields, coupon.status, source, _iso(issued_at), stamp),
            )
            outcome["added"].append(coupon_id)
            continue
        pending = row[5]
        if pending is not None and pending not in confirmed:
            if tuple(row[:4]) != fields:
                conn.execute(
                    "UPDATE wallet SET template_id = ?, member_id = ?, valid_from = ?, "
                    "valid_until = ?, updated_at = ? WHERE coupon_id = ?",
                    (*fields, stamp, coupon_id),
                )
            outcome["kept_local"].append(coupon_id)
            continue
        if tuple(row[:5]) == (*fields, coupon.status) and pending is None:
            outcome["unchanged"].append(coupon_id)
            continue
        # HQ's state wins whole. A redemption made here stays attributed to
        # its order while HQ says redeemed; any other status clears it.
        conn.execute(
            "UPDATE wallet SET template_id = ?, member_id = ?, valid_from = ?, valid_until = ?, "
            "status = ?, pending_event = NULL, updated_at = ?, "
            "redeemed_order_id = CASE WHEN ? = 'redeemed' THEN redeemed_order_id END, "
            "redeemed_at = CASE WHEN ? = 'redeemed' THEN redeemed_at END "
            "WHERE coupon_id = ?",
            (*fields, coupon.status, stamp, coupon.status, coupon.status, coupon_id),
        )
        outcome["updated"].append(coupon_id)
    return WalletReport(**{key: tuple(ids) for key, ids in outcome.items()})


def _coupon(row: Sequence[str]) -> Coupon:
    coupon_id, template_id, member_id, valid_from, valid_until, status = row[:6]
    return Coupon(
        coupon_id,
        template_id,
        member_id,
        dt.datetime.fromisoformat(valid_from),
        dt.datetime.fromisoformat(valid_until),
        status,  # type: ignore[arg-type]  # the CHECK constraint keeps it a CouponStatus
    )


def presented(conn: sqlite3.Connection, coupon_ids: Iterable[str]) -> dict[str, Coupon]:
    """The wallet entries of the presented ids that the wallet holds, by id.

    An id missing from the answer is unknown to this till; the engine
    refuses it as ``coupon_invalid`` (cause ``unknown``).
    """
    ids = sorted(set(coupon_ids))
    found: dict[str, Coupon] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            "SELECT coupon_id, template_id, member_id, valid_from, valid_until, status "
            f"FROM wallet WHERE coupon_id IN ({marks})",
            tuple(chunk),
        ):
            found[row[0]] = _coupon(row)
    return found


def member_wallet(conn: sqlite3.Connection, member_id: str) -> list[WalletEntry]:
    """Every coupon the wallet holds for ``member_id``, whatever its status, by id."""
    return [
        WalletEntry(
            id=row[0],
            template_id=row[1],
            member_id=row[2],
            valid_from=dt.datetime.fromisoformat(row[3]),
            valid_until=dt.datetime.fromisoformat(row[4]),
            status=row[5],
            source=row[6],
            issued_at=_instant(row[7]),
            redeemed_order_id=row[8],
            redeemed_at=_instant(row[9]),
            unconfirmed=row[10] is not None,
            updated_at=_instant(row[11]),
        )
        for row in conn.execute(
            f"SELECT {_COLUMNS} FROM wallet WHERE member_id = ? ORDER BY coupon_id", (member_id,)
        )
    ]


def unconfirmed_events(conn: sqlite3.Connection, coupon_ids: Iterable[str]) -> dict[str, str]:
    """Coupon id -> the event of its local change HQ has not confirmed yet."""
    ids = sorted(set(coupon_ids))
    found: dict[str, str] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        found.update(
            conn.execute(
                f"SELECT coupon_id, pending_event FROM wallet WHERE coupon_id IN ({marks}) "
                "AND pending_event IS NOT NULL",
                tuple(chunk),
            ).fetchall()
        )
    return found


def redeem(
    conn: sqlite3.Connection,
    store_id: str,
    order_id: str,
    member_id: str | None,
    at: dt.datetime,
    applied: Iterable[Applied],
) -> list[EventRow]:
    """Mark the coupons an order's result applied as redeemed; their events.

    Call inside the commit's write transaction, with the result of an
    evaluation that read the wallet in that same transaction. Raises
    :class:`CouponConflict` (and the caller rolls back) if a coupon is no
    longer ``issued``, which that evaluation makes impossible.
    """
    events: list[EventRow] = []
    coupons = [benefit for benefit in applied if benefit.kind == "coupon"]
    if not coupons:  # most orders: nothing to mark, and no till identity to read
        return events
    stamp = _iso(at)
    till = till_identity(conn)
    for benefit in coupons:
        eid = order_event_id(store_id, order_id, f"coupon.redeemed/{benefit.id}", till=till, at=at)
        cur = conn.execute(
            "UPDATE wallet SET status = 'redeemed', redeemed_order_id = ?, redeemed_at = ?, "
            "pending_event = ?, updated_at = ? WHERE coupon_id = ? AND status = 'issued'",
            (order_id, stamp, eid, stamp, benefit.id),
        )
        if cur.rowcount != 1:
            raise CouponConflict(benefit.id, order_id)
        template = benefit.template_id or ""
        events.append(
            (
                eid,
                "coupon.redeemed",
                order_id,
                CouponRedeemed(
                    order_id, store_id, benefit.id, template, member_id, at, benefit.amount
                ),
            )
        )
    return events


def restore(
    conn: sqlite3.Connection,
    store_id: str,
    order_id: str,
    member_id: str | None,
    refund_id: str,
    at: dt.datetime | None,
    only: Collection[str] | None = None,
) -> list[EventRow]:
    """Give back the coupons ``order_id`` redeemed here; their events.

    Every one on a full refund; on a partial refund ``only`` names the
    benefits that dropped out, and the coupons among them go back (the kept
    units no longer use them, and a coupon that saves nothing is not
    redeemed, SPEC §5).

    A restored coupon is ``issued`` again even if its window has passed:
    the window is checked whenever it is presented, so an expired one is
    refused as expired, which is the truth, and it stays visible in the
    wallet as unused. A coupon HQ has since voided, or that is no longer
    attributed to this order, is left alone.
    """
    rows = conn.execute(
        "SELECT coupon_id, template_id FROM wallet "
        "WHERE redeemed_order_id = ? AND status = 'redeemed' ORDER BY coupon_id",
        (order_id,),
    ).fetchall()
    events: list[EventRow] = []
    till = till_identity(conn) if rows else ""
    for coupon_id, template_id in rows:
        if only is not None and coupon_id not in only:
            continue
        eid = event_id(store_id, order_id, f"coupon.restored/{coupon_id}", till=till)
        conn.execute(
            "UPDATE wallet SET status = 'issued', redeemed_order_id = NULL, redeemed_at = NULL, "
            "pending_event = ?, updated_at = COALESCE(?, updated_at) WHERE coupon_id = ?",
            (eid, _iso(at), coupon_id),
        )
        events.append(
            (
                eid,
                "coupon.restored",
                order_id,
                CouponRestored(
                    order_id, store_id, coupon_id, template_id, member_id, refund_id, at
                ),
            )
        )
    return events
