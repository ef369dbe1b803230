"""Each till database draws a random identity once and mixes it into its event ids."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from pos_promo.embedded import Engine
from pos_promo.store.counts import member_counts
from pos_promo.store.outbox import event_id, legacy_event_id
from tests.store.builders import STORE, campaign, cart, dump, line

ORDER = cart(line("A", 12000), member={"id": "m1"})


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
    assert outbox_ids(path)[0] == event_id("s1", "o-1", "order.committed", till=drawn)


def test_a_database_from_before_identities_gets_one_and_still_refunds_its_old_orders(
    tmp_path: Path,
) -> None:
    path = tmp_path / "till.db"
    ring_up(path)
    # make the file look like one written before m0008: old ids, no identity
    conn = sqlite3.connect(path, isolation_level=None)
    old = identity(path)
    for key in ("order.committed", "participation.recorded/p1"):
        new_id = event_id("s1", "o-1", key, till=old)
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
