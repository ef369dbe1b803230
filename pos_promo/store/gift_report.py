"""Reading the cumulative gift back: one member's standing, and per-activity metrics.

Computed from the rows the commit, refund, release and pull paths write
(the ledger, grants, grant coupons, the wallet), so the numbers cannot
disagree with what was given and taken back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from pos_promo.engine.accrual import progress_text
from pos_promo.engine.grants import next_target
from pos_promo.model.gift import CumulativeGift
from pos_promo.model.member import ActivityMetrics, ActivityStanding, GrantView, MemberGifts
from pos_promo.store.gift_ledger import accrual_rows, grants_of
from pos_promo.store.wallet import member_wallet

__all__ = ["gift_metrics", "member_gifts"]

_METRICS = """
WITH ledger AS (
    SELECT activity_id, member_id, SUM(amount) AS standing FROM gift_accruals
    GROUP BY activity_id, member_id
), accrued AS (
    SELECT activity_id, SUM(standing) AS accrued,
           SUM(CASE WHEN standing > 0 THEN 1 ELSE 0 END) AS members
    FROM ledger GROUP BY activity_id
), grants AS (
    SELECT activity_id, SUM(status = 'granted') AS standing, SUM(status = 'revoked') AS revoked
    FROM gift_grants GROUP BY activity_id
), coupons AS (
    SELECT g.activity_id,
           SUM(g.state = 'issued') AS issued,
           SUM(g.state = 'issued' AND w.status = 'redeemed') AS redeemed,
           SUM(g.state = 'issued' AND w.status = 'void') AS voided,
           SUM(g.state = 'scheduled') AS scheduled
    FROM gift_coupons g LEFT JOIN wallet w ON w.coupon_id = g.coupon_id
    GROUP BY g.activity_id
), ids AS (
    SELECT activity_id FROM accrued UNION SELECT activity_id FROM grants
    UNION SELECT activity_id FROM coupons
)
SELECT i.activity_id, COALESCE(a.members, 0), COALESCE(a.accrued, 0),
       COALESCE(g.standing, 0), COALESCE(g.revoked, 0), COALESCE(c.issued, 0),
       COALESCE(c.redeemed, 0), COALESCE(c.voided, 0), COALESCE(c.scheduled, 0)
FROM ids AS i
LEFT JOIN accrued AS a ON a.activity_id = i.activity_id
LEFT JOIN grants AS g ON g.activity_id = i.activity_id
LEFT JOIN coupons AS c ON c.activity_id = i.activity_id
ORDER BY i.activity_id
"""


def gift_metrics(
    conn: sqlite3.Connection, activities: Mapping[str, CumulativeGift]
) -> list[ActivityMetrics]:
    """One row per activity this till accrued to, granted or issued coupons for."""
    out = []
    for row in conn.execute(_METRICS):
        activity_id = row[0]
        known = activities.get(activity_id)
        out.append(
            ActivityMetrics(
                activity_id,
                known.name if known else "",
                known.condition.measure if known else "",
                *row[1:],
            )
        )
    return out


def _standing(
    activity_id: str,
    known: CumulativeGift | None,
    confirmed: int,
    local: int,
    currency: str,
) -> ActivityStanding:
    total = confirmed + local
    if known is None:
        return ActivityStanding(activity_id, "", "", confirmed, local, total)
    condition = known.condition
    target = next_target(condition, total)
    progress = progress_text(condition.measure, total, target, currency)
    return ActivityStanding(
        activity_id,
        known.name,
        condition.measure,
        confirmed,
        local,
        total,
        target,
        progress,
    )


def member_gifts(
    conn: sqlite3.Connection,
    member_id: str,
    activities: Mapping[str, CumulativeGift],
    currency: str,
) -> MemberGifts:
    """The member's totals per activity, grants and wallet as this till knows them."""
    standings = tuple(
        _standing(activity_id, activities.get(activity_id), confirmed, local, currency)
        for activity_id, confirmed, local in accrual_rows(conn, member_id)
    )
    grants = tuple(
        GrantView(
            g.grant_id,
            g.activity_id,
            g.ordinal,
            g.status,
            g.at,
            g.source,
            g.order_id,
            g.store_id,
            g.pending_event is not None,
        )
        for g in grants_of(conn, member_id)
    )
    return MemberGifts(member_id, standings, grants, tuple(member_wallet(conn, member_id)))
