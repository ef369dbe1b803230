"""Grants of a cumulative gift: which ordinals a total earns, their ids, their coupons.

Pure and deterministic. A grant id is derived only from (activity, member,
ordinal) and a coupon id only from (activity, member, ordinal, gift line,
unit): two tills that grant the same ordinal while both are offline write
byte-identical ids, and HQ merges them instead of giving the gift twice.
The same goes for *when* a coupon is issued and how long it is valid: they
follow from the trigger instant, the store's time zone and the activity,
so HQ can compute exactly the coupons a till will release later.

Store-local wall clock (SPEC §1) decides daily releases and fixed windows;
``zoneinfo`` does the arithmetic, and daylight-saving gaps and repeats are
resolved explicitly (:func:`wall_start`, :func:`wall_end`), never by
accident.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
import zoneinfo
from collections.abc import Collection, Mapping

import msgspec

from pos_promo.engine.clock import local_wall as _wall
from pos_promo.engine.clock import wall_end, wall_start
from pos_promo.ids import uuid5
from pos_promo.limits import MAX_GRANTS_PER_ORDER
from pos_promo.model.coupon import CouponTemplate, FixedValidity, RelativeValidity, Validity
from pos_promo.model.gift import (
    CumulativeGift,
    DailyRelease,
    Distribution,
    GiftCondition,
    HourlyRelease,
)

__all__ = [
    "GIFT_NAMESPACE",
    "PlannedCoupon",
    "coupon_id",
    "coupon_window",
    "earned",
    "grant_coupons",
    "grant_id",
    "next_target",
    "plan_coupons",
    "release_at",
    "to_grant",
    "to_revoke",
    "wall_end",
    "wall_start",
]

GIFT_NAMESPACE = uuid.UUID("0b7f2c9e-5a61-5e0d-8c3a-6f2d4e9b1a77")


def grant_id(activity_id: str, member_id: str, ordinal: int) -> str:
    """The id of ordinal ``ordinal`` of ``activity_id`` for ``member_id``, on any till."""
    return uuid5(GIFT_NAMESPACE, f"grant\x1f{activity_id}\x1f{member_id}\x1f{ordinal}")


def coupon_id(activity_id: str, member_id: str, ordinal: int, line: int, unit: int) -> str:
    """The id of coupon ``unit`` of gift line ``line`` (both 1-based) of one grant."""
    key = f"coupon\x1f{activity_id}\x1f{member_id}\x1f{ordinal}\x1f{line}\x1f{unit}"
    return uuid5(GIFT_NAMESPACE, key)


def grant_coupons(activity: CumulativeGift, member_id: str, ordinal: int) -> list[tuple[str, str]]:
    """``(coupon id, template id)`` of every coupon a grant issues, line by line, unit by unit."""
    return [
        (coupon_id(activity.id, member_id, ordinal, line, unit), gift.template_id)
        for line, gift in enumerate(activity.gifts, 1)
        for unit in range(1, gift.quantity + 1)
    ]


def earned(condition: GiftCondition, total: int) -> int:
    """The highest ordinal ``total`` reaches (0: none)."""
    if total < condition.threshold:
        return 0
    return 1 if condition.repeat == "once" else total // condition.threshold


def next_target(condition: GiftCondition, total: int) -> int:
    """The threshold ``total`` heads for: X for "once", the next multiple for "every"."""
    if condition.repeat == "once":
        return condition.threshold
    return (earned(condition, total) + 1) * condition.threshold


def to_grant(
    condition: GiftCondition,
    total: int,
    granted: Collection[int],
    limit: int = MAX_GRANTS_PER_ORDER,
) -> list[int]:
    """The lowest ordinals ``total`` reaches that are not granted yet, rising,
    at most ``limit`` of them.

    The rest stay owed: the total still reaches them, so the member's next
    order (or HQ's next merge) grants them. Without the bound one large order
    against a small "every" threshold planned thousands of grants in one
    commit; the walk itself steps over granted ordinals only, never over the
    whole range.
    """
    top = earned(condition, total)
    found: list[int] = []
    ordinal = 1
    while ordinal <= top and len(found) < limit:
        if ordinal not in granted:
            found.append(ordinal)
        ordinal += 1
    return found


def to_revoke(condition: GiftCondition, total: int, granted: Collection[int]) -> list[int]:
    """Granted ordinals ``total`` no longer reaches, rising."""
    top = earned(condition, total)
    return sorted(k for k in granted if k > top)


def release_at(
    distribution: Distribution, trigger: dt.datetime, zone: zoneinfo.ZoneInfo
) -> dt.datetime | None:
    """When a coupon of this distribution is issued (UTC); ``None``: at once.

    Hourly delays are elapsed hours; daily ones start the store-local day
    ``days`` days after the trigger's local day.
    """
    if isinstance(distribution, HourlyRelease):
        return trigger.astimezone(dt.UTC) + dt.timedelta(hours=distribution.hours)
    if isinstance(distribution, DailyRelease):
        day = _wall(trigger, zone).date() + dt.timedelta(days=distribution.days)
        return wall_start(dt.datetime.combine(day, dt.time()), zone)
    return None


def coupon_window(
    validity: Validity, issued: dt.datetime, zone: zoneinfo.ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    """``(valid_from, valid_until)`` in UTC of a coupon issued at ``issued``.

    Relative: from the issue instant to the same store-local wall time
    ``days`` days later (a day is a calendar day, 23 or 25 hours across a
    daylight-saving change). Fixed: the local window, both ends included.
    """
    if isinstance(validity, FixedValidity):
        return wall_start(validity.start, zone), wall_end(validity.end, zone)
    assert isinstance(validity, RelativeValidity)
    issued = issued.astimezone(dt.UTC)
    until = wall_end(_wall(issued, zone) + dt.timedelta(days=validity.days), zone)
    return issued, until


class PlannedCoupon(msgspec.Struct, frozen=True):
    """One coupon a grant issues: when (``due``, UTC) and with what validity.

    ``due`` is the trigger instant for an instant gift. The coupon's
    validity counts from ``due``, also when it is released late (the
    daemon was down): the member gets the coupon HQ also computes.
    """

    coupon_id: str
    grant_id: str
    template_id: str
    line: int
    unit: int
    due: dt.datetime
    instant: bool
    valid_from: dt.datetime
    valid_until: dt.datetime


def plan_coupons(
    activity: CumulativeGift,
    member_id: str,
    ordinal: int,
    trigger: dt.datetime,
    zone: zoneinfo.ZoneInfo,
    templates: Mapping[str, CouponTemplate],
) -> list[PlannedCoupon]:
    """Every coupon ordinal ``ordinal`` issues, gift line by gift line.

    A gift whose template is not in ``templates`` takes a 30-day relative
    validity only if it names none of its own; imports refuse such gifts,
    so this happens only if a template was withdrawn since.
    """
    gid = grant_id(activity.id, member_id, ordinal)
    lines = tuple(
        (
            gift.distribution,
            gift.validity
            or (templates[gift.template_id].validity if gift.template_id in templates else None)
            or RelativeValidity(30),
        )
        for gift in activity.gifts
    )
    planned = []
    for line, (gift, (issued, instant, valid_from, valid_until)) in enumerate(
        zip(activity.gifts, _schedule(lines, trigger.astimezone(dt.UTC), zone), strict=True), 1
    ):
        for unit in range(1, gift.quantity + 1):
            planned.append(
                PlannedCoupon(
                    coupon_id(activity.id, member_id, ordinal, line, unit),
                    gid,
                    gift.template_id,
                    line,
                    unit,
                    issued,
                    instant,
                    valid_from,
                    valid_until,
                )
            )
    return planned


@functools.lru_cache(maxsize=64)
def _schedule(
    lines: tuple[tuple[Distribution, Validity], ...],
    trigger: dt.datetime,
    zone: zoneinfo.ZoneInfo,
) -> tuple[tuple[dt.datetime, bool, dt.datetime, dt.datetime], ...]:
    """Per gift line: issue instant, instant or not, validity window. The
    ordinals one order grants share it, so it is worked out once."""
    out = []
    for distribution, validity in lines:
        due = release_at(distribution, trigger, zone)
        issued = trigger if due is None else due
        out.append((issued, due is None, *coupon_window(validity, issued, zone)))
    return tuple(out)
