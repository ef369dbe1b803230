"""What one order does to a member's cumulative gifts, decided without I/O.

The embedded :class:`~pos_promo.embedded.Engine` orchestrates a commit:
the store reads the member's standing in each activity (total, ordinals
granted), this module decides what the order adds to each, which ordinals
it grants and the coupons each grant plans, and the store records exactly
that (:mod:`pos_promo.store.gifts`, through :mod:`pos_promo.till.gifts`).
A preview is the same decision without payments and without granting.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

import msgspec

from pos_promo.engine.accrual import (
    CompiledActivity,
    LineUnits,
    accrual_basis,
    preview,
    prorate,
    result_units,
    standing,
)
from pos_promo.engine.audience import Blocked, Context
from pos_promo.engine.grants import PlannedCoupon, grant_id, plan_coupons, to_grant
from pos_promo.model.coupon import CouponTemplate
from pos_promo.model.gift import AccrualBasis
from pos_promo.model.order import Payment
from pos_promo.model.result import AccrualPreview, EvaluationResult

__all__ = ["GiftStanding", "OrderGift", "PlannedGrant", "order_gifts"]


class GiftStanding(Protocol):
    """A member's standing in one activity, as the store reads it."""

    @property
    def total(self) -> int:
        """What the member has accrued so far (confirmed and local)."""

    @property
    def granted(self) -> Collection[int]:
        """The ordinals granted and not revoked."""


class PlannedGrant(msgspec.Struct, frozen=True):
    """One ordinal the order grants, its derived id (the same on every till),
    and every coupon it issues or schedules."""

    ordinal: int
    grant_id: str
    coupons: tuple[PlannedCoupon, ...]


class OrderGift(msgspec.Struct, frozen=True):
    """The order's effect on one live activity.

    ``verdict`` is the accrual basis the order is kept with (or why it
    does not accrue); ``adds`` what it adds to the member's ``total``;
    ``grants`` the ordinals it grants (a commit by a member only);
    ``preview`` the facts a receipt words.
    """

    activity: CompiledActivity
    verdict: AccrualBasis | Blocked
    adds: int
    total: int
    grants: tuple[PlannedGrant, ...]
    preview: AccrualPreview

    @property
    def accrues(self) -> bool:
        """Whether the order writes an accrual entry for this activity."""
        return not isinstance(self.verdict, Blocked) and self.adds > 0


def order_gifts(
    activities: Sequence[CompiledActivity],
    ctx: Context,
    result: EvaluationResult,
    payments: Sequence[Payment],
    standings: Mapping[str, GiftStanding],
    templates: Mapping[str, CouponTemplate],
    zone: zoneinfo.ZoneInfo,
    *,
    grant: bool,
) -> tuple[OrderGift, ...]:
    """Each live activity: what the order adds, what it grants (``grant``: a
    commit, for the cart's member) and the preview.

    Without payments (a preview) the tenders are assumed to accrue.
    """
    member = ctx.cart.member
    at: dt.datetime = result.at
    units: dict[str, LineUnits] | None = None
    out = []
    for activity in activities:
        verdict = accrual_basis(activity, ctx, result, payments)
        adds = 0
        if isinstance(verdict, Blocked):
            pass
        elif verdict.all_lines:  # every line, every unit held: what the order costs
            adds = prorate(result.total, verdict.shareable, verdict.paid)
        else:
            if units is None:
                units = result_units(result)
            adds = standing(verdict, units)
        mine = standings.get(activity.id)
        total, granted = (mine.total, mine.granted) if mine is not None else (0, ())
        grants: tuple[PlannedGrant, ...] = ()
        if grant and member is not None and not isinstance(verdict, Blocked) and adds > 0:
            gift = activity.campaign
            grants = tuple(
                PlannedGrant(
                    ordinal,
                    grant_id(gift.id, member.id, ordinal),
                    tuple(plan_coupons(gift, member.id, ordinal, at, zone, templates)),
                )
                for ordinal in to_grant(gift.condition, total + adds, granted)
            )
        out.append(
            OrderGift(
                activity,
                verdict,
                adds,
                total,
                grants,
                preview(activity, verdict, adds, total, granted, templates),
            )
        )
    return tuple(out)
