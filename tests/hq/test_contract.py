"""HQ's storage contract: every test runs on SQLite and on PostgreSQL alike.

Events come from real tills (``Shop``); HQ's ingest, member state, change
feed, replay queue and report run against the ``database`` fixture, a real
SQLite file or a PostgreSQL schema of the test's own.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from pos_promo_hq.catalog import serve_changes
from pos_promo_hq.db import Database, open_database, write
from pos_promo_hq.ingest import Ingestor
from pos_promo_hq.members import lookup_member, serve_member_state
from pos_promo_hq.migrations import MIGRATIONS
from pos_promo_hq.replay import ReplayCache, work_replays

from pos_promo.engine.grants import grant_id
from pos_promo.sync.protocol import ChangesPage, MemberStatePage, PushEvent, decode_member_item
from tests.hq.builders import (
    STORES,
    Shop,
    activity,
    gift_template,
    publish_all,
    push,
    statuses,
    tally,
)
from tests.sync.harness import campaign


@pytest.fixture
def shops(tmp_path: Path, database: Database) -> Iterator[dict[str, Shop]]:
    publish_all(database, ("campaign", campaign("p1")))
    opened = {
        "s1": Shop.open(tmp_path / "till-s1", "s1"),
        "s2": Shop.open(tmp_path / "till-s2", "s2"),
        "s1-b": Shop.open(tmp_path / "till-s1-b", "s1"),  # a second till of store s1
    }
    try:
        yield opened
    finally:
        for shop in opened.values():
            shop.close()


_CACHE = ReplayCache()


def _replay_all(database: Database) -> int:
    return work_replays(database, STORES, _CACHE, limit=1000)


# -- migrations ------------------------------------------------------------------


def test_migrations_are_recorded_and_a_second_start_applies_none(
    backend: str, database: Database
) -> None:
    with database.connection() as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
    assert names == [
        "0001_baseline",
        "0002_identity_replay_members",
        "0003_publications",
        "0004_performance_ledger",
        "0005_ledger_backfill",
    ]
    again = open_database(backend, migrate=False)
    try:
        assert again.migrate() == []
    finally:
        again.close()


# -- ingest: all or nothing, duplicates, identity ---------------------------------


def _boom(database: Database) -> None:
    """Make the insert of order o-2 fail inside the database."""
    with database.connection() as conn, write(conn):
        if conn.dialect == "sqlite":
            conn.execute(
                "CREATE TRIGGER boom BEFORE INSERT ON orders WHEN NEW.order_id = 'o-2' "
                "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
            )
            return
        conn.execute(
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.order_id = 'o-2' THEN RAISE EXCEPTION 'disk on fire'; END IF; "
            "RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER boom BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION boom()"
        )


def test_a_batch_that_fails_midway_leaves_nothing(
    database: Database, shops: dict[str, Shop]
) -> None:
    for n in range(4):
        shops["s1"].order(f"o-{n}", member="m-1")
    events = shops["s1"].events()
    _boom(database)
    with pytest.raises(Exception, match="disk on fire"):
        push(database, "s1", events)
    report = tally(database)
    assert (report["events"], report["orders"], report["participations"]) == (0, 0, [])
    with database.connection() as conn, write(conn):
        conn.execute(
            "DROP TRIGGER boom" if conn.dialect == "sqlite" else "DROP TRIGGER boom ON orders"
        )
    assert statuses(push(database, "s1", events)) == ["accepted"] * 8
    assert tally(database)["participations"] == [
        {"member_id": "m-1", "campaign_id": "p1", "total": 4}
    ]


def test_a_byte_identical_repeat_is_a_duplicate_and_changes_nothing(
    database: Database, shops: dict[str, Shop]
) -> None:
    shops["s1"].order("o-1", member="m-1")
    events = shops["s1"].events()
    assert statuses(push(database, "s1", events)) == ["accepted", "accepted"]
    assert statuses(push(database, "s1", [*events, events[0]])) == ["duplicate"] * 3
    report = tally(database)
    assert (report["events"], report["orders"]) == (2, 1)
    assert report["participations"][0]["total"] == 1


def test_an_id_another_store_holds_is_refused_never_answered_duplicate(
    database: Database, shops: dict[str, Shop]
) -> None:
    shops["s1"].order("o-1", member="m-1")
    real = shops["s1"].events()
    shops["s2"].order("o-9", member="m-2")
    squat = [  # s2's own events under the ids s1 will use
        PushEvent(mine.id, theirs.kind, theirs.payload)
        for mine, theirs in zip(real, shops["s2"].events(), strict=True)
    ]
    assert statuses(push(database, "s2", squat)) == ["accepted", "accepted"]

    results = push(database, "s1", real)

    assert results == [("refused", "this event id belongs to another store")] * 2
    report = tally(database)
    assert report["events_by_store"] == {"s2": 2}
    assert [m["member_id"] for m in report["members"]] == ["m-2"]


def test_the_same_id_with_a_different_payload_is_a_conflict_flagged_once(
    database: Database, shops: dict[str, Shop]
) -> None:
    shops["s1"].order("o-1", price=1500)
    (first,) = [e for e in shops["s1"].events() if e.kind == "order.committed"]
    push(database, "s1", [first])
    shops["s1-b"].order("o-1", price=2500)
    (other,) = [e for e in shops["s1-b"].events() if e.kind == "order.committed"]
    forged = PushEvent(first.id, other.kind, other.payload)

    for _ in range(2):
        assert push(database, "s1", [forged]) == [
            ("conflict", "this store sent this event id before with a different payload")
        ]

    report = tally(database)
    assert [(f["kind"], f["subject"]) for f in report["flags"]] == [("event_conflict", first.id)]
    assert report["orders"] == 1


def test_a_second_till_reusing_an_order_number_is_kept_and_flagged(
    database: Database, shops: dict[str, Shop]
) -> None:
    shops["s1"].order("o-1", price=1500, member="m-1")
    shops["s1-b"].order("o-1", price=2500, member="m-2")
    a = [e for e in shops["s1"].events() if e.kind == "order.committed"]
    b = [e for e in shops["s1-b"].events() if e.kind == "order.committed"]
    # the tills derive the same event id from the same order number: give the
    # second till's event its own id, as a till identity does
    b = [PushEvent(e.id + "-till-b", e.kind, e.payload) for e in b]
    assert statuses(push(database, "s1", a)) == ["accepted"]

    ((status, note),) = push(database, "s1", b)

    assert status == "accepted"
    assert (
        note
        == f"order 'o-1' is already held under event {a[0].id}: kept as copy 1 and flagged at HQ"
    )
    report = tally(database)
    assert report["orders"] == 2
    assert [(f["kind"], f["order_id"], f["subject"]) for f in report["flags"]] == [
        ("order_conflict", "o-1", b[0].id)
    ]
    assert [(m["member_id"], m["spend"]) for m in report["members"]] == [
        ("m-1", 1400),
        ("m-2", 2400),
    ]
    assert statuses(push(database, "s1", b)) == ["duplicate"]


def test_the_same_batch_pushed_twice_at_once_counts_once(
    database: Database, shops: dict[str, Shop]
) -> None:
    """Two HQ workers given the same batch (a till retrying while the first
    push still runs): the database lets one apply it; the other answers
    duplicates."""
    for n in range(20):
        shops["s1"].order(f"o-{n}", member="m-1")
    events = shops["s1"].events()
    answers: list[list[str]] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        answers.append(statuses(push(database, "s1", events, Ingestor(STORES))))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sorted(set(a) for a in map(tuple, answers)) == [{"accepted"}, {"duplicate"}]
    report = tally(database)
    assert (report["events"], report["orders"]) == (40, 20)
    assert report["participations"][0]["total"] == 20


# -- totals across stores and grants -------------------------------------------------


def test_participations_add_up_across_stores(database: Database, shops: dict[str, Shop]) -> None:
    for n in range(3):
        shops["s1"].order(f"a-{n}", member="m-1")
    for n in range(2):
        shops["s2"].order(f"b-{n}", member="m-1")
    push(database, "s1", shops["s1"].events())
    push(database, "s2", shops["s2"].events())
    assert tally(database)["participations"] == [
        {"member_id": "m-1", "campaign_id": "p1", "total": 5}
    ]


def _gift_shops(tmp_path: Path, database: Database) -> tuple[Shop, Shop]:
    publish_all(database, ("coupon_template", gift_template()), ("campaign", activity()))
    docs = (campaign("p1"), gift_template(), activity())
    return Shop.open(tmp_path / "g-s1", "s1", *docs), Shop.open(tmp_path / "g-s2", "s2", *docs)


def test_a_grant_two_offline_stores_both_made_is_merged_into_one(
    tmp_path: Path, database: Database
) -> None:
    s1, s2 = _gift_shops(tmp_path, database)
    try:
        s1.order("x-1", price=10100, member="m-1")  # $100 after the $1 off: ordinal 1
        s2.order("y-1", price=10100, member="m-1")  # offline, s2 grants ordinal 1 too
        assert statuses(push(database, "s1", s1.events()))[-1] == "accepted"
        assert set(statuses(push(database, "s2", s2.events()))) == {"accepted"}
    finally:
        s1.close()
        s2.close()
    report = tally(database)
    assert report["gift_totals"] == [
        {"member_id": "m-1", "activity_id": "g1", "measure": "spend", "total": 20000}
    ]
    assert [(g["ordinal"], g["status"], g["reported_by"]) for g in report["grants"]] == [
        (1, "granted", ["s1", "s2"]),
        (2, "granted", []),
    ]
    assert [g["grant_id"] for g in report["grants"]] == [
        grant_id("g1", "m-1", 1),
        grant_id("g1", "m-1", 2),
    ]
    assert len(report["wallet_coupons"]) == 2


def test_a_grant_whose_id_does_not_follow_from_its_content_is_rejected(
    tmp_path: Path, database: Database
) -> None:
    s1, s2 = _gift_shops(tmp_path, database)
    try:
        s1.order("x-1", price=10100, member="m-1")
        events = s1.events()
    finally:
        s1.close()
        s2.close()
    (gift,) = [e for e in events if e.kind == "gift.accrued"]
    doc = msgspec.json.decode(gift.payload)
    doc["grants"][0]["grant_id"] = grant_id("g1", "m-2", 1)  # another member's grant
    forged = PushEvent(gift.id, gift.kind, msgspec.Raw(msgspec.json.encode(doc)))

    results = push(database, "s1", [*[e for e in events if e is not gift], forged])

    assert results[-1] == (
        "rejected",
        f"grant id {grant_id('g1', 'm-2', 1)} does not follow from activity 'g1', "
        "member 'm-1' and ordinal 1",
    )
    assert tally(database)["grants"] == []


# -- member state by need, cursors ----------------------------------------------------


def _page(database: Database, store: str, since: int, limit: int = 100) -> MemberStatePage:
    with database.connection() as conn:
        return msgspec.json.decode(
            serve_member_state(conn, store, since, limit), type=MemberStatePage
        )


def _facts(page: MemberStatePage) -> list[tuple[str, str]]:
    found = []
    for raw in page.items:
        item = decode_member_item(raw)
        assert item is not None
        found.append((type(item).__name__, item.member_id))
    return found


def test_a_store_reads_only_the_members_it_served_or_looked_up(
    database: Database, shops: dict[str, Shop]
) -> None:
    shops["s1"].order("a-1", member="m-1")
    shops["s1"].order("a-2", member="m-2")
    push(database, "s1", shops["s1"].events())

    assert _facts(_page(database, "s1", 0)) == [
        ("ParticipationCountState", "m-1"),
        ("ParticipationCountState", "m-2"),
    ]
    empty = _page(database, "s2", 0)
    assert (empty.items, empty.cursor) == ((), "")

    with database.connection() as conn, write(conn):
        looked = msgspec.json.decode(
            lookup_member(conn, "s2", "m-2", "2026-11-20T17:00:00+00:00"), type=MemberStatePage
        )
    assert _facts(looked) == [("ParticipationCountState", "m-2")]
    assert _facts(_page(database, "s2", 0)) == [("ParticipationCountState", "m-2")]
    with database.connection() as conn:
        links = conn.execute(
            "SELECT store_id, member_id, via FROM store_members ORDER BY 1, 2"
        ).fetchall()
    assert [tuple(r) for r in links] == [
        ("s1", "m-1", "served"),
        ("s1", "m-2", "served"),
        ("s2", "m-2", "lookup"),
    ]


def test_a_store_that_serves_a_member_late_still_receives_their_whole_state(
    tmp_path: Path, database: Database, shops: dict[str, Shop]
) -> None:
    shops["s1"].order("a-1", member="m-1")  # m-1's count for p1, unseen by s2
    push(database, "s1", shops["s1"].events())
    shops["s2"].order("b-0", member="m-9")
    push(database, "s2", shops["s2"].events())
    cursor = int(_page(database, "s2", 0).cursor)  # s2's cursor is past m-1's count
    publish_all(database, ("campaign", campaign("p2")))
    only_p2 = Shop.open(tmp_path / "till-s2-p2", "s2", campaign("p2"))
    try:
        only_p2.order("b-1", member="m-1")  # s2 serves m-1 for the first time, under p2
        push(database, "s2", only_p2.events())
    finally:
        only_p2.close()

    page = _page(database, "s2", cursor)

    counts = [msgspec.json.decode(raw) for raw in page.items]
    assert sorted((c["member_id"], c["campaign_id"], c["total"]) for c in counts) == [
        ("m-1", "p1", 1),
        ("m-1", "p2", 1),
    ]


def test_member_state_pages_follow_their_cursor_without_gaps(
    database: Database, shops: dict[str, Shop]
) -> None:
    for n in range(5):
        shops["s1"].order(f"a-{n}", member=f"m-{n}")
    push(database, "s1", shops["s1"].events())
    seen: list[tuple[str, str]] = []
    cursor, more = 0, True
    while more:
        page = _page(database, "s1", cursor, limit=2)
        seen += _facts(page)
        cursor, more = int(page.cursor), page.more
    assert seen == [("ParticipationCountState", f"m-{n}") for n in range(5)]


def test_publications_page_by_cursor_and_republishing_changes_nothing(
    database: Database,
) -> None:
    docs = [("campaign", campaign(f"c{n}")) for n in range(3)]
    assert publish_all(database, *docs) == 3
    assert publish_all(database, *docs) == 0
    with database.connection() as conn:
        first = msgspec.json.decode(serve_changes(conn, 0, 2), type=ChangesPage)
        rest = msgspec.json.decode(serve_changes(conn, int(first.cursor), 2), type=ChangesPage)
    assert [c.id for c in first.changes] == ["c0", "c1"] and first.more
    assert [c.id for c in rest.changes] == ["c2"] and not rest.more
    assert msgspec.json.decode(rest.changes[0].document)["id"] == "c2"


# -- replay off the hot path -------------------------------------------------------


def test_orders_wait_on_the_replay_queue_and_a_divergence_is_flagged_once(
    database: Database, shops: dict[str, Shop]
) -> None:
    shops["s1"].order("fair", member="m-1")
    rogue = campaign("p1", 9, rule={"type": "spend_save", "tiers": [{"spend": 1000, "save": 700}]})
    publish_all(database, ("campaign", campaign("p1", 9)))
    shops["s1"].till.engine.import_campaigns(msgspec.json.encode([rogue]).decode())
    shops["s1"].order("rogue", member="m-1")
    push(database, "s1", shops["s1"].events())
    assert tally(database)["replays"] == {"pending": 2}

    workers = [threading.Thread(target=_replay_all, args=(database,)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)

    report = tally(database)
    assert report["replays"] == {"diverged": 1, "match": 1}
    assert [(f["kind"], f["order_id"], f["detail"]) for f in report["flags"]] == [
        ("receipt_divergence", "rogue", "p1: till gave 700, replay gives 100"),
        ("receipt_divergence", "rogue", "total discount: till 700, replay 100"),
        ("receipt_divergence", "rogue", "line 1: till units [700], replay [100]"),
    ]
    assert _replay_all(database) == 0


# -- reports ------------------------------------------------------------------------


def test_the_report_counts_orders_refunds_and_spend_per_member(
    database: Database, shops: dict[str, Shop]
) -> None:
    shops["s1"].order("a-1", price=1500, member="m-1")
    shops["s1"].order("a-2", price=2000, member="m-1")
    shops["s2"].order("b-1", price=3000, member="m-1")
    shops["s2"].order("b-2", price=500)
    shops["s1"].till.engine.refund("a-2")
    push(database, "s1", shops["s1"].events())
    push(database, "s2", shops["s2"].events())
    _replay_all(database)

    report = tally(database)

    assert (report["orders"], report["refunds"]) == (4, 1)
    assert report["events_by_kind"] == {
        "order.committed": 4,
        "order.refunded": 1,
        "participation.changed": 4,
    }
    assert report["members"] == [
        {"member_id": "m-1", "orders": 3, "spend": 6200, "refunded": 1900, "net_spend": 4300}
    ]
    assert report["replays"] == {"match": 5}  # four orders and the refund, each replayed
    assert report["flags"] == []


def test_a_file_the_first_hq_made_is_migrated_with_its_orders_kept(tmp_path: Path) -> None:
    """An HQ file from before migrations were recorded: the baseline is taken
    over as it is and the orders move to their (store, order id, copy) key."""
    path = tmp_path / "old-hq.db"
    old = sqlite3.connect(path)
    for statement in MIGRATIONS[0][1]("sqlite"):
        old.execute(statement)
    old.execute(
        "INSERT INTO orders VALUES ('s1', 'o-1', 'e-1', 'm-1', '2026-11-20T17:00:00+00:00', "
        "'2026-11-20', 1500, 100, 1400)"
    )
    old.commit()
    old.close()

    db = open_database(path)
    try:
        with db.connection() as conn:
            rows = conn.execute("SELECT store_id, order_id, copy, event_id, total FROM orders")
            assert [tuple(r) for r in rows] == [("s1", "o-1", 0, "e-1", 1400)]
            names = conn.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()
            assert [n for (n,) in names] == [
                "0001_baseline",
                "0002_identity_replay_members",
                "0003_publications",
                "0004_performance_ledger",
                "0005_ledger_backfill",
            ]
    finally:
        db.close()


def test_a_store_cannot_redeem_another_members_wallet_coupon(database: Database) -> None:
    with database.connection() as conn, write(conn):
        conn.execute(
            "INSERT INTO wallet_coupons (coupon_id, template_id, member_id, valid_from, "
            "valid_until, status, seq) VALUES ('c1', 't5', 'm-1', '2026-11-01T00:00:00+00:00', "
            "'2026-12-01T00:00:00+00:00', 'issued', 1)"
        )

    def redeemed(event_id: str, member: str) -> PushEvent:
        doc = {
            "kind": "coupon.redeemed",
            "order_id": f"o-{event_id}",
            "store_id": "s2",
            "coupon_id": "c1",
            "template_id": "t5",
            "member_id": member,
            "at": "2026-11-20T17:00:00+00:00",
            "amount": 500,
        }
        return PushEvent(event_id, "coupon.redeemed", msgspec.Raw(msgspec.json.encode(doc)))

    assert statuses(push(database, "s2", [redeemed("e1", "m-2")])) == ["accepted"]
    with database.connection() as conn:
        assert conn.execute("SELECT status FROM wallet_coupons").fetchone()[0] == "issued"
    assert statuses(push(database, "s2", [redeemed("e2", "m-1")])) == ["accepted"]
    with database.connection() as conn:
        assert conn.execute("SELECT status FROM wallet_coupons").fetchone()[0] == "redeemed"


def test_hq_processes_starting_together_migrate_once(backend: str) -> None:
    opened: list[Database] = []
    failed: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        try:
            opened.append(open_database(backend))
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert failed == []
        with opened[0].connection() as conn:
            rows = conn.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()
        assert [n for (n,) in rows] == [
            "0001_baseline",
            "0002_identity_replay_members",
            "0003_publications",
            "0004_performance_ledger",
            "0005_ledger_backfill",
        ]
    finally:
        for db in opened:
            db.close()
