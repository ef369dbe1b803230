"""Store-local time: the one place an instant becomes wall-clock facts.

Campaign periods, slots and date lists are store-local wall clock, so the
instant is converted once per evaluation; zoneinfo maps every instant to
exactly one wall time, so daylight-saving gaps and repeats never fail here.

The other way round, a wall time may name no instant (spring forward) or
two (fall back). A window given in wall-clock time (a campaign period, a
time slot on one day, a coupon's fixed validity) becomes one contiguous
stretch of instants by one rule: it starts at the **first** instant the
store's clock shows its start (or later: in a gap, the moment the clock
jumps), and ends at the **last** instant the clock shows its end (a repeated
end is its second pass; one in a gap is the second before the jump). So a
window never stops and starts again inside a repeated hour, and never
loses more than the hour the clock skipped (docs/decisions.md, "Time").
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

import msgspec

__all__ = [
    "LocalMoment",
    "Slot",
    "clock_minutes",
    "local_moment",
    "local_wall",
    "wall_end",
    "wall_start",
]

_SECOND = dt.timedelta(seconds=1)
_DAY = dt.timedelta(days=1)
_NEAR = dt.timedelta(hours=50)  # further than any slot window reaches from an instant


class LocalMoment(msgspec.Struct, frozen=True):
    """An instant as the store's wall clock shows it.

    ``steady`` says the store's UTC offset is the same for 50 hours either
    side, so wall-clock arithmetic on slots is exact; otherwise slots are
    resolved to instants (:meth:`Slot.start_days`).
    """

    wall: dt.datetime  # naive, truncated to the second
    day: dt.date
    weekday: int  # ISO: Monday 1 .. Sunday 7
    minute: int  # minutes since local midnight
    instant: dt.datetime | None = None  # the instant itself, UTC, truncated to the second
    zone: zoneinfo.ZoneInfo | None = None
    steady: bool = True


def local_moment(at: dt.datetime, zone: zoneinfo.ZoneInfo) -> LocalMoment:
    """``at`` on the store's wall clock, with its day and whether the offset is steady around it
    (a daylight-saving change nearby makes slot checks use instants)."""
    # converted once (every commit and evaluation starts here), and the wall
    # built from its fields: ``replace`` with keywords costs twice as much.
    # (Of ``here``'s own type, as ``replace`` makes it: not ``dt.datetime``,
    # which a test's frozen clock swaps for its own class.)
    here = at.astimezone(zone)
    offset = here.utcoffset()
    steady = (at - _NEAR).astimezone(zone).utcoffset() == offset and (at + _NEAR).astimezone(
        zone
    ).utcoffset() == offset
    local = type(here)(
        here.year, here.month, here.day, here.hour, here.minute, here.second, fold=here.fold
    )
    instant = at.astimezone(dt.UTC)
    if instant.microsecond:
        instant = instant.replace(microsecond=0)
    return LocalMoment(
        local,
        local.date(),
        local.isoweekday(),
        here.hour * 60 + here.minute,
        instant,
        zone,
        steady,
    )


def local_wall(instant: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """What the store's clock shows at ``instant`` (naive)."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _first_at_or_after(wall: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """Inside a spring-forward gap: the instant the clock jumps past ``wall``."""
    # the two readings of a wall time in a gap fall on either side of the jump
    readings = [wall.replace(tzinfo=zone, fold=fold).timestamp() for fold in (0, 1)]
    low, high = int(min(readings)) - 1, int(max(readings)) + 1  # whole seconds: wall < / >=
    while high - low > 1:
        middle = (low + high) // 2
        if local_wall(dt.datetime.fromtimestamp(middle, dt.UTC), zone) >= wall:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, dt.UTC)


@functools.lru_cache(maxsize=4096)
def wall_start(wall: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first instant (UTC) at which the store's clock shows ``wall`` or later.

    A repeated wall time (autumn) is its first occurrence; one inside a
    spring-forward gap is the moment the clock jumps.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    if local_wall(first, zone) == wall:
        return first
    return _first_at_or_after(wall, zone)


@functools.lru_cache(maxsize=4096)
def wall_end(wall: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The last instant (UTC) at which the store's clock shows ``wall``.

    A repeated wall time is its second occurrence (the window keeps the
    hour the clock gave back); one inside a gap is the second before the jump.
    """
    last = wall.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)
    if local_wall(last, zone) == wall:
        return last
    return _first_at_or_after(wall, zone) - _SECOND


class Slot(msgspec.Struct, frozen=True):
    """A compiled time slot: minutes since midnight, end excluded."""

    weekdays: frozenset[int]
    start: int
    end: int

    @property
    def wraps(self) -> bool:
        """Whether the slot runs past midnight (22:00-02:00): then it started on the previous
        day."""
        return self.end <= self.start

    def start_days(self, now: LocalMoment) -> list[dt.date]:
        """The days whose occurrence of this slot contains ``now`` (0 or 1 of them)."""
        if not now.steady and now.instant is not None and now.zone is not None:
            return self._start_days_on_a_clock_change(now.instant, now.zone, now.day)
        if not self.wraps:
            if now.weekday in self.weekdays and self.start <= now.minute < self.end:
                return [now.day]
            return []
        if now.minute >= self.start and now.weekday in self.weekdays:
            return [now.day]
        previous = 7 if now.weekday == 1 else now.weekday - 1
        if now.minute < self.end and previous in self.weekdays:
            return [now.day - dt.timedelta(days=1)]
        return []

    def _start_days_on_a_clock_change(
        self, instant: dt.datetime, zone: zoneinfo.ZoneInfo, today: dt.date
    ) -> list[dt.date]:
        """Near a clock change, each day's occurrence as one stretch of instants:
        from the first time the clock shows its start to the last time it shows
        the minute before its end (the module's rule), so a slot inside a
        repeated hour runs once, without a break."""
        for day in (today, today - _DAY) if self.wraps else (today,):
            if day.isoweekday() not in self.weekdays:
                continue
            midnight = dt.datetime.combine(day, dt.time())
            start = wall_start(midnight + dt.timedelta(minutes=self.start), zone)
            end_minute = self.end + (24 * 60 if self.wraps else 0)
            last = wall_end(midnight + dt.timedelta(minutes=end_minute) - _SECOND, zone)
            if start <= instant <= last:
                return [day]
        return []


def clock_minutes(text: str) -> int:
    """Minutes since midnight of an ``HH:MM`` wall time, the unit slots compare in."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)
