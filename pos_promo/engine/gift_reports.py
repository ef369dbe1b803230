"""How a member's cumulative gifts and an activity's figures read, decided without I/O.

The store reads the rows (ledger totals, grants, pending releases, the
statuses of the coupons a grant issued); these functions turn them into
what ``pos-promo member`` and ``pos-promo gifts`` show: the next target
and the progress toward it, and per-activity metrics. The coupon ids of a
grant are derived here (:func:`grant_coupon_ids`), so the store can look
up the coupons of grants HQ made too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pos_promo.engine.grants import grant_coupons, next_target
from pos_promo.engine.money import format_money
from pos_promo.model.gift import CumulativeGift
from pos_promo.model.member import ActivityMetrics, ActivityStanding

__all__ = ["GrantFact", "activity_metrics", "activity_standing", "grant_coupon_ids"]

GrantFact = tuple[str, int, str]
"""One grant as the store reads it: ``(member id, ordinal, status)``."""


def activity_standing(
    activity_id: str,
    known: CumulativeGift | None,
    confirmed: int,
    local: int,
    currency: str,
) -> ActivityStanding:
    """The member's total in one activity, its next target and the progress
    toward it (an activity no longer cached shows its totals only)."""
    total = confirmed + local
    if known is None:
        return ActivityStanding(activity_id, "", "", confirmed, local, total)
    condition = known.condition
    target = next_target(condition, total)
    return ActivityStanding(
        activity_id,
        known.name,
        condition.measure,
        confirmed,
        local,
        total,
        target,
        _progress(condition.measure, total, target, currency),
    )


def _progress(measure: str, reached: int, target: int, currency: str) -> str:
    """``$180.00 of $200.00`` or ``11 of 15 items``."""
    if measure == "spend":
        return f"{format_money(reached, currency)} of {format_money(target, currency)}"
    return f"{reached} of {target} items"


def grant_coupon_ids(known: CumulativeGift | None, grants: Iterable[GrantFact]) -> list[str]:
    """Every coupon id the grants issued (derived, whoever granted them);
    none for an activity no longer cached, whose gifts are not known."""
    if known is None:
        return []
    return [
        cid
        for member, ordinal, _status in grants
        for cid, _template in grant_coupons(known, member, ordinal)
    ]


def activity_metrics(
    activity_id: str,
    known: CumulativeGift | None,
    accrued: tuple[int, int],
    grants: Sequence[GrantFact],
    statuses: Sequence[str],
    pending: int,
) -> ActivityMetrics:
    """One activity's row: ``accrued`` is (total, members with a positive
    standing); ``statuses`` the wallet status of each coupon its grants
    issued; ``pending`` its releases not yet due."""
    total, members = accrued
    return ActivityMetrics(
        activity_id,
        known.name if known else "",
        known.condition.measure if known else "",
        members,
        total,
        sum(1 for _, _, status in grants if status == "granted"),
        sum(1 for _, _, status in grants if status == "revoked"),
        len(statuses),
        statuses.count("redeemed"),
        statuses.count("void"),
        pending,
    )
