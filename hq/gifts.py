"""HQ's side of the cumulative spending gift: totals across stores, one grant per ordinal.

Each store sends what its orders accrued (``gift.accrued``, negative for a
refund) and what it granted and issued while it could not ask anyone. HQ:

* adds accruals up per member and activity across stores, and serves the
  sum as the member's ``confirmed_total``;
* merges grants and coupons by their derived ids: two stores that granted
  the same ordinal offline sent the same ``grant_id`` and coupon ids, so
  the second report is recorded (``gift_grant_reports``) and changes
  nothing else: no ordinal is ever granted twice;
* after every batch, reconciles each member and activity it touched with
  the combined total: grants the ordinals only the combined total reaches
  (offline, $60 at one store and $50 at another against "every $100":
  neither till could grant; HQ grants ordinal 1) and revokes those it no
  longer reaches, voiding their unused coupons;
* serves grants and wallet coupons as member state, so every till learns
  of them on its next pull.

A grant HQ makes issues all its coupons at once into HQ's wallet, a
delayed one valid from the moment the till would have released it: the
release times and validity windows follow from the trigger instant and the
store's time zone alone (:mod:`pos_promo.engine.grants`), so HQ and the
till compute the same coupon. Every change takes a new member-state number.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field

import msgspec
from pos_promo_hq.db import Connection, next_seq

from pos_promo.engine.grants import (
    grant_coupons,
    grant_id,
    plan_coupons,
    to_grant,
    to_revoke,
)
from pos_promo.model.cart import StoreContext
from pos_promo.model.coupon import CouponTemplate
from pos_promo.model.gift import CumulativeGift
from pos_promo.model.gift_events import GiftAccrued, GiftCouponIssued, GiftGranted, GiftRevoked

__all__ = [
    "GIFT_KINDS",
    "GiftEvent",
    "GiftLedger",
    "mark_redeemed",
    "touch_gift_event",
]

GiftEvent = GiftAccrued | GiftCouponIssued
GIFT_KINDS = frozenset({"gift.accrued", "gift.coupon_issued"})

_ACTIVITY = msgspec.json.Decoder(CumulativeGift)
_TEMPLATE = msgspec.json.Decoder(CouponTemplate)


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


def _activity(
    conn: Connection, activity_id: str, version: int | None = None
) -> CumulativeGift | None:
    """The published activity at ``version`` (default: the latest), if HQ has it."""
    query = "SELECT document FROM changes WHERE type = 'campaign' AND id = ?"
    args: tuple[object, ...] = (activity_id,)
    if version is not None:
        query += " AND version = ?"
        args += (version,)
    row = conn.execute(query + " ORDER BY version DESC LIMIT 1", args).fetchone()
    if row is None:
        return None if version is None else _activity(conn, activity_id)
    try:
        return _ACTIVITY.decode(row[0])
    except msgspec.MsgspecError:
        return None


def _templates(conn: Connection, activity: CumulativeGift) -> dict[str, CouponTemplate]:
    found: dict[str, CouponTemplate] = {}
    for gift in activity.gifts:
        row = conn.execute(
            "SELECT document FROM changes WHERE type IN ('coupon_template', 'campaign') "
            "AND id = ? ORDER BY version DESC LIMIT 1",
            (gift.template_id,),
        ).fetchone()
        if row is None:
            continue
        try:
            found[gift.template_id] = _TEMPLATE.decode(row[0])
        except msgspec.MsgspecError:
            continue
    return found


@dataclass
class GiftLedger:
    """One batch's gift events: applied one by one, then reconciled together."""

    stores: Mapping[str, StoreContext]
    touched: dict[tuple[str, str], tuple[dt.datetime, str]] = field(default_factory=dict)
    reported: set[str] = field(default_factory=set)  # grants a store revoked in this batch

    def apply(self, conn: Connection, store_id: str, event_id: str, event: GiftEvent) -> str:
        """Apply one gift event; or, before writing anything, why HQ refuses it."""
        reason = _check(conn, event)
        if reason:
            return reason
        if isinstance(event, GiftCouponIssued):
            self._coupon_issued(conn, event)
            return ""
        self._accrued(conn, store_id, event_id, event)
        for grant in event.grants:
            self._granted(conn, store_id, event_id, event, grant)
        for revoked in event.revoked:
            conn.execute(
                "INSERT INTO gift_grant_reports (grant_id, store_id, event_id, status) "
                "VALUES (?, ?, ?, 'revoked') ON CONFLICT DO NOTHING",
                (revoked.grant_id, store_id, event_id),
            )
            self.reported.add(revoked.grant_id)
            for coupon in revoked.voided:
                # if HQ's combined total still reaches that grant, reconcile()
                # brings the coupon back
                conn.execute(
                    "UPDATE wallet_coupons SET status = 'void', seq = ? "
                    "WHERE coupon_id = ? AND grant_id = ? AND member_id = ? "
                    "AND status = 'issued'",
                    (next_seq(conn), coupon, revoked.grant_id, event.member_id),
                )
        return ""

    def _accrued(self, conn: Connection, store_id: str, event_id: str, event: GiftAccrued) -> None:
        conn.execute(
            "INSERT INTO gift_accruals (event_id, store_id, order_id, activity_id, member_id, "
            "amount, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                event_id,
                store_id,
                event.order_id,
                event.activity_id,
                event.member_id,
                event.amount,
                _iso(event.at),
            ),
        )
        conn.execute(
            "INSERT INTO gift_totals (member_id, activity_id, measure, total, seq) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (member_id, activity_id) DO UPDATE SET "
            "total = gift_totals.total + excluded.total, seq = excluded.seq",
            (event.member_id, event.activity_id, event.measure, event.amount, next_seq(conn)),
        )
        self.touched[(event.member_id, event.activity_id)] = (event.at, store_id)

    def _granted(
        self,
        conn: Connection,
        store_id: str,
        event_id: str,
        event: GiftAccrued,
        grant: GiftGranted,
    ) -> None:
        conn.execute(
            "INSERT INTO gift_grant_reports (grant_id, store_id, event_id, status) "
            "VALUES (?, ?, ?, 'granted') ON CONFLICT DO NOTHING",
            (grant.grant_id, store_id, event_id),
        )
        known = conn.execute(
            "SELECT status FROM gift_grants WHERE grant_id = ?", (grant.grant_id,)
        ).fetchone()
        for coupon in grant.coupons:  # the till's own facts first: first seen wins
            conn.execute(
                "INSERT INTO wallet_coupons (coupon_id, grant_id, template_id, "
                "member_id, valid_from, valid_until, status, seq) "
                "VALUES (?, ?, ?, ?, ?, ?, 'issued', ?) ON CONFLICT DO NOTHING",
                (
                    coupon.coupon_id,
                    grant.grant_id,
                    coupon.template_id,
                    event.member_id,
                    _iso(coupon.valid_from),
                    _iso(coupon.valid_until),
                    next_seq(conn),
                ),
            )
        if known is not None:
            return  # the same ordinal reported again (another store, offline): merged
        conn.execute(
            "INSERT INTO gift_grants (grant_id, activity_id, version, member_id, ordinal, "
            "status, at, store_id, origin, seq) VALUES (?, ?, ?, ?, ?, 'granted', ?, ?, "
            "'store', ?)",
            (
                grant.grant_id,
                event.activity_id,
                grant.version,
                event.member_id,
                grant.ordinal,
                _iso(event.at),
                store_id,
                next_seq(conn),
            ),
        )
        activity = _activity(conn, event.activity_id, grant.version)
        if activity is not None:  # the delayed coupons, valid from when the till releases them
            _issue(conn, activity, self._zone(store_id), event.member_id, grant.ordinal, event.at)

    def _coupon_issued(self, conn: Connection, event: GiftCouponIssued) -> None:
        """A coupon HQ did not plan itself (first seen wins, so ids never double).

        One HQ already holds is served again: the till that issued it (say,
        released it after HQ had revoked its grant) learns HQ's state.
        """
        cur = conn.execute(
            "INSERT INTO wallet_coupons (coupon_id, grant_id, template_id, member_id, "
            "valid_from, valid_until, status, seq) VALUES (?, ?, ?, ?, ?, ?, 'issued', ?) "
            "ON CONFLICT DO NOTHING",
            (
                event.coupon_id,
                event.grant_id,
                event.template_id,
                event.member_id,
                _iso(event.valid_from),
                _iso(event.valid_until),
                next_seq(conn),
            ),
        )
        if cur.rowcount == 0:
            conn.execute(
                "UPDATE wallet_coupons SET seq = ? WHERE coupon_id = ?",
                (next_seq(conn), event.coupon_id),
            )

    def _zone(self, store_id: str) -> zoneinfo.ZoneInfo:
        store = self.stores.get(store_id)
        try:
            return zoneinfo.ZoneInfo(store.timezone if store else "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def reconcile(self, conn: Connection) -> None:
        """Grant what each touched total reaches and revoke what it no longer does."""
        for (member, activity_id), (at, store_id) in sorted(self.touched.items()):
            activity = _activity(conn, activity_id)
            if activity is None:
                continue
            row = conn.execute(
                "SELECT total FROM gift_totals WHERE member_id = ? AND activity_id = ?",
                (member, activity_id),
            ).fetchone()
            total = int(row[0]) if row else 0
            granted = {
                ordinal
                for (ordinal,) in conn.execute(
                    "SELECT ordinal FROM gift_grants WHERE member_id = ? AND activity_id = ? "
                    "AND status = 'granted'",
                    (member, activity_id),
                )
            }
            zone = self._zone(store_id)
            for ordinal in to_grant(activity.condition, total, granted):
                _grant(conn, activity, zone, member, ordinal, at, store_id)
            gone = to_revoke(activity.condition, total, granted)
            for ordinal in gone:
                _revoke(conn, activity, member, ordinal)
            for ordinal in sorted(granted - set(gone)):
                gid = grant_id(activity.id, member, ordinal)
                if gid in self.reported:  # a store took it back; HQ's total still reaches it
                    row = conn.execute(
                        "SELECT at, store_id FROM gift_grants WHERE grant_id = ?", (gid,)
                    ).fetchone()
                    when = dt.datetime.fromisoformat(row[0])
                    _issue(conn, activity, self._zone(row[1] or store_id), member, ordinal, when)
        self.touched.clear()
        self.reported.clear()


def _check(conn: Connection, event: GiftEvent) -> str:
    """Grants merge on their content, not on trust in their ids: every grant id
    must be the one its activity, member and ordinal derive, and every coupon
    id one its grant derives; ``""`` when all hold."""
    if isinstance(event, GiftCouponIssued):
        row = conn.execute(
            "SELECT activity_id, member_id, ordinal, version FROM gift_grants WHERE grant_id = ?",
            (event.grant_id,),
        ).fetchone()
        if row is None:
            return f"coupon {event.coupon_id} of grant {event.grant_id}, which HQ does not hold"
        if row[1] != event.member_id:
            return f"coupon {event.coupon_id}: grant {event.grant_id} is another member's"
        activity = _activity(conn, row[0], int(row[3]))
        if activity is not None and event.coupon_id not in {
            c for c, _ in grant_coupons(activity, row[1], int(row[2]))
        }:
            return f"coupon id {event.coupon_id} does not follow from grant {event.grant_id}"
        return ""
    refs: list[GiftGranted | GiftRevoked] = [*event.grants, *event.revoked]
    for ref in refs:
        expected = grant_id(event.activity_id, event.member_id, ref.ordinal)
        if ref.grant_id != expected:
            return (
                f"grant id {ref.grant_id} does not follow from activity {event.activity_id!r}, "
                f"member {event.member_id!r} and ordinal {ref.ordinal}"
            )
    for grant in event.grants:
        activity = _activity(conn, event.activity_id, grant.version)
        if activity is None or not grant.coupons:
            continue
        derived = {c for c, _ in grant_coupons(activity, event.member_id, grant.ordinal)}
        stray = [c.coupon_id for c in grant.coupons if c.coupon_id not in derived]
        if stray:
            return f"coupon id {stray[0]} does not follow from grant {grant.grant_id}"
    return ""


def _grant(
    conn: Connection,
    activity: CumulativeGift,
    zone: zoneinfo.ZoneInfo,
    member: str,
    ordinal: int,
    at: dt.datetime,
    store_id: str,
) -> None:
    """HQ grants an ordinal (new, or one revoked before and earned again)."""
    gid = grant_id(activity.id, member, ordinal)
    conn.execute(
        "INSERT INTO gift_grants (grant_id, activity_id, version, member_id, ordinal, status, "
        "at, store_id, origin, seq) VALUES (?, ?, ?, ?, ?, 'granted', ?, ?, 'hq', ?) "
        "ON CONFLICT (grant_id) DO UPDATE SET status = 'granted', at = excluded.at, "
        "version = excluded.version, seq = excluded.seq",
        (gid, activity.id, activity.version, member, ordinal, _iso(at), store_id, next_seq(conn)),
    )
    _issue(conn, activity, zone, member, ordinal, at)


def _issue(
    conn: Connection,
    activity: CumulativeGift,
    zone: zoneinfo.ZoneInfo,
    member: str,
    ordinal: int,
    at: dt.datetime,
) -> None:
    """Every coupon of a grant into HQ's wallet; a void one of an earlier grant comes back."""
    templates = _templates(conn, activity)
    for planned in plan_coupons(activity, member, ordinal, at, zone, templates):
        conn.execute(
            "INSERT INTO wallet_coupons (coupon_id, grant_id, template_id, member_id, "
            "valid_from, valid_until, status, seq) VALUES (?, ?, ?, ?, ?, ?, 'issued', ?) "
            "ON CONFLICT (coupon_id) DO UPDATE SET status = 'issued', "
            "valid_from = excluded.valid_from, valid_until = excluded.valid_until, "
            "seq = excluded.seq WHERE wallet_coupons.status = 'void'",
            (
                planned.coupon_id,
                planned.grant_id,
                planned.template_id,
                member,
                _iso(planned.valid_from),
                _iso(planned.valid_until),
                next_seq(conn),
            ),
        )


def _revoke(conn: Connection, activity: CumulativeGift, member: str, ordinal: int) -> None:
    gid = grant_id(activity.id, member, ordinal)
    conn.execute(
        "UPDATE gift_grants SET status = 'revoked', seq = ? WHERE grant_id = ?",
        (next_seq(conn), gid),
    )
    for coupon, _template in grant_coupons(activity, member, ordinal):
        conn.execute(
            "UPDATE wallet_coupons SET status = 'void', seq = ? "
            "WHERE coupon_id = ? AND status = 'issued'",
            (next_seq(conn), coupon),
        )


def mark_redeemed(conn: Connection, coupon_id: str, redeemed: bool, member_id: str | None) -> None:
    """A redemption (or its restoration by a full refund) of a wallet coupon HQ holds;
    only the coupon's own member's order can change it."""
    if member_id is None:
        return
    old, new = ("issued", "redeemed") if redeemed else ("redeemed", "issued")
    conn.execute(
        "UPDATE wallet_coupons SET status = ?, seq = ? "
        "WHERE coupon_id = ? AND member_id = ? AND status = ?",
        (new, next_seq(conn), coupon_id, member_id, old),
    )


def touch_gift_event(conn: Connection, event: GiftEvent) -> None:
    """Serve again the member state a repeated gift event touched, so the till can
    confirm its local rows (see :mod:`pos_promo.sync.members`)."""
    if isinstance(event, GiftCouponIssued):
        coupons = [event.coupon_id]
    else:
        conn.execute(
            "UPDATE gift_totals SET seq = ? WHERE member_id = ? AND activity_id = ?",
            (next_seq(conn), event.member_id, event.activity_id),
        )
        changed = [g.grant_id for g in event.grants] + [r.grant_id for r in event.revoked]
        for grant in changed:
            conn.execute(
                "UPDATE gift_grants SET seq = ? WHERE grant_id = ?", (next_seq(conn), grant)
            )
        coupons = [c.coupon_id for g in event.grants for c in g.coupons]
        coupons += [c for r in event.revoked for c in r.voided]
    for coupon in coupons:
        conn.execute(
            "UPDATE wallet_coupons SET seq = ? WHERE coupon_id = ?", (next_seq(conn), coupon)
        )
