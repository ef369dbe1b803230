"""Reading the cumulative gift back: one member's standing, and per-activity metrics.

Computed from the rows the commit, refund, release and pull paths write
(the ledger, grants, grant coupons, the wallet), so the numbers cannot
disagree with what was given and taken back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from pos_promo.engine.grants import grant_coupons, next_target
from pos_promo.engine.money import format_money
from pos_promo.model.gift import CumulativeGift
from pos_promo.model.member import ActivityMetrics, ActivityStanding, GrantView, MemberGifts
from pos_promo.store.gift_coupons import scheduled, wallet_statuses
from pos_promo.store.gift_ledger import accrual_rows, grants_of
from pos_promo.store.wallet import member_wallet

__all__ = ["gift_metrics", "member_gifts"]

_LEDGER = """
SELECT activity_id, SUM(standing), SUM(CASE WHEN standing > 0 THEN 1 ELSE 0 END) FROM (
    SELECT activity_id, member_id, SUM(amount) AS standing FROM gift_accruals
    GROUP BY activity_id, member_id
) GROUP BY activity_id
"""


def gift_metrics(
    conn: sqlite3.Connection, activities: Mapping[str, CumulativeGift]
) -> list[ActivityMetrics]:
    """One row per activity this till accrued to or holds grants of.

    A grant's coupons are found by their derived ids, so those of grants HQ
    made count too; those of an activity no longer cached are not known.
    """
    accrued = {a: (int(total), int(members)) for a, total, members in conn.execute(_LEDGER)}
    grants: dict[str, list[tuple[str, int, str]]] = {}
    for member, activity, ordinal, status in conn.execute(
        "SELECT member_id, activity_id, ordinal, status FROM gift_grants"
    ):
        grants.setdefault(activity, []).append((member, ordinal, status))
    pending = scheduled(conn)
    out = []
    for activity_id in sorted(accrued.keys() | grants.keys() | pending.keys()):
        known = activities.get(activity_id)
        mine = grants.get(activity_id, [])
        ids = [cid for m, k, _ in mine for cid, _t in grant_coupons(known, m, k)] if known else []
        statuses = list(wallet_statuses(conn, ids).values())
        total, members = accrued.get(activity_id, (0, 0))
        out.append(
            ActivityMetrics(
                activity_id,
                known.name if known else "",
                known.condition.measure if known else "",
                members,
                total,
                sum(1 for _, _, status in mine if status == "granted"),
                sum(1 for _, _, status in mine if status == "revoked"),
                len(statuses),
                statuses.count("redeemed"),
                statuses.count("void"),
                pending.get(activity_id, 0),
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
    progress = _progress(condition.measure, total, target, currency)
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


def _progress(measure: str, reached: int, target: int, currency: str) -> str:
    """``$180.00 of $200.00`` or ``11 of 15 items``."""
    if measure == "spend":
        return f"{format_money(reached, currency)} of {format_money(target, currency)}"
    return f"{reached} of {target} items"
