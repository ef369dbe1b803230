"""Protocol types: every message round-trips, and newer HQs do not break older tills."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from pos_promo.sync.members import apply_member_page
from pos_promo.sync.protocol import (
    ChangesPage,
    ConfirmedTotal,
    DayCount,
    GrantState,
    MemberStatePage,
    ParticipationCountState,
    PushEvent,
    PushRequest,
    PushResponse,
    WalletCoupon,
    decode_member_item,
    encode,
)
from pos_promo.sync.status import read_status
from tests.sync.harness import Till, now

AT = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
ITEMS = [
    ParticipationCountState("m-1", "p1", 3, (DayCount(AT.date(), 1),)),
    ConfirmedTotal("m-1", "act-1", "spend", 32000),
    GrantState("g-1", "act-1", "m-1", 3, "granted", AT),
    WalletCoupon("c-1", "t-5off", "m-1", AT, AT + dt.timedelta(days=30), grant_id="g-1"),
]


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: type(i).__name__)
def test_every_member_state_item_round_trips_through_json(item: object) -> None:
    assert decode_member_item(encode(item)) == item


def test_an_item_of_a_type_this_till_does_not_know_is_none_not_an_error() -> None:
    assert decode_member_item(b'{"type": "points_balance", "member_id": "m-1"}') is None
    assert decode_member_item(b"[1, 2]") is None


def test_a_malformed_item_of_a_known_type_is_an_error() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode_member_item(b'{"type": "grant", "grant_id": "g"}')


def test_pages_and_batches_round_trip_with_their_raw_payloads() -> None:
    page = MemberStatePage("9", True, tuple(msgspec.Raw(encode(i)) for i in ITEMS))
    back = msgspec.json.decode(encode(page), type=MemberStatePage)
    assert [decode_member_item(r) for r in back.items] == ITEMS
    push = PushRequest("s1", (PushEvent("e1", "order.committed", msgspec.Raw(b'{"a":1}')),))
    again = msgspec.json.decode(encode(push), type=PushRequest)
    assert bytes(again.events[0].payload) == b'{"a":1}'
    assert msgspec.json.decode(b'{"results": []}', type=PushResponse).results == ()
    assert msgspec.json.decode(b'{"cursor": "", "more": false, "x": 1}', type=ChangesPage)


def test_a_member_page_keeps_every_fact_skips_unknown_types_and_quarantines_bad_ones(
    till: Till,
) -> None:
    raws = [msgspec.Raw(encode(i)) for i in ITEMS]
    raws += [msgspec.Raw(b'{"type": "points_balance"}'), msgspec.Raw(b'{"type": "grant"}')]
    report = apply_member_page(till.conn, "", MemberStatePage("4", False, tuple(raws)), 0, now())
    assert (report.counts, report.coupons, report.facts) == (1, 1, 2)
    assert (report.skipped, report.quarantined) == (1, 1)
    totals = till.conn.execute(
        "SELECT member_id, activity_id, measure, total FROM gift_confirmed_totals"
    ).fetchall()
    assert totals == [("m-1", "act-1", "spend", 32000)]
    grants = till.conn.execute(
        "SELECT grant_id, ordinal, status, source FROM gift_grants"
    ).fetchall()
    assert grants == [("g-1", 3, "granted", "hq")]
    wallet = till.conn.execute("SELECT coupon_id, member_id, source FROM wallet").fetchall()
    assert wallet == [("c-1", "m-1", "hq")]
    assert [q.doc_type for q in read_status(till.path).quarantined] == ["member_state:grant"]
    stored = till.conn.execute(
        "SELECT total FROM confirmed_counts WHERE member_id = 'm-1'"
    ).fetchone()
    assert stored == (3,)
