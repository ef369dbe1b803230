"""A publication is atomic: a till's engine sees the old set or the new one, never part."""

from __future__ import annotations

import json
import sqlite3
import threading

import msgspec

from pos_promo.embedded import Engine
from pos_promo.model.cart import StoreContext
from pos_promo.sync import steps
from pos_promo.sync.local import open_database
from pos_promo.sync.protocol import ChangesPage
from tests.sync.harness import HQ, Till, campaign, now


def served(hq: HQ, since: str, limit: int) -> ChangesPage:
    """A page exactly as HQ serves it to a till."""
    import requests

    response = requests.get(
        f"{hq.url}/v1/changes",
        params={"since": since, "limit": str(limit)},
        headers={"Authorization": "Bearer token-s1"},
        timeout=10,
    )
    response.raise_for_status()
    return msgspec.json.decode(response.content, type=ChangesPage)


def staged(till: Till) -> int:
    return int(till.conn.execute("SELECT COUNT(*) FROM sync_staged").fetchone()[0])


def test_hq_ends_pages_at_publication_ends_and_marks_a_cut_publication(hq: HQ) -> None:
    # the catalog's p1 was publication 1; then one of two and one of five
    hq.publish(campaign("a1"), campaign("a2"))
    hq.publish(*(campaign(f"b{n}") for n in range(5)))
    first = served(hq, "", 4)  # p1 a1 a2 | b0: ends after a2 instead
    assert [c.id for c in first.changes] == ["p1", "a1", "a2"]
    assert (first.more, first.complete) == (True, True)
    assert [c.publication for c in first.changes] == [1, 2, 2]
    second = served(hq, first.cursor, 3)  # five b's do not fit: cut, not complete
    assert [c.id for c in second.changes] == ["b0", "b1", "b2"]
    assert (second.more, second.complete) == (True, False)
    third = served(hq, second.cursor, 3)
    assert [c.id for c in third.changes] == ["b3", "b4"]
    assert (third.more, third.complete) == (False, True)


def test_a_two_page_publication_is_staged_then_swapped_in_whole(hq: HQ, till: Till) -> None:
    client = till.client(hq)
    steps.pull_changes(till.conn, client, now)
    assert len(till.engine.index) == 1
    hq.publish(*(campaign(f"q{n}") for n in range(4)))

    first = steps.pull_changes(till.conn, client, now, page_size=2, max_pages=1)

    assert (first.applied, first.staged) == (0, 2)
    assert len(till.engine.index) == 1  # the old set, whole
    assert staged(till) == 2
    second = steps.pull_changes(till.conn, client, now, page_size=2, max_pages=1)
    assert (second.applied, second.staged) == (4, 0)
    assert len(till.engine.index) == 5  # the new set, whole
    assert staged(till) == 0
    conn = sqlite3.connect(till.path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


def test_staged_changes_survive_a_restart_of_the_puller(hq: HQ, till: Till) -> None:
    steps.pull_changes(till.conn, till.client(hq), now)  # p1
    hq.publish(*(campaign(f"q{n}") for n in range(3)))
    steps.pull_changes(till.conn, till.client(hq), now, page_size=2, max_pages=1)  # q0 q1
    till.conn.close()
    till.conn = open_database(till.path, "normal")  # a new daemon life on the same file
    assert staged(till) == 2
    report = steps.pull_changes(till.conn, till.client(hq), now, page_size=2)
    assert report.staged == 0
    assert sorted(c.id for c in till.engine.campaigns()) == ["p1", "q0", "q1", "q2"]


def test_a_reader_evaluating_in_a_loop_during_the_pull_sees_only_whole_sets(
    hq: HQ, till: Till
) -> None:
    # ten publications of three campaigns each, pulled two changes a page
    for p in range(10):
        hq.publish(*(campaign(f"c{p}-{n}") for n in range(3)))
    seen: set[int] = set()
    done = threading.Event()
    cart = json.dumps(
        {
            "order_id": "r-1",
            "store_id": "s1",
            "at": now().isoformat(),
            "lines": [{"line_id": "1", "item_id": "x", "quantity": 1, "unit_price": 5000}],
        }
    )

    def reader() -> None:
        with Engine.open(till.path, StoreContext("s1")) as engine:
            while not done.is_set():
                engine.evaluate(cart)
                seen.add(len(engine.index))
            engine.evaluate(cart)
            seen.add(len(engine.index))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        client = till.client(hq)
        for _ in range(40):  # a page at a time, as slowly as a real pull could go
            report = steps.pull_changes(till.conn, client, now, page_size=2, max_pages=1)
            if report.pages and not report.staged and len(till.engine.index) == 31:
                break
    finally:
        done.set()
        thread.join(30)
    assert len(till.engine.index) == 31
    assert 31 in seen
    assert seen <= {0} | {1 + 3 * p for p in range(11)}, sorted(seen)
