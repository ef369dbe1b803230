"""Who and when a campaign applies to (SPEC §3), in a fixed order of checks.

The first failing check names the reason, so a cashier always hears the
most basic problem first: not running at all, then not now, then not here,
then not for this customer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from msgspec import Struct

from pos_promo.engine.clock import LocalMoment
from pos_promo.engine.compiled import AudienceFacts
from pos_promo.model.base import TimeSlot
from pos_promo.model.cart import Cart, ParticipationCount, StoreContext
from pos_promo.model.result import Params

__all__ = ["Blocked", "Context", "check_audience"]


class Context(Struct, frozen=True):
    """The facts of one evaluation that every campaign is checked against
    (a frozen struct: a dataclass costs a till's start a millisecond to define)."""

    cart: Cart
    store: StoreContext
    now: LocalMoment
    counts: Mapping[str, ParticipationCount]


class Blocked(Struct, frozen=True):
    """A campaign that does not apply to this cart at all: the reason code and
    its facts (``params``; ``slots`` for a time slot), worded at the edge."""

    reason: str
    params: Params = {}
    slots: tuple[TimeSlot, ...] = ()


def check_audience(c: AudienceFacts, ctx: Context) -> Blocked | None:
    """Why the campaign does not run for this cart, or ``None`` if it does: the status, period,
    time slots, store, channel, service type and member rules every campaign kind shares, checked
    in one order so the first reason given is the same everywhere."""
    campaign = c.campaign
    if campaign.status != "active":
        return Blocked("inactive", {"status": campaign.status})
    now = ctx.now
    # instants, not wall times: on a fall-back night the wall clock goes back,
    # and a period must not stop and start again (see engine.clock)
    instant = now.instant
    if now.wall < c.start if instant is None else instant < c.start_at:
        return Blocked("not_started", {"start": c.start.isoformat()})
    if now.wall > c.end if instant is None else instant > c.end_at:
        return Blocked("ended", {"end": c.end.isoformat()})
    if c.dates or c.slots:
        blocked = _check_calendar(c, now)
        if blocked:
            return blocked
    if not c.in_store:
        return Blocked("store_not_eligible", {"store": ctx.store.id})
    cart = ctx.cart
    if cart.channel not in campaign.channels:
        return Blocked("channel_not_eligible", {"channel": cart.channel})
    if cart.service_type not in campaign.service_types:
        return Blocked("service_type_not_eligible", {"service_type": cart.service_type})
    return _check_member(c, ctx)


def _check_calendar(c: AudienceFacts, now: LocalMoment) -> Blocked | None:
    days = [now.day]
    if c.wraps:
        days.append(now.day - dt.timedelta(days=1))
    if c.dates and c.dates.isdisjoint(days):
        return Blocked("date_not_allowed", {"day": now.day.isoformat()})
    if not c.slots:
        return None
    for slot in c.slots:
        for day in slot.start_days(now):
            if not c.dates or day in c.dates:
                return None
    return Blocked("outside_time_slot", {"now": now.wall.isoformat()}, c.campaign.time_slots)


def _check_member(c: AudienceFacts, ctx: Context) -> Blocked | None:
    who = c.participants
    member = ctx.cart.member
    restricted = bool(who.tiers or who.tags or who.card_programs)
    limited = c.limits.per_member_total is not None or c.limits.per_member_daily is not None
    if member is None:
        if restricted:
            return Blocked("member_required", {"for": "audience"})
        if limited:
            return Blocked("member_required", {"for": "limit"})
        return None
    if who.tiers and member.tier not in who.tiers:
        return Blocked("member_not_eligible", {"check": "tier", "tier": member.tier or ""})
    if who.tags and who.tags.isdisjoint(member.tags):
        return Blocked("member_not_eligible", {"check": "tags"})
    if who.card_programs and who.card_programs.isdisjoint(member.card_programs):
        return Blocked("member_not_eligible", {"check": "card_programs"})
    count = ctx.counts.get(c.id)
    total = count.total if count else 0
    today = count.today if count else 0
    limit = c.limits.per_member_total
    if limit is not None and total >= limit:
        return Blocked("total_limit_reached", {"used": total, "limit": limit})
    limit = c.limits.per_member_daily
    if limit is not None and today >= limit:
        return Blocked("daily_limit_reached", {"used": today, "limit": limit})
    return None
