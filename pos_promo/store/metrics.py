"""The merchant's per-campaign performance at this till, net of refunds.

Computed from the rows the commit and refund paths already write (order
benefits, refund benefits, the participation ledger), so the numbers can
never disagree with what was given and given back. A coupon's benefit is
recorded under the coupon's id; the report counts it under its template
(found through the wallet), which is what a merchant set up and wants to
measure. Member price and member discount have a row each.
"""

from __future__ import annotations

import sqlite3

from pos_promo.model.order import CampaignMetrics

__all__ = ["campaign_metrics"]

_REPORT = """
WITH benefit AS (  -- a benefit id -> the campaign it is reported under
    SELECT DISTINCT b.campaign_id AS id, COALESCE(w.template_id, b.campaign_id) AS campaign_id
    FROM order_benefits AS b
    LEFT JOIN wallet AS w ON w.coupon_id = b.campaign_id
        AND NOT EXISTS (SELECT 1 FROM campaigns WHERE id = b.campaign_id)
), given AS (
    SELECT k.campaign_id, COUNT(DISTINCT b.order_id) AS orders, SUM(b.amount) AS discount
    FROM order_benefits AS b JOIN benefit AS k ON k.id = b.campaign_id GROUP BY k.campaign_id
), refunded AS (
    SELECT k.campaign_id, SUM(r.amount) AS discount
    FROM refund_benefits AS r JOIN benefit AS k ON k.id = r.campaign_id GROUP BY k.campaign_id
), fully AS (  -- orders it no longer discounts: refunds took back all it gave
    SELECT k.campaign_id, COUNT(DISTINCT b.order_id) AS orders
    FROM order_benefits AS b JOIN benefit AS k ON k.id = b.campaign_id
    WHERE b.amount <= (
        SELECT COALESCE(SUM(r.amount), 0) FROM refund_benefits AS r
        WHERE r.order_id = b.order_id AND r.campaign_id = b.campaign_id
    ) GROUP BY k.campaign_id
), ledger AS (
    SELECT campaign_id, SUM(delta) AS standing FROM participations GROUP BY campaign_id
), members AS (
    SELECT campaign_id, COUNT(*) AS members FROM (
        SELECT campaign_id, member_id FROM participations WHERE member_id IS NOT NULL
        GROUP BY campaign_id, member_id HAVING SUM(delta) > 0
    ) GROUP BY campaign_id
)
SELECT g.campaign_id, COALESCE(c.name, ''), g.orders, COALESCE(f.orders, 0),
       COALESCE(l.standing, 0), COALESCE(m.members, 0), g.discount, COALESCE(r.discount, 0)
FROM given AS g
LEFT JOIN refunded AS r ON r.campaign_id = g.campaign_id
LEFT JOIN fully AS f ON f.campaign_id = g.campaign_id
LEFT JOIN ledger AS l ON l.campaign_id = g.campaign_id
LEFT JOIN members AS m ON m.campaign_id = g.campaign_id
LEFT JOIN campaigns AS c ON c.id = g.campaign_id
ORDER BY g.campaign_id
"""


def campaign_metrics(conn: sqlite3.Connection) -> list[CampaignMetrics]:
    """One row per campaign that ever gave a discount here."""
    return [
        CampaignMetrics(
            campaign_id=cid,
            name=name,
            orders=orders - refunded_orders,
            orders_refunded=refunded_orders,
            participations=standing,
            members=members,
            discount_given=given,
            discount_refunded=refunded,
            discount_net=given - refunded,
        )
        for cid, name, orders, refunded_orders, standing, members, given, refunded in conn.execute(
            _REPORT
        )
    ]
