"""Store-local time: the one place an instant becomes wall-clock facts.

Campaign periods, slots and date lists are store-local wall clock, so the
instant is converted once per evaluation; zoneinfo maps every instant to
exactly one wall time, so daylight-saving gaps and repeats never fail here.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

__all__ = ["LocalMoment", "Slot", "clock_minutes", "local_moment"]


@dataclass(frozen=True, slots=True)
class LocalMoment:
    """An instant as the store's wall clock shows it."""

    wall: dt.datetime  # naive, truncated to the second
    day: dt.date
    weekday: int  # ISO: Monday 1 .. Sunday 7
    minute: int  # minutes since local midnight


def local_moment(at: dt.datetime, zone: zoneinfo.ZoneInfo) -> LocalMoment:
    local = at.astimezone(zone).replace(tzinfo=None, microsecond=0)
    return LocalMoment(local, local.date(), local.isoweekday(), local.hour * 60 + local.minute)


@dataclass(frozen=True, slots=True)
class Slot:
    """A compiled time slot: minutes since midnight, end excluded."""

    weekdays: frozenset[int]
    start: int
    end: int

    @property
    def wraps(self) -> bool:
        return self.end <= self.start

    def start_days(self, now: LocalMoment) -> list[dt.date]:
        """The days whose occurrence of this slot contains ``now`` (0 or 1 of them)."""
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


def clock_minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)
