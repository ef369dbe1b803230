"""What a refund takes back from a member's cumulative gifts, decided without I/O.

The embedded :class:`~pos_promo.embedded.Engine` orchestrates the gift side
of a refund (:mod:`pos_promo.till.gifts`): the store reads the order's
accrual entries (the basis kept at commit and what each still counts for)
and the units the order still holds; :func:`accrual_changes` says what the
order no longer earns per activity; the store records those entries and
reads the member's new standing; :func:`revocations` says which grants
that total no longer reaches, with the derived ids of the grant and its
coupons, so the store voids exactly what HQ computes too.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import msgspec

from pos_promo.engine.accrual import LineUnits, standing
from pos_promo.engine.grants import grant_coupons, grant_id, to_revoke
from pos_promo.model.gift import AccrualBasis, AccrualChange, CumulativeGift
from pos_promo.model.receipt import LineAllocation

__all__ = ["Revocation", "accrual_changes", "revocations", "units_left"]


class Revocation(msgspec.Struct, frozen=True):
    """One grant a refund takes back: its ordinal, its derived id, and the
    ``(coupon id, template id)`` of every coupon it issued or scheduled."""

    ordinal: int
    grant_id: str
    coupons: tuple[tuple[str, str], ...]


def units_left(
    lines: Sequence[LineAllocation], refunded: Mapping[str, int] | None = None
) -> dict[str, LineUnits]:
    """Each line as sold with the units it still holds.

    ``lines`` are a re-evaluated refund's kept allocation (their quantity
    is what is kept, at what the kept units cost now) or the receipt's
    lines, less the units ``refunded`` so far.
    """
    back = refunded or {}
    return {
        line.line_id: (
            line.unit_price,
            line.unit_discounts,
            line.quantity - back.get(line.line_id, 0),
        )
        for line in lines
    }


def accrual_changes(
    accrued: Sequence[tuple[AccrualBasis, int]], lines: Mapping[str, LineUnits]
) -> tuple[AccrualChange, ...]:
    """Per activity the order accrued to, what its standing moves by (signed),
    from the basis kept at commit and the units still held; activities
    that did not move are left out, so a retried refund changes nothing."""
    changes = []
    for basis, counted in accrued:
        delta = standing(basis, lines) - counted
        if delta:
            changes.append(AccrualChange(basis.activity_id, delta))
    return tuple(changes)


def revocations(
    activity: CumulativeGift, member_id: str, total: int, granted: Collection[int]
) -> tuple[Revocation, ...]:
    """The grants ``total`` no longer reaches, rising, each with its coupons."""
    return tuple(
        Revocation(
            ordinal,
            grant_id(activity.id, member_id, ordinal),
            tuple(grant_coupons(activity, member_id, ordinal)),
        )
        for ordinal in to_revoke(activity.condition, total, granted)
    )
