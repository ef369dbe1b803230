"""The store-clock reading a caller hands ``evaluate`` (a till works it out
for the day of the counts): used only when it is the evaluation's own
instant in the store's zone, so handing one never changes a result."""

from __future__ import annotations

import datetime as dt

from pos_promo.codec import campaign_from_obj, cart_from_obj, load_zone
from pos_promo.engine.clock import local_moment
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import build_index
from tests.test_properties import AT, STORE

# AT is noon on 20 November in New York, the one day the campaign runs
ONE_DAY = {
    "kind": "spend_and_save",
    "id": "one-day",
    "period": {"start": "2026-11-01T00:00:00", "end": "2026-11-30T23:59:59"},
    "dates": ["2026-11-20"],
    "rule": {"type": "spend_save", "tiers": [{"spend": 1000, "save": 150}]},
}
CART = {
    "order_id": "o-1",
    "store_id": "s1",
    "lines": [{"line_id": "A", "item_id": "burger", "quantity": 2, "unit_price": 800}],
}


def _applied(now_at: dt.datetime | None, zone: str = STORE.timezone) -> list[tuple[str, int]]:
    index = build_index([campaign_from_obj(ONE_DAY)], STORE)
    now = None if now_at is None else local_moment(now_at, load_zone(zone))
    result = evaluate(cart_from_obj(CART), index, at=AT, now=now)
    return [(a.id, a.amount) for a in result.applied]


def test_the_till_reading_of_the_instant_gives_the_same_result() -> None:
    assert _applied(None) == [("one-day", 150)]
    assert _applied(AT) == [("one-day", 150)]


def test_a_reading_of_another_instant_is_not_used() -> None:
    """Two days later the campaign does not run: that reading must not count."""
    assert _applied(AT + dt.timedelta(days=2)) == [("one-day", 150)]


def test_a_reading_in_another_zone_is_not_used() -> None:
    """In Tokyo, noon in New York is already 21 November: after the end."""
    assert _applied(AT, "Asia/Tokyo") == [("one-day", 150)]
