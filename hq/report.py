"""What HQ counted, for tests, the demo and an operator: ``GET /admin/report``.

Event counts per kind and store (each id once, by construction), orders
and net spend per member across stores, participation totals, cumulative
gift totals, every grant (with the stores that reported the same ordinal)
and the wallet coupons by status, every flag raised (receipt divergences,
coupons redeemed twice, event and order conflicts), and the replay queue:
orders waiting and outcomes so far.
"""

from __future__ import annotations

from typing import Any

from pos_promo_hq.db import Connection

__all__ = ["report"]


def report(conn: Connection, with_ids: bool = False) -> dict[str, Any]:
    """HQ's totals as one JSON-ready dict (what ``GET /admin/report`` serves): events by kind and
    store, members' spend net of refunds, participations, gift totals, grants, wallet coupons,
    flags and replays; ``with_ids`` adds every event id, which the contract tests compare."""
    by_kind = dict(conn.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind").fetchall())
    by_store = dict(
        conn.execute("SELECT store_id, COUNT(*) FROM events GROUP BY store_id").fetchall()
    )
    members = [
        {
            "member_id": m,
            "orders": n,
            "spend": spend,
            "refunded": refunded,
            "net_spend": spend - refunded,
        }
        for m, n, spend, refunded in conn.execute(
            "SELECT o.member_id, COUNT(*), CAST(SUM(o.total) AS BIGINT), "
            "CAST(COALESCE((SELECT SUM(r.amount) FROM refunds r JOIN orders o2 "
            "ON o2.store_id = r.store_id AND o2.order_id = r.order_id AND o2.copy = 0 "
            "WHERE o2.member_id = o.member_id), 0) AS BIGINT) "
            "FROM orders o WHERE o.member_id IS NOT NULL GROUP BY o.member_id ORDER BY 1"
        )
    ]
    participations = [
        {"member_id": m, "campaign_id": c, "total": t}
        for m, c, t in conn.execute(
            "SELECT member_id, campaign_id, total FROM participation_counts ORDER BY 1, 2"
        )
    ]
    flags = [
        {"kind": k, "store_id": s, "order_id": o, "subject": subj, "detail": d}
        for k, s, o, subj, d in conn.execute(
            "SELECT kind, store_id, order_id, subject, detail FROM flags ORDER BY id"
        )
    ]
    gift_totals = [
        {"member_id": m, "activity_id": a, "measure": measure, "total": t}
        for m, a, measure, t in conn.execute(
            "SELECT member_id, activity_id, measure, total FROM gift_totals ORDER BY 1, 2"
        )
    ]
    grants = [
        {
            "grant_id": g,
            "member_id": m,
            "activity_id": a,
            "ordinal": k,
            "status": status,
            "origin": origin,
            "reported_by": sorted(
                {
                    s
                    for (s,) in conn.execute(
                        "SELECT store_id FROM gift_grant_reports WHERE grant_id = ? "
                        "AND status = 'granted'",
                        (g,),
                    )
                }
            ),
        }
        for g, m, a, k, status, origin in conn.execute(
            "SELECT grant_id, member_id, activity_id, ordinal, status, origin FROM gift_grants "
            "ORDER BY member_id, activity_id, ordinal"
        )
    ]
    coupons = [
        {"coupon_id": c, "grant_id": g, "member_id": m, "template_id": t, "status": status}
        for c, g, m, t, status in conn.execute(
            "SELECT coupon_id, grant_id, member_id, template_id, status FROM wallet_coupons "
            "ORDER BY member_id, coupon_id"
        )
    ]
    replays = dict(
        conn.execute(
            "SELECT COALESCE(outcome, 'pending'), COUNT(*) FROM replay_queue "
            "GROUP BY COALESCE(outcome, 'pending')"
        ).fetchall()
    )
    out: dict[str, Any] = {
        "events": sum(by_kind.values()),
        "events_by_kind": by_kind,
        "events_by_store": by_store,
        "orders": conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0],
        "refunds": conn.execute("SELECT COUNT(*) FROM refunds").fetchone()[0],
        "members": members,
        "participations": participations,
        "gift_totals": gift_totals,
        "grants": grants,
        "wallet_coupons": coupons,
        "flags": flags,
        "replays": replays,
        "replay_backlog": replays.get("pending", 0),
    }
    if with_ids:
        out["event_ids"] = [i for (i,) in conn.execute("SELECT id FROM events ORDER BY id")]
    return out
