"""Set-based ingest: a batch costs a fixed number of statements, and stores
exactly what the same events pushed one at a time store (both backends).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest
from pos_promo_hq.db import Connection, Cursor, Database, open_database
from pos_promo_hq.ingest import Ingestor
from pos_promo_hq.members import serve_member_state

from pos_promo.sync.protocol import MemberStatePage, PushEvent, PushRequest
from tests.hq.builders import (
    AT,
    STORES,
    Shop,
    activity,
    another_target,
    gift_template,
    publish_all,
    push,
)
from tests.sync.harness import campaign

_DOCUMENTS = (
    ("campaign", campaign("p1")),
    ("coupon_template", gift_template()),
    ("campaign", activity()),
)
# every table ingest writes, without the member-state numbers (which only
# have to grow) and the columns the clock fills
_TABLES = {
    "events": "id, store_id, kind, order_id, payload",
    "orders": "store_id, order_id, copy, event_id, member_id, total_discount, total",
    "replay_queue": "event_id, store_id, order_id, counts, status",
    "promotion_ledger": "event_id, campaign_id, kind, store_id, order_id, member_id, "
    "local_date, given, refunded, participations",
    "participation_counts": "member_id, campaign_id, total",
    "participation_days": "member_id, campaign_id, local_date, count",
    "store_members": "store_id, member_id, via",
    "gift_accruals": "event_id, store_id, order_id, activity_id, member_id, amount",
    "gift_totals": "member_id, activity_id, measure, total",
    "gift_grants": "grant_id, activity_id, member_id, ordinal, status, origin",
    "wallet_coupons": "coupon_id, grant_id, member_id, valid_from, status",
    "flags": "kind, store_id, order_id, subject, detail",
    "store_pushes": "store_id, backlog",
}


@contextlib.contextmanager
def _another(backend: str, tmp_path: Path) -> Iterator[Database]:
    """A second, empty HQ database on the same backend."""
    with another_target(backend, tmp_path) as target:
        db = open_database(target)
        try:
            yield db
        finally:
            db.close()


def _dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.connection() as conn:
        return {
            table: sorted(
                tuple(row) for row in conn.execute(f"SELECT {columns} FROM {table}").fetchall()
            )
            for table, columns in _TABLES.items()
        }


def _member_state(db: Database, store_id: str) -> list[str]:
    with db.connection() as conn:
        page = msgspec.json.decode(serve_member_state(conn, store_id, 0, 500), type=MemberStatePage)
    return sorted(bytes(item).decode() for item in page.items)


def _story(tmp_path: Path) -> list[PushEvent]:
    """Store s1's events: member and anonymous orders (one member's spend reaches
    a gift), a second till's order under a number s1 already used, and a
    repeated event."""
    s1 = Shop.open(tmp_path / "till-a", "s1", *(doc for _, doc in _DOCUMENTS))
    s1b = Shop.open(tmp_path / "till-b", "s1", *(doc for _, doc in _DOCUMENTS))
    try:
        for n, (member, price) in enumerate(
            [("m-1", 4000), ("m-2", 1500), (None, 1200), ("m-1", 7000), ("m-1", 2500)]
        ):
            s1.order(f"o-{n}", price=price, member=member)
        s1b.order("o-1", price=9900, member="m-3")
        first = s1.events()
        second = [PushEvent(e.id + "-b", e.kind, e.payload) for e in s1b.events()]
        return [*first, *second, first[0]]
    finally:
        s1.close()
        s1b.close()


def test_one_batch_stores_what_the_same_events_one_at_a_time_store(
    backend: str, database: Database, tmp_path: Path
) -> None:
    events = _story(tmp_path)
    kinds = sorted({e.kind for e in events})
    assert kinds == ["gift.accrued", "order.committed", "participation.changed"]
    with _another(backend, tmp_path) as single:
        publish_all(database, *_DOCUMENTS)
        publish_all(single, *_DOCUMENTS)

        together = push(database, "s1", events)
        alone = [verdict for e in events for verdict in push(single, "s1", [e])]

        assert together == alone
        assert [status for status, _ in together].count("accepted") == len(events) - 1
        assert together[-1] == ("duplicate", "")
        assert _dump(database) == _dump(single)
        assert _member_state(database, "s1") == _member_state(single, "s1")
    dump = _dump(database)
    # the replay sees the member's participations as each order arrived,
    # earlier orders of the same batch included
    counts = [
        msgspec.json.decode(row[3]) if row[3] else None
        for row in sorted(dump["replay_queue"], key=lambda r: [e.id for e in events].index(r[0]))
    ]
    assert [c and {k: v["total"] for k, v in c["participations"].items()} for c in counts] == [
        {},  # m-1's first order
        {},  # m-2's
        None,  # anonymous
        {"p1": 1},  # m-1 again
        {"p1": 2},
        {},  # m-3, the second till's copy of o-1
    ]
    assert [(r[0], r[2]) for r in dump["participation_counts"]] == [
        ("m-1", 3),
        ("m-2", 1),
        ("m-3", 1),
    ]
    copies = [(r[2], r[3].endswith("-b")) for r in dump["orders"] if r[1] == "o-1"]
    assert copies == [(0, False), (1, True)]  # the second till's o-1 is copy 1
    assert [r[0] for r in dump["flags"]] == ["order_conflict"]


def _label(sql: str) -> str:
    """``SELECT events``, ``INSERT orders``, ``COMMIT``: what a statement does, to what."""
    verb = sql.split(maxsplit=1)[0]
    found = re.search(r"(?:INTO|UPDATE|FROM) (\w+)", sql)
    return f"{verb} {found.group(1)}" if found else verb


class _Counting(Connection):
    """A connection that counts the statements it runs (BEGIN and locks aside)."""

    def __init__(self, inner: Connection) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.statements: list[str] = []

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        self.statements.append(_label(sql))
        return self.inner.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> int:
        self.statements.append(_label(sql))
        return self.inner.executemany(sql, rows)

    @property
    def in_transaction(self) -> bool:
        return self.inner.in_transaction

    def begin(self) -> None:
        self.inner.begin()

    def begin_read(self) -> None:
        self.inner.begin_read()

    def lock(self, key: str) -> None:
        self.inner.lock(key)

    def pipeline(self) -> contextlib.AbstractContextManager[object]:
        return self.inner.pipeline()


def _statements(database: Database, store_id: str, events: list[PushEvent]) -> list[str]:
    with database.connection() as conn:
        counting = _Counting(conn)
        results = Ingestor(STORES).apply(
            counting, store_id, PushRequest(store_id, tuple(events)), AT
        )
    assert {r.status for r in results} == {"accepted"}
    return counting.statements


@pytest.mark.parametrize("orders", [2, 40])
def test_a_batch_of_new_orders_costs_the_same_statements_whatever_its_size(
    database: Database, tmp_path: Path, orders: int
) -> None:
    publish_all(database, ("campaign", campaign("p1")))
    shop = Shop.open(tmp_path / "till", "s1")
    try:
        shop.order("o-first", member="m-1")
        push(database, "s1", shop.events())  # the store has served m-1 now
        for n in range(orders):
            shop.order(f"o-{n}", member="m-1")
        events = shop.events()
    finally:
        shop.close()
    assert len(events) == 2 * orders

    statements = _statements(database, "s1", events)

    assert statements == [
        "SELECT events",  # which ids HQ holds
        "SELECT orders",  # which order ids the store used
        "SELECT store_members",  # which members it served
        "SELECT participation_counts",  # the members' counts, for the replay
        "SELECT participation_days",  # and on the orders' day
        "INSERT events",
        "INSERT orders",
        "INSERT replay_queue",
        "INSERT promotion_ledger",
        "UPDATE meta",  # member-state numbers, one statement for all
        "INSERT participation_counts",  # one upsert per member and campaign
        "INSERT participation_days",
        "INSERT store_pushes",  # the push itself: when, and the backlog reported
        "COMMIT",
    ]
