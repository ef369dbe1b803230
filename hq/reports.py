"""The performance figures merchants read: per promotion, per gift activity, per store.

Every figure is one SQL aggregate over what ingest stored (the promotion
ledger of :mod:`hq.ledger`, ``orders``, the gift tables), in SQL both
SQLite and PostgreSQL run as written (``SUM``/``COUNT``/``CASE``/
``GROUP BY``, ``SUBSTR``, no JSON functions, no ``FILTER``); only names and
kinds come from the published documents, decoded here. Money is integer
minor units, as stored.

Definitions (the pages say them too):

* a promotion's ``orders`` are the orders it applied to, ``given`` the
  discount it gave on them, ``refunded`` what refunds took back, ``net``
  the difference; ``participations`` add up the participation deltas
  (anonymous orders' too: uptake, not members' limits); ``members`` count
  distinct members among its orders; a day is
  the order's local day at its store; the ``code`` is the campaign id;
* a gift activity's ``orders`` and ``members`` are those whose orders
  added to it, ``accrued`` is net of refunds; ``grants`` standing and
  ``grants_revoked``; its coupons ``issued`` (ever), ``redeemed``,
  ``voided``; a day is the UTC day of the accrual or grant;
* a store's ``orders`` and ``discount`` are all its orders and their total
  discount (coupons included), ``by_campaign`` the promotion ledger; an
  order HQ keeps as a flagged copy (the same order id with another
  payload) is not counted anywhere.
"""

from __future__ import annotations

import json
from typing import Any

from pos_promo_hq.db import Connection

__all__ = [
    "ReportNotFound",
    "gift_activities",
    "gift_activity",
    "promotion",
    "promotions",
    "store",
    "stores",
]


class ReportNotFound(LookupError):
    """No promotion, activity or store of that id is known to HQ."""


_PROMOTION_SUMS = (
    "SUM(CASE WHEN kind = 'order' THEN 1 ELSE 0 END), SUM(given), SUM(refunded), "
    "SUM(participations), "
    "COUNT(DISTINCT CASE WHEN kind = 'order' THEN member_id END)"
)


def _sums(row: tuple[Any, ...]) -> dict[str, int]:
    orders, given, refunded, participations, members = (int(v or 0) for v in row)
    return {
        "orders": orders,
        "given": given,
        "refunded": refunded,
        "net": given - refunded,
        "participations": participations,
        "members": members,
    }


def _documents(conn: Connection) -> dict[str, dict[str, Any]]:
    """Each published campaign at its latest version."""
    rows = conn.execute(
        "SELECT c.id, c.document FROM changes c JOIN (SELECT id, MAX(version) AS version "
        "FROM changes WHERE type = 'campaign' GROUP BY id) latest "
        "ON latest.id = c.id AND latest.version = c.version WHERE c.type = 'campaign'"
    ).fetchall()
    return {str(i): json.loads(doc) for i, doc in rows}


def _named(campaign_id: str, doc: dict[str, Any] | None) -> dict[str, Any]:
    doc = doc or {}
    return {
        "id": campaign_id,
        "code": campaign_id,
        "name": str(doc.get("name") or campaign_id),
        "kind": str(doc.get("kind", "")),
        "version": int(doc.get("version", 0)),
    }


def promotions(conn: Connection) -> list[dict[str, Any]]:
    """Every promotion published or seen in an order, with its totals across stores."""
    docs = _documents(conn)
    totals = {
        str(row[0]): _sums(row[1:])
        for row in conn.execute(
            f"SELECT campaign_id, {_PROMOTION_SUMS} FROM promotion_ledger GROUP BY campaign_id"
        )
    }
    gifts = {i for i, d in docs.items() if d.get("kind") == "cumulative_gift"}
    ids = (set(docs) | set(totals)) - gifts
    empty = _sums((0, 0, 0, 0, 0))
    return [{**_named(i, docs.get(i)), **totals.get(i, empty)} for i in sorted(ids)]


def promotion(conn: Connection, campaign_id: str) -> dict[str, Any]:
    """One promotion: its totals, by local day and by store."""
    found = [p for p in promotions(conn) if p["id"] == campaign_id]
    if not found:
        raise ReportNotFound(f"no promotion {campaign_id!r}")
    by_day = [
        {"day": str(row[0]), **_sums(row[1:])}
        for row in conn.execute(
            f"SELECT local_date, {_PROMOTION_SUMS} FROM promotion_ledger WHERE campaign_id = ? "
            "GROUP BY local_date ORDER BY local_date",
            (campaign_id,),
        )
    ]
    by_store = [
        {"store_id": str(row[0]), **_sums(row[1:])}
        for row in conn.execute(
            f"SELECT store_id, {_PROMOTION_SUMS} FROM promotion_ledger WHERE campaign_id = ? "
            "GROUP BY store_id ORDER BY store_id",
            (campaign_id,),
        )
    ]
    return {**found[0], "by_day": by_day, "by_store": by_store}


