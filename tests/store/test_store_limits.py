"""Per-member participation limits: local ledger plus HQ-confirmed counts.

The till's clock is frozen and moved with freezegun; the engine itself never
reads it, so each cart carries the till's "now" as its instant, as a POS does.
The store is in New York: its days end at local midnight, 05:00 UTC in winter.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from freezegun import freeze_time

from pos_promo.embedded import Engine
from pos_promo.model.order import Payment
from pos_promo.store import outbox
from pos_promo.store.connection import immediate
from pos_promo.store.counts import confirm_participations, set_confirmed_counts
from tests.store.builders import campaign, cart, dump, line

_orders = itertools.count(1)


def rung_up(member: str | None = "m1") -> bytes:
    """A qualifying cart rung up now, by the till's clock."""
    doc: dict[str, Any] = cart(
        line("A", 12000),
        order_id=f"o-{next(_orders)}",
        at=dt.datetime.now(dt.UTC).isoformat(),
    )
    if member:
        doc["member"] = {"id": member}
    return dump(doc)


def gets_it(engine: Engine, member: str | None = "m1") -> str:
    result = engine.commit(rung_up(member))
    if result.applied:
        return "applied"
    (miss,) = [n for n in result.not_applied if n.id == "lim"]
    return miss.reason


@pytest.fixture
def daily(engine: Engine) -> Engine:
    engine.import_campaigns(dump([campaign("lim", limits={"per_member_daily": 2})]))
    return engine


@pytest.fixture
def total(engine: Engine) -> Engine:
    engine.import_campaigns(dump([campaign("lim", limits={"per_member_total": 3})]))
    return engine


def test_the_daily_limit_resets_at_local_midnight_not_utc_midnight(daily: Engine) -> None:
    with freeze_time("2026-11-20T22:00:00-05:00") as clock:  # Friday evening in New York
        assert gets_it(daily) == "applied"
        clock.move_to("2026-11-20T23:30:00-05:00")
        assert gets_it(daily) == "applied"
        clock.move_to("2026-11-21T00:30:00Z")  # a new UTC day, still Friday in New York
        assert gets_it(daily) == "daily_limit_reached"
        clock.move_to("2026-11-20T23:59:59-05:00")
        assert gets_it(daily) == "daily_limit_reached"
        clock.move_to("2026-11-21T00:00:00-05:00")  # local midnight
        assert gets_it(daily) == "applied"
        assert gets_it(daily) == "applied"
        assert gets_it(daily) == "daily_limit_reached"


def test_the_daily_limit_is_per_member(daily: Engine) -> None:
    with freeze_time("2026-11-20T12:00:00-05:00"):
        assert [gets_it(daily, "m1") for _ in range(3)][-1] == "daily_limit_reached"
        assert gets_it(daily, "m2") == "applied"


def test_a_limited_campaign_needs_a_member(daily: Engine) -> None:
    with freeze_time("2026-11-20T12:00:00-05:00"):
        assert gets_it(daily, None) == "member_required"


def test_the_total_limit_counts_every_day(total: Engine) -> None:
    with freeze_time("2026-11-18T12:00:00-05:00") as clock:
        outcomes = []
        for _ in range(4):
            outcomes.append(gets_it(total))
            clock.tick(dt.timedelta(days=1))
    assert outcomes == ["applied", "applied", "applied", "total_limit_reached"]


def test_hq_confirmed_counts_add_to_local_ones(total: Engine) -> None:
    with immediate(total._conn):
        set_confirmed_counts(total._conn, "m1", "lim", 2)
    with freeze_time("2026-11-20T12:00:00-05:00"):
        assert gets_it(total) == "applied"
        assert gets_it(total) == "total_limit_reached"


def test_local_participations_hq_has_confirmed_are_not_counted_twice(total: Engine) -> None:
    with freeze_time("2026-11-20T12:00:00-05:00"):
        assert gets_it(total) == "applied"
        assert gets_it(total) == "applied"
        pending = outbox.pending_events(total._conn, 100)
        events = [e.id for e in pending if e.kind == "participation.changed"]
        with immediate(total._conn):
            set_confirmed_counts(total._conn, "m1", "lim", 2)
            assert confirm_participations(total._conn, events) == 2
        assert gets_it(total) == "applied"
        assert gets_it(total) == "total_limit_reached"


def test_hq_confirmed_daily_counts_use_the_store_local_date(daily: Engine) -> None:
    with immediate(daily._conn):
        set_confirmed_counts(daily._conn, "m1", "lim", 5, {dt.date(2026, 11, 20): 2})
    with freeze_time("2026-11-21T03:00:00Z"):  # still the 20th in New York
        assert gets_it(daily) == "daily_limit_reached"
    with freeze_time("2026-11-21T06:00:00Z"):  # the 21st in New York
        assert gets_it(daily) == "applied"


def test_a_fully_refunded_order_gives_its_participation_back(total: Engine) -> None:
    with freeze_time("2026-11-20T12:00:00-05:00"):
        assert [gets_it(total) for _ in range(3)] == ["applied"] * 3
        assert gets_it(total) == "total_limit_reached"
        last = total.order(f"o-{next(_orders) - 2}")  # the third, limited-out one was -1
        total.refund(last.order_id, {"A": 1})
        assert gets_it(total) == "applied"


def test_a_partly_refunded_order_keeps_its_participation_while_it_still_earns_it(
    engine: Engine,
) -> None:
    engine.import_campaigns(dump([campaign("lim", limits={"per_member_total": 1})]))
    with freeze_time("2026-11-20T12:00:00-05:00"):
        doc = cart(
            line("A", 6000, qty=3),
            order_id="big",
            at=dt.datetime.now(dt.UTC).isoformat(),
            member={"id": "m1"},
        )
        engine.commit(dump(doc), [Payment("card", 17000)])
        engine.refund("big", {"A": 1})  # 12000 kept, still >= 10000: still took part
        assert gets_it(engine) == "total_limit_reached"
        record = engine.refund("big", {"A": 1})  # 6000 kept: no longer earns it
        assert record.dropped == ("lim",) and record.participations_returned == ("lim",)
        assert gets_it(engine) == "applied"


def test_a_refund_on_a_later_day_gives_back_the_original_day(daily: Engine) -> None:
    with freeze_time("2026-11-20T12:00:00-05:00") as clock:
        first = daily.commit(rung_up())
        assert daily.commit(rung_up()).applied
        assert gets_it(daily) == "daily_limit_reached"
        clock.move_to("2026-11-21T12:00:00-05:00")
        daily.refund(first.order_id)
        clock.move_to("2026-11-20T18:00:00-05:00")  # back on the 20th (a late-posted cart)
        assert gets_it(daily) == "applied"
