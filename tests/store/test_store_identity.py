"""Each till database draws a random identity once and mixes it into its event ids."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from pos_promo.embedded import Engine
from pos_promo.store.counts import member_counts
from pos_promo.store.outbox import event_id, legacy_event_id, order_event_id
from tests.store.builders import STORE, campaign, cart, dump, line

ORDER = cart(line("A", 12000), member={"id": "m1"})
ORDERED_AT = dt.datetime(2026, 11, 20, 17, tzinfo=dt.UTC)  # the cart's "at"


def identity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        (value,) = conn.execute("SELECT value FROM meta WHERE key = 'till'").fetchone()
    finally:
        conn.close()
    return str(value)


def outbox_ids(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [i for (i,) in conn.execute("SELECT id FROM outbox ORDER BY seq")]
    finally:
        conn.close()


def p1_count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        counts = member_counts(conn, "m1", dt.date(2026, 11, 20))
    finally:
        conn.close()
    return counts.participations["p1"].total


def ring_up(path: Path) -> None:
    with Engine.open(path, STORE) as engine:
        engine.import_campaigns(dump([campaign("p1")]))
        engine.commit(dump(ORDER))


def test_two_tills_of_one_store_reusing_an_order_number_write_different_event_ids(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "till-1.db", tmp_path / "till-2.db"
    ring_up(first)
    ring_up(second)
    assert identity(first) != identity(second)
    assert len(outbox_ids(first)) == len(outbox_ids(second)) == 2  # order + participation
    assert not set(outbox_ids(first)) & set(outbox_ids(second))
    # and neither is the id anyone could work out from the store and order alone
    assert legacy_event_id("s1", "o-1", "order.committed") not in outbox_ids(first)


def test_the_identity_is_drawn_once_and_kept_across_opens(tmp_path: Path) -> None:
    path = tmp_path / "till.db"
    ring_up(path)
    drawn = identity(path)
    with Engine.open(path, STORE):
        pass
    assert identity(path) == drawn
    assert outbox_ids(path)[0] == order_event_id(
        "s1", "o-1", "order.committed", till=drawn, at=ORDERED_AT
    )


def test_a_database_from_before_identities_gets_one_and_still_refunds_its_old_orders(
    tmp_path: Path,
) -> None:
    path = tmp_path / "till.db"
    ring_up(path)
    # make the file look like one written before m0008: old ids, no identity
    conn = sqlite3.connect(path, isolation_level=None)
    old = identity(path)
    for key in ("order.committed", "participation.recorded/p1"):
        new_id = order_event_id("s1", "o-1", key, till=old, at=ORDERED_AT)
        legacy = legacy_event_id("s1", "o-1", key)
        conn.execute("UPDATE outbox SET id = ? WHERE id = ?", (legacy, new_id))
        conn.execute("UPDATE participations SET event_id = ? WHERE event_id = ?", (legacy, new_id))
    conn.execute("DELETE FROM meta WHERE key = 'till'")
    conn.execute("DELETE FROM _migrations WHERE name = 'm0009_till_identity'")
    conn.close()

    with Engine.open(path, STORE) as engine:
        drawn = identity(path)
        assert drawn != old and len(drawn) == 32
        assert p1_count(path) == 1
        engine.refund("o-1", refund_id="r-1")
        # the old order's participation was found under its old id and given back
        assert p1_count(path) == 0
    ids = outbox_ids(path)
    assert ids[:2] == [
        legacy_event_id("s1", "o-1", "order.committed"),
        legacy_event_id("s1", "o-1", "participation.recorded/p1"),
    ]
    assert event_id("s1", "o-1", "participation.returned/p1", till=drawn) in ids


def test_a_commits_event_ids_lead_with_the_orders_instant_so_later_orders_sort_after(
    tmp_path: Path,
) -> None:
    path = tmp_path / "till.db"
    with Engine.open(path, STORE) as engine:
        engine.import_campaigns(dump([campaign("p1")]))
        engine.commit(dump(ORDER))
        # a later order whose id sorts first, and whose random hash may too
        engine.commit(dump(dict(ORDER, order_id="a-2", at="2026-11-20T17:00:01Z")))
    first, later = outbox_ids(path)[:2], outbox_ids(path)[2:]
    # 2026-11-20T17:00:00Z is 1,795,194,000,000 ms after 1970: 0x01a1f9e69280;
    # one second later 1,795,194,001,000 ms: 0x01a1f9e69668; then version 8
    assert [i[:15] for i in first] == ["01a1f9e6-9280-8"] * 2
    assert [i[:15] for i in later] == ["01a1f9e6-9668-8"] * 2
    assert max(first) < min(later)
    drawn = identity(path)
    key = "participation.recorded/p1"
    assert first[1] == order_event_id("s1", "o-1", key, till=drawn, at=ORDERED_AT)
    # the rest is the till's uuid5 hash of the event, variant bits and all
    assert first[1][15:] == event_id("s1", "o-1", key, till=drawn)[15:]


def test_an_order_committed_before_ids_led_with_its_instant_is_still_refunded(
    tmp_path: Path,
) -> None:
    path = tmp_path / "till.db"
    ring_up(path)
    till = identity(path)
    # make the order look committed by the previous release: plain uuid5 ids
    conn = sqlite3.connect(path, isolation_level=None)
    for key in ("order.committed", "participation.recorded/p1"):
        led = order_event_id("s1", "o-1", key, till=till, at=ORDERED_AT)
        plain = event_id("s1", "o-1", key, till=till)
        conn.execute("UPDATE outbox SET id = ? WHERE id = ?", (plain, led))
        conn.execute("UPDATE participations SET event_id = ? WHERE event_id = ?", (plain, led))
    conn.close()
    assert p1_count(path) == 1
    with Engine.open(path, STORE) as engine:
        refund = engine.refund("o-1", refund_id="r-1")
    # the participation was found under its plain id and given back
    assert refund.participations_returned == ("p1",)
    assert p1_count(path) == 0
    assert event_id("s1", "o-1", "participation.returned/p1", till=till) in outbox_ids(path)