def _gift_sums(conn: Connection, activity_id: str | None) -> dict[str, dict[str, int]]:
    where, args = ("WHERE activity_id = ?", (activity_id,)) if activity_id else ("", ())
    out: dict[str, dict[str, int]] = {}
    for a, orders, members, accrued in conn.execute(
        "SELECT activity_id, COUNT(DISTINCT CASE WHEN amount > 0 THEN store_id || '/' || "
        "order_id END), COUNT(DISTINCT CASE WHEN amount > 0 THEN member_id END), SUM(amount) "
        f"FROM gift_accruals {where} GROUP BY activity_id",
        args,
    ):
        out.setdefault(str(a), {}).update(
            orders=int(orders), members=int(members), accrued=int(accrued or 0)
        )
    for a, standing, revoked in conn.execute(
        "SELECT activity_id, SUM(CASE WHEN status = 'granted' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status = 'revoked' THEN 1 ELSE 0 END) "
        f"FROM gift_grants {where} GROUP BY activity_id",
        args,
    ):
        out.setdefault(str(a), {}).update(grants=int(standing), grants_revoked=int(revoked))
    for a, issued, redeemed, voided in conn.execute(
        "SELECT g.activity_id, COUNT(*), SUM(CASE WHEN w.status = 'redeemed' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN w.status = 'void' THEN 1 ELSE 0 END) FROM wallet_coupons w "
        f"JOIN gift_grants g ON g.grant_id = w.grant_id {where.replace('activity', 'g.activity')} "
        "GROUP BY g.activity_id",
        args,
    ):
        out.setdefault(str(a), {}).update(
            coupons_issued=int(issued),
            coupons_redeemed=int(redeemed),
            coupons_voided=int(voided),
        )
    return out


_GIFT_FIELDS = (
    "orders",
    "members",
    "accrued",
    "grants",
    "grants_revoked",
    "coupons_issued",
    "coupons_redeemed",
    "coupons_voided",
)


def gift_activities(conn: Connection) -> list[dict[str, Any]]:
    """Every cumulative gift activity published or accrued to, with its totals."""
    docs = _documents(conn)
    sums = _gift_sums(conn, None)
    ids = {i for i, d in docs.items() if d.get("kind") == "cumulative_gift"} | set(sums)
    return [
        {
            **_named(i, docs.get(i)),
            **{f: sums.get(i, {}).get(f, 0) for f in _GIFT_FIELDS},
            "measure": str(docs.get(i, {}).get("condition", {}).get("measure", "")),
        }
        for i in sorted(ids)
    ]


def gift_activity(conn: Connection, activity_id: str) -> dict[str, Any]:
    """One gift activity: its totals and, by UTC day, orders, members, accrued and grants."""
    found = [a for a in gift_activities(conn) if a["id"] == activity_id]
    if not found:
        raise ReportNotFound(f"no gift activity {activity_id!r}")
    days: dict[str, dict[str, int]] = {}
    for day, orders, members, accrued in conn.execute(
        "SELECT SUBSTR(at, 1, 10), COUNT(DISTINCT CASE WHEN amount > 0 THEN store_id || '/' || "
        "order_id END), COUNT(DISTINCT CASE WHEN amount > 0 THEN member_id END), SUM(amount) "
        "FROM gift_accruals WHERE activity_id = ? GROUP BY SUBSTR(at, 1, 10)",
        (activity_id,),
    ):
        days[str(day)] = {"orders": int(orders), "members": int(members), "accrued": int(accrued)}
    for day, granted in conn.execute(
        "SELECT SUBSTR(at, 1, 10), COUNT(*) FROM gift_grants WHERE activity_id = ? "
        "GROUP BY SUBSTR(at, 1, 10)",
        (activity_id,),
    ):
        days.setdefault(str(day), {})["grants"] = int(granted)
    by_day = [
        {
            "day": day,
            **{f: days[day].get(f, 0) for f in ("orders", "members", "accrued", "grants")},
        }
        for day in sorted(days)
    ]
    return {**found[0], "by_day": by_day}


def stores(conn: Connection) -> list[dict[str, Any]]:
    """Every store HQ holds orders or pushes from: orders, discount, last push, backlog."""
    out: dict[str, dict[str, Any]] = {}
    for s, orders, discount in conn.execute(
        "SELECT store_id, COUNT(*), SUM(total_discount) FROM orders WHERE copy = 0 "
        "GROUP BY store_id"
    ):
        out[str(s)] = {"orders": int(orders), "discount": int(discount or 0)}
    for s, at, backlog, pushes in conn.execute(
        "SELECT store_id, last_push_at, backlog, pushes FROM store_pushes"
    ):
        out.setdefault(str(s), {}).update(last_push_at=str(at), backlog=backlog, pushes=int(pushes))
    blank = {"orders": 0, "discount": 0, "last_push_at": None, "backlog": None, "pushes": 0}
    return [{"store_id": s, **blank, **out[s]} for s in sorted(out)]


def store(conn: Connection, store_id: str) -> dict[str, Any]:
    """One store: its totals and, per promotion, orders and discount given."""
    found = [s for s in stores(conn) if s["store_id"] == store_id]
    if not found:
        raise ReportNotFound(f"no store {store_id!r}")
    docs = _documents(conn)
    by_campaign = [
        {**_named(str(row[0]), docs.get(str(row[0]))), **_sums(row[1:])}
        for row in conn.execute(
            f"SELECT campaign_id, {_PROMOTION_SUMS} FROM promotion_ledger WHERE store_id = ? "
            "GROUP BY campaign_id ORDER BY campaign_id",
            (store_id,),
        )
    ]
    return {**found[0], "by_campaign": by_campaign}
