"""What the till reports about its gifts: the store reads rows, the engine shapes them.

``pos-promo member`` shows one member's standing per activity (with the
next target and progress), grants and wallet; ``pos-promo gifts`` one row
per activity. Both are computed from the rows the commit, refund, release
and pull paths write, so they cannot disagree with what was given.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from pos_promo.engine.gift_reports import activity_metrics, activity_standing, grant_coupon_ids
from pos_promo.model.gift import CumulativeGift
from pos_promo.model.member import ActivityMetrics, MemberGifts
from pos_promo.store.gift_coupons import scheduled, wallet_statuses
from pos_promo.store.gift_ledger import accrual_rows
from pos_promo.store.gift_report import grants_by_activity, ledger_totals, member_grants
from pos_promo.store.wallet import member_wallet

__all__ = ["gift_metrics", "member_gifts"]


def gift_metrics(
    conn: sqlite3.Connection, activities: Mapping[str, CumulativeGift]
) -> list[ActivityMetrics]:
    """One row per activity this till accrued to or holds grants of.

    A grant's coupons are found by their derived ids, so those of grants HQ
    made count too; those of an activity no longer cached are not known.
    """
    accrued = ledger_totals(conn)
    grants = grants_by_activity(conn)
    pending = scheduled(conn)
    out = []
    for activity_id in sorted(accrued.keys() | grants.keys() | pending.keys()):
        known = activities.get(activity_id)
        mine = grants.get(activity_id, [])
        statuses = list(wallet_statuses(conn, grant_coupon_ids(known, mine)).values())
        out.append(
            activity_metrics(
                activity_id,
                known,
                accrued.get(activity_id, (0, 0)),
                mine,
                statuses,
                pending.get(activity_id, 0),
            )
        )
    return out


def member_gifts(
    conn: sqlite3.Connection,
    member_id: str,
    activities: Mapping[str, CumulativeGift],
    currency: str,
) -> MemberGifts:
    """The member's totals per activity, grants and wallet as this till knows them."""
    standings = tuple(
        activity_standing(activity_id, activities.get(activity_id), confirmed, local, currency)
        for activity_id, confirmed, local in accrual_rows(conn, member_id)
    )
    return MemberGifts(
        member_id, standings, member_grants(conn, member_id), tuple(member_wallet(conn, member_id))
    )
