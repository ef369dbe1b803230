"""When gift coupons are issued and how long they are valid, on the store's clock.

Pure functions of the trigger instant and the store's time zone; the
daylight-saving cases use New York's 2026 changes (spring forward Sunday
8 March at 02:00, fall back Sunday 1 November at 02:00).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from pos_promo.engine.grants import (
    coupon_id,
    coupon_window,
    earned,
    grant_id,
    release_at,
    to_grant,
    to_revoke,
    wall_end,
    wall_start,
)
from pos_promo.model.coupon import FixedValidity, RelativeValidity
from pos_promo.model.gift import DailyRelease, GiftCondition, HourlyRelease, InstantRelease

NY = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


def test_an_instant_gift_has_no_release_time() -> None:
    assert release_at(InstantRelease(), at("2026-11-20T17:00:00+00:00"), NY) is None


def test_an_hourly_gift_is_released_after_elapsed_hours_even_across_spring_forward() -> None:
    trigger = at("2026-03-07T20:00:00-05:00")  # Saturday 20:00 EST
    due = release_at(HourlyRelease(hours=24), trigger, NY)
    assert due == at("2026-03-09T01:00:00+00:00")
    # 24 elapsed hours later the wall clock reads 21:00: the clocks went forward
    assert due is not None and due.astimezone(NY).hour == 21


def test_a_daily_gift_is_released_at_the_start_of_the_local_day_n_days_later() -> None:
    trigger = at("2026-11-20T23:30:00-05:00")  # Friday 23:30 local, already Saturday in UTC
    assert release_at(DailyRelease(days=1), trigger, NY) == at("2026-11-21T00:00:00-05:00")
    assert release_at(DailyRelease(days=3), trigger, NY) == at("2026-11-23T00:00:00-05:00")


def test_a_daily_release_over_a_daylight_saving_change_starts_at_local_midnight() -> None:
    spring = release_at(DailyRelease(days=2), at("2026-03-07T12:00:00-05:00"), NY)
    assert spring == at("2026-03-09T00:00:00-04:00")
    autumn = release_at(DailyRelease(days=1), at("2026-10-31T12:00:00-04:00"), NY)
    assert autumn == at("2026-11-01T00:00:00-04:00")


def test_a_daily_release_on_a_day_that_starts_at_one_starts_when_the_clock_jumps() -> None:
    santiago = zoneinfo.ZoneInfo("America/Santiago")  # 2026-09-06: 00:00 -> 01:00
    due = release_at(DailyRelease(days=1), at("2026-09-05T15:00:00-04:00"), santiago)
    assert due == at("2026-09-06T04:00:00+00:00")
    assert due is not None and due.astimezone(santiago).strftime("%H:%M") == "01:00"


def test_relative_validity_counts_calendar_days_on_the_store_clock() -> None:
    issued = at("2026-03-07T10:00:00-05:00")  # the day before spring forward
    start, until = coupon_window(RelativeValidity(days=7), issued, NY)
    assert start == issued
    assert until == at("2026-03-14T10:00:00-04:00")  # same wall time: 167 hours later
    assert until - start == dt.timedelta(hours=167)


def test_a_fixed_window_is_store_local_with_both_ends_included() -> None:
    window = FixedValidity(dt.datetime(2024, 11, 1, 0, 0, 0), dt.datetime(2024, 11, 11, 23, 59, 59))
    start, until = coupon_window(window, at("2024-10-01T00:00:00+00:00"), NY)
    assert start == at("2024-11-01T00:00:00-04:00")
    assert until == at("2024-11-11T23:59:59-05:00")  # after the fall back


def test_wall_times_in_a_gap_or_a_repeat_resolve_without_raising() -> None:
    gap = dt.datetime(2026, 3, 8, 2, 30)
    assert wall_start(gap, NY) == at("2026-03-08T03:00:00-04:00")
    assert wall_end(gap, NY) == at("2026-03-08T01:59:59-05:00")
    repeat = dt.datetime(2026, 11, 1, 1, 30)
    assert wall_start(repeat, NY) == at("2026-11-01T01:30:00-04:00")  # the first pass
    assert wall_end(repeat, NY) == at("2026-11-01T01:30:00-05:00")  # the second pass


def test_once_grants_ordinal_one_only_and_every_grants_each_multiple() -> None:
    once = GiftCondition("spend", "once", 20000)
    every = GiftCondition("spend", "every", 10000)
    assert earned(once, 19999) == 0 and earned(once, 20000) == 1 and earned(once, 90000) == 1
    assert earned(every, 32000) == 3
    assert to_grant(every, 32000, {1}) == [2, 3]
    assert to_grant(once, 50000, {1}) == []
    assert to_revoke(every, 15000, {1, 2, 3}) == [2, 3]
    assert to_revoke(once, 19999, {1}) == [1]


def test_grant_and_coupon_ids_depend_only_on_activity_member_ordinal_line_and_unit() -> None:
    assert grant_id("g", "m-1", 2) == grant_id("g", "m-1", 2)
    assert len({grant_id("g", "m-1", 1), grant_id("g", "m-1", 2), grant_id("g", "m-2", 1)}) == 3
    ids = {coupon_id("g", "m-1", 1, line, unit) for line in (1, 2) for unit in (1, 2)}
    assert len(ids) == 4


def test_the_fast_uuid5_is_exactly_the_standard_librarys() -> None:
    import uuid

    from pos_promo.ids import uuid5, uuid5_hex

    namespace = uuid.UUID("6f1c1f4e-4b7e-5d8e-9a53-2f0d3c8f7a10")
    for name in ("", "s1\x1fo-1\x1forder.committed", "ünïcødé", "x" * 1000):
        assert uuid5(namespace, name) == str(uuid.uuid5(namespace, name))
        assert uuid5_hex(namespace, name) == uuid.uuid5(namespace, name).hex
