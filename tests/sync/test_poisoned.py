"""One poisoned item never spoils its page: the rest applies, the one is reported."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import msgspec

from pos_promo.sync import steps
from pos_promo.sync.changes import apply_changes_page
from pos_promo.sync.local import get_cursor
from pos_promo.sync.members import apply_member_page
from pos_promo.sync.protocol import Change, ChangesPage, MemberStatePage
from pos_promo.sync.status import read_status
from tests.sync.harness import HQ, STORES, Till, campaign, now, run_daemon

ONCE = ("--once", "pull_campaigns")
TOO_BIG = 2**63  # one past what SQLite (and HQ's own column) can hold


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_page_with_a_poisoned_change_applies_the_rest_and_reports_the_one(
    tmp_path: Path, hq: HQ, till: Till
) -> None:
    # HQ's own log holds a change whose version no 64-bit integer holds (SQLite
    # kept it as a float): before, the whole page failed to decode, every run
    hq.publish(campaign("a1"), campaign("a2", limits={"per_member_per_dya": 1}))
    hq_db = sqlite3.connect(hq.folder / "hq.db", isolation_level=None)
    hq_db.execute(
        "INSERT INTO changes (type, id, version, document, published_at, publication) "
        "VALUES ('campaign', 'poison', ?, ?, '2026-11-20T00:00:00+00:00', 3)",
        (float(TOO_BIG), json.dumps(campaign("poison"))),
    )
    hq_db.close()
    hq.publish(campaign("a3"))
    config = tmp_path / "pull.toml"
    config.write_text(
        f'db = "{till.path}"\nhq_url = "{hq.url}"\ntoken = "{STORES["s1"]}"\n'
        "[batches]\nchanges_page = 2\n"
    )

    done = run_daemon(config, *ONCE)

    assert sorted(c.id for c in till.engine.campaigns()) == ["a1", "a2", "a3", "p1"]
    status = read_status(till.path, now())
    [bad] = status.quarantined
    assert (bad.doc_type, bad.doc_id, bad.version) == ("campaign", "poison", 0)
    assert bad.error.startswith("unreadable change: Expected `int`, got `float`")
    assert [(u.doc_id, u.path) for u in status.unknown_fields] == [
        ("a2", "$.limits.per_member_per_dya")
    ]
    [line] = [ln for ln in done.stderr.splitlines() if "pull_campaigns ok" in ln]
    assert "quarantined: campaign:poison" in line
    assert "unknown fields: campaign:a2 $.limits.per_member_per_dya" in line
    assert get_cursor(till.conn, "changes") == "5"  # past the poison, nothing wedged
    assert rows(till.path, "PRAGMA integrity_check") == [("ok",)]


def test_a_change_that_raises_while_written_is_rolled_back_alone(till: Till) -> None:
    # a change that passes every check but fails as it is written (here a
    # trigger standing in for a full disk or a broken index on one row)
    till.conn.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON campaigns WHEN NEW.id = 'boom' "
        "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
    )
    page = ChangesPage(
        "3",
        False,
        tuple(
            Change("campaign", cid, 1, msgspec.Raw(json.dumps(campaign(cid)).encode()))
            for cid in ("ok1", "boom", "ok2")
        ),
    )
    before = rows(till.path, "SELECT value FROM meta WHERE key = 'cache_version'")

    report = apply_changes_page(till.conn, "", page, now())

    assert (report.applied, report.quarantined) == (2, ("campaign:boom",))
    assert sorted(c.id for c in till.engine.campaigns()) == ["ok1", "ok2"]
    [(error,)] = rows(till.path, "SELECT error FROM sync_quarantine WHERE doc_id = 'boom'")
    assert error == "IntegrityError: disk on fire"
    after = rows(till.path, "SELECT value FROM meta WHERE key = 'cache_version'")
    assert int(str(after[0][0])) > int(str(before[0][0]))
    assert get_cursor(till.conn, "changes") == "3"
    assert rows(till.path, "PRAGMA integrity_check") == [("ok",)]


def test_a_member_state_item_that_raises_is_quarantined_and_the_rest_applies(
    till: Till,
) -> None:
    good = {"type": "participation_count", "member_id": "m1", "campaign_id": "p1", "total": 2}
    huge = {"type": "participation_count", "member_id": "m2", "campaign_id": "p1"}
    huge["total"] = TOO_BIG  # a count SQLite cannot hold
    later = {"type": "participation_count", "member_id": "m3", "campaign_id": "p1", "total": 1}
    page = MemberStatePage(
        "9", False, tuple(msgspec.Raw(json.dumps(i).encode()) for i in (good, huge, later))
    )

    report = apply_member_page(till.conn, "", page, 0, now())

    assert (report.counts, report.quarantined) == (2, 1)
    totals = rows(till.path, "SELECT member_id, total FROM confirmed_counts ORDER BY member_id")
    assert totals == [("m1", 2), ("m3", 1)]
    [(doc_type, error)] = rows(till.path, "SELECT doc_type, error FROM sync_quarantine")
    assert doc_type == "member_state:participation_count"
    assert str(error).startswith("OverflowError: ")
    assert get_cursor(till.conn, "member_state") == "9"


def test_a_pull_with_a_poisoned_page_records_it_and_a_later_page_still_moves(
    hq: HQ, till: Till
) -> None:
    hq.publish(campaign("a1", rule={"type": "no_such_rule"}))
    report = steps.pull_changes(till.conn, till.client(hq), now)
    assert report.quarantined == ("campaign:a1",)
    hq.publish(campaign("a1", version=2))
    again = steps.pull_changes(till.conn, till.client(hq), now)
    assert (again.applied, again.quarantined) == (1, ())
    assert read_status(till.path, now()).quarantined == ()
