"""Grants and their coupons: ordinals, distributions, validity, releases (SPEC §6, §11.8)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

from pos_promo.embedded import Engine
from pos_promo.engine.grants import coupon_id, grant_id
from pos_promo.i18n import progress, words_for
from pos_promo.store.connection import immediate
from pos_promo.store.gift_ledger import set_confirmed_total
from tests.gifts.builders import MEMBER, activity, gift_cart, template
from tests.helpers import line

UTC = dt.UTC


def confirm(path: str | Path, total: int, activity_id: str = "g1", member: str = MEMBER) -> None:
    """What a member-state pull does: HQ's confirmed total for the member."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        with immediate(conn):
            set_confirmed_total(conn, member, activity_id, "spend", total)
    finally:
        conn.close()


def granted(engine: Engine, member: str = MEMBER) -> list[tuple[str, int, str]]:
    return [(g.activity_id, g.ordinal, g.status) for g in engine.member(member).grants]


def wallet(engine: Engine, member: str = MEMBER) -> dict[str, str]:
    return {c.id: c.status for c in engine.wallet(member)}


def test_spec_example_8_confirmed_90_then_230_paid_grants_ordinals_1_to_3_in_one_commit(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(
        template("t-5off"),
        template("t-drink"),
        activity(gifts=[{"template_id": "t-5off"}, {"template_id": "t-drink", "quantity": 2}]),
    )
    confirm(engine.path, 9000)
    result = engine.commit(
        gift_cart("o-1", line("A", 23000)), [{"tender": "card", "amount": 23000}]
    )
    (preview,) = result.accruals
    assert (preview.total, preview.adds, preview.reaches) == (9000, 23000, 32000)
    assert preview.triggers == (1, 2, 3)
    assert [(g.template_id, g.quantity) for g in preview.gifts] == [("t-5off", 3), ("t-drink", 6)]
    assert granted(engine) == [("g1", 1, "granted"), ("g1", 2, "granted"), ("g1", 3, "granted")]
    expected = {
        coupon_id("g1", MEMBER, ordinal, gift, unit)
        for ordinal in (1, 2, 3)
        for gift, units in ((1, 1), (2, 2))
        for unit in range(1, units + 1)
    }
    coupons = engine.wallet(MEMBER)
    assert {c.id for c in coupons} == expected
    assert sorted(c.template_id for c in coupons) == ["t-5off"] * 3 + ["t-drink"] * 6
    assert all(c.status == "issued" and c.source == "gift" for c in coupons)
    grants = {g.grant_id for g in engine.member(MEMBER).grants}
    assert grants == {grant_id("g1", MEMBER, k) for k in (1, 2, 3)}


def test_every_x_grants_the_next_ordinal_only_when_the_total_reaches_it(till: Engine) -> None:
    till.commit(gift_cart("o-1", line("A", 6000)))
    assert granted(till) == []
    till.commit(gift_cart("o-2", line("A", 6000)))
    assert granted(till) == [("g1", 1, "granted")]
    till.commit(gift_cart("o-3", line("A", 6000)))
    assert granted(till) == [("g1", 1, "granted")]
    till.commit(gift_cart("o-4", line("A", 2000)))
    assert [k for _, k, _ in granted(till)] == [1, 2]


def test_reach_x_once_grants_ordinal_one_and_never_another(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(template(), activity(repeat="once", threshold=20000))
    first = engine.commit(gift_cart("o-1", line("A", 18000)))
    assert progress(first.accruals[0], words_for(engine.store)) == "$180.00 of $200.00"
    engine.commit(gift_cart("o-2", line("A", 50000)))
    assert granted(engine) == [("g1", 1, "granted")]
    assert len(engine.wallet(MEMBER)) == 1


def test_an_item_count_activity_grants_on_units(open_till: Callable[..., Engine]) -> None:
    engine = open_till(template(), activity(measure="count", threshold=5))
    result = engine.commit(gift_cart("o-1", line("A", 300, qty=11)))
    assert progress(result.accruals[0], words_for(engine.store)) == "11 of 15 items"
    assert [k for _, k, _ in granted(engine)] == [1, 2]


def test_an_instant_gift_with_relative_validity_is_valid_n_days_from_the_order(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(
        template(),
        activity(gifts=[{"template_id": "t-5off", "validity": {"type": "relative", "days": 7}}]),
    )
    engine.commit(gift_cart("o-1", line("A", 10000), at="2026-03-07T15:00:00Z"))
    (coupon,) = engine.wallet(MEMBER)
    assert coupon.valid_from == dt.datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    # 10:00 EST + 7 calendar days = 10:00 EDT, over the spring-forward change
    assert coupon.valid_until == dt.datetime(2026, 3, 14, 14, 0, tzinfo=UTC)


def test_a_fixed_validity_window_is_the_stores_local_window(
    open_till: Callable[..., Engine],
) -> None:
    window = {"type": "fixed", "start": "2026-11-01T00:00:00", "end": "2026-11-30T23:59:59"}
    engine = open_till(template(), activity(gifts=[{"template_id": "t-5off", "validity": window}]))
    engine.commit(gift_cart("o-1", line("A", 10000)))
    (coupon,) = engine.wallet(MEMBER)
    assert coupon.valid_from == dt.datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # EDT midnight
    assert coupon.valid_until == dt.datetime(2026, 12, 1, 4, 59, 59, tzinfo=UTC)  # EST


def test_a_gift_without_its_own_validity_takes_the_templates(
    open_till: Callable[..., Engine],
) -> None:
    engine = open_till(template(validity={"type": "relative", "days": 3}), activity())
    engine.commit(gift_cart("o-1", line("A", 10000)))
    (coupon,) = engine.wallet(MEMBER)
    assert coupon.valid_until - coupon.valid_from == dt.timedelta(days=3)


def test_delayed_gifts_are_scheduled_and_released_when_due_once(
    open_till: Callable[..., Engine],
) -> None:
    gifts = [
        {"template_id": "t-5off", "distribution": {"type": "hourly", "hours": 2}},
        {"template_id": "t-5off", "distribution": {"type": "daily", "days": 1}},
    ]
    engine = open_till(template(), activity(gifts=gifts))
    engine.commit(gift_cart("o-1", line("A", 10000), at="2026-11-20T17:00:00Z"))  # 12:00 local
    assert engine.wallet(MEMBER) == []
    assert engine.release_gifts(dt.datetime(2026, 11, 20, 18, 59, 59, tzinfo=UTC)) == ()
    hourly = coupon_id("g1", MEMBER, 1, 1, 1)
    daily = coupon_id("g1", MEMBER, 1, 2, 1)
    assert engine.release_gifts(dt.datetime(2026, 11, 20, 19, 0, tzinfo=UTC)) == (hourly,)
    assert engine.release_gifts(dt.datetime(2026, 11, 20, 19, 0, tzinfo=UTC)) == ()
    # the start of the next store-local day: 00:00 EST is 05:00 UTC
    assert engine.release_gifts(dt.datetime(2026, 11, 21, 4, 59, 59, tzinfo=UTC)) == ()
    assert engine.release_gifts(dt.datetime(2026, 11, 21, 5, 0, tzinfo=UTC)) == (daily,)
    coupons = {c.id: c for c in engine.wallet(MEMBER)}
    assert coupons[hourly].valid_from == dt.datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
    assert coupons[daily].valid_from == dt.datetime(2026, 11, 21, 5, 0, tzinfo=UTC)


def test_a_release_found_late_counts_its_validity_from_when_it_was_due(
    open_till: Callable[..., Engine],
) -> None:
    gifts = [{"template_id": "t-5off", "distribution": {"type": "hourly", "hours": 1}}]
    engine = open_till(template(validity={"type": "relative", "days": 2}), activity(gifts=gifts))
    engine.commit(gift_cart("o-1", line("A", 10000), at="2026-11-20T17:00:00Z"))
    engine.release_gifts(dt.datetime(2026, 11, 25, 0, 0, tzinfo=UTC))  # the daemon was down
    (coupon,) = engine.wallet(MEMBER)
    assert coupon.valid_from == dt.datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    assert coupon.valid_until == dt.datetime(2026, 11, 22, 18, 0, tzinfo=UTC)


def test_commit_and_evaluate_release_what_is_due_without_the_daemon(
    open_till: Callable[..., Engine],
) -> None:
    gifts = [{"template_id": "t-5off", "distribution": {"type": "hourly", "hours": 1}}]
    engine = open_till(template(), activity(gifts=gifts))
    engine.commit(gift_cart("o-1", line("A", 10000), at="2026-11-20T17:00:00Z"))
    engine.evaluate(gift_cart("o-2", line("A", 500), at="2026-11-20T17:30:00Z"))
    assert engine.wallet(MEMBER) == []
    engine.evaluate(gift_cart("o-2", line("A", 500), at="2026-11-20T18:00:00Z"))
    (coupon,) = engine.wallet(MEMBER)
    # ... so the member can use it in the very order that released it
    result = engine.commit(
        gift_cart("o-3", line("A", 1000), at="2026-11-20T18:05:00Z", coupons=[coupon.id])
    )
    assert [a.id for a in result.applied] == [coupon.id]
    assert wallet(engine) == {coupon.id: "redeemed"}


def test_a_daily_release_across_the_autumn_change_is_due_at_local_midnight(
    open_till: Callable[..., Engine],
) -> None:
    gifts = [{"template_id": "t-5off", "distribution": {"type": "daily", "days": 2}}]
    engine = open_till(template(), activity(gifts=gifts))
    engine.commit(gift_cart("o-1", line("A", 10000), at="2026-10-31T16:00:00Z"))  # Sat, EDT
    # Monday 2 November 00:00 is EST (UTC-5) after Sunday's change: 05:00 UTC
    assert engine.release_gifts(dt.datetime(2026, 11, 2, 4, 59, 59, tzinfo=UTC)) == ()
    assert len(engine.release_gifts(dt.datetime(2026, 11, 2, 5, 0, tzinfo=UTC))) == 1
