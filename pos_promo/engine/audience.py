"""Who and when a campaign applies to (SPEC §3), in a fixed order of checks.

The first failing check names the reason, so a cashier always hears the
most basic problem first: not running at all, then not now, then not here,
then not for this customer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from msgspec import Struct

from pos_promo.engine.clock import LocalMoment
from pos_promo.engine.compiled import AudienceFacts, windows_text
from pos_promo.model.cart import Cart, ParticipationCount, StoreContext

__all__ = ["Blocked", "Context", "check_audience"]


@dataclass(frozen=True, slots=True)
class Context:
    """The facts of one evaluation that every campaign is checked against."""

    cart: Cart
    store: StoreContext
    now: LocalMoment
    counts: Mapping[str, ParticipationCount]


class Blocked(Struct, frozen=True):
    """A campaign that does not apply to this cart at all, and why."""

    reason: str
    message: str


def _day(day: dt.date) -> str:
    return day.strftime("%a %Y-%m-%d")


def check_audience(c: AudienceFacts, ctx: Context) -> Blocked | None:
    campaign = c.campaign
    if campaign.status != "active":
        return Blocked("inactive", f"Campaign is {campaign.status}.")
    now = ctx.now
    if now.wall < c.start:
        starts = c.starts_text or c.start.isoformat(sep=" ")
        return Blocked("not_started", f"Starts {starts} (store time).")
    if now.wall > c.end:
        ends = c.ends_text or c.end.isoformat(sep=" ")
        return Blocked("ended", f"Ended {ends} (store time).")
    if c.dates or c.slots:
        blocked = _check_calendar(c, now)
        if blocked:
            return blocked
    if not c.in_store:
        return Blocked("store_not_eligible", f"Not offered at store {ctx.store.id}.")
    cart = ctx.cart
    if cart.channel not in campaign.channels:
        return Blocked("channel_not_eligible", f"Not offered on the {cart.channel} channel.")
    if cart.service_type not in campaign.service_types:
        kind = cart.service_type.replace("_", "-")
        return Blocked("service_type_not_eligible", f"Not offered for {kind} orders.")
    return _check_member(c, ctx)


def _check_calendar(c: AudienceFacts, now: LocalMoment) -> Blocked | None:
    days = [now.day]
    if c.wraps:
        days.append(now.day - dt.timedelta(days=1))
    if c.dates and c.dates.isdisjoint(days):
        return Blocked("date_not_allowed", f"Not offered on {_day(now.day)}.")
    if not c.slots:
        return None
    for slot in c.slots:
        for day in slot.start_days(now):
            if not c.dates or day in c.dates:
                return None
    windows = c.windows_text or windows_text(c.slots)
    return Blocked("outside_time_slot", f"Only offered {windows}; it is {now.wall:%a %H:%M}.")


def _check_member(c: AudienceFacts, ctx: Context) -> Blocked | None:
    who = c.participants
    member = ctx.cart.member
    restricted = bool(who.tiers or who.tags or who.card_programs)
    limited = c.limits.per_member_total is not None or c.limits.per_member_daily is not None
    if member is None:
        if restricted:
            return Blocked("member_required", "Members only: identify the member first.")
        if limited:
            return Blocked(
                "member_required", "Limited per member: identify the member to count this use."
            )
        return None
    if who.tiers and member.tier not in who.tiers:
        return Blocked("member_not_eligible", f"Not offered to tier {member.tier or 'none'}.")
    if who.tags and who.tags.isdisjoint(member.tags):
        return Blocked("member_not_eligible", "Member has none of the required tags.")
    if who.card_programs and who.card_programs.isdisjoint(member.card_programs):
        return Blocked("member_not_eligible", "Member's card program is not included.")
    count = ctx.counts.get(c.id)
    total = count.total if count else 0
    today = count.today if count else 0
    if c.limits.per_member_total is not None and total >= c.limits.per_member_total:
        return Blocked(
            "total_limit_reached",
            f"Member already used it {total} of {c.limits.per_member_total} times.",
        )
    if c.limits.per_member_daily is not None and today >= c.limits.per_member_daily:
        return Blocked(
            "daily_limit_reached",
            f"Member already used it {today} of {c.limits.per_member_daily} times today.",
        )
    return None
