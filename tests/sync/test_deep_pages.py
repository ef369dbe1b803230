"""A document nested 100,000 deep in a page never wedges the sync.

Before: msgspec reads a page's raw items by recursing into them, so one item
nested past its recursion guard made the whole page unreadable, every run:
the good items beside it and every later page never applied. Now the page
is read shallowly when it must be, the deep item is quarantined with its
error, and the rest of the page and every later page apply.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from pos_promo_daemon.config import load_config
from pos_promo_daemon.jobs import Jobs

from pos_promo.embedded import Engine
from pos_promo.limits import MAX_JSON_DEPTH
from pos_promo.model.cart import StoreContext
from pos_promo.sync.changes import apply_changes_page
from pos_promo.sync.local import get_cursor
from pos_promo.sync.protocol import RawChangesPage
from pos_promo.sync.status import read_status
from tests.sync.harness import (
    HQ,
    ROOT,
    STORES,
    PageServer,
    Till,
    campaign,
    env,
    now,
    run_daemon,
    serving_pages,
)

DEEP = 100_000
T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def status_check(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_promo", "--db", str(db), "status", "--check"],
        check=False,
        env=env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_100000_deep_document_is_quarantined_and_every_other_page_applies(
    tmp_path: Path, hq: HQ, till: Till
) -> None:
    hq.publish(campaign("a1"), campaign("a2"))
    # HQ refuses to publish such a document (tests/sync/test_hq_depth.py); one
    # in its log anyway (an older HQ, a hand-edited row) must not wedge a till
    deep = json.dumps(campaign("deep")).replace('"name"', f'"x": {nested(DEEP)}, "name"', 1)
    hq_db = sqlite3.connect(hq.folder / "hq.db", isolation_level=None)
    hq_db.execute(
        "INSERT INTO changes (type, id, version, document, published_at, publication) "
        "VALUES ('campaign', 'deep', 1, ?, '2026-11-20T00:00:00+00:00', 3)",
        (deep,),
    )
    hq_db.close()
    hq.publish(campaign("a3"))  # publication 4: served on the deep one's page
    hq.publish(campaign("a4"))  # publication 5: the page after it
    config = tmp_path / "pull.toml"
    config.write_text(
        f'db = "{till.path}"\nhq_url = "{hq.url}"\ntoken = "{STORES["s1"]}"\n'
        "[batches]\nchanges_page = 2\n"
    )

    done = run_daemon(config, "--once", "pull_campaigns")

    assert sorted(c.id for c in till.engine.campaigns()) == ["a1", "a2", "a3", "a4", "p1"]
    [bad] = read_status(till.path, now()).quarantined
    assert (bad.doc_type, bad.doc_id, bad.version) == ("campaign", "deep", 1)
    assert bad.error == f"$: must not nest deeper than {MAX_JSON_DEPTH} levels"
    [line] = [ln for ln in done.stderr.splitlines() if "pull_campaigns ok" in ln]
    assert "quarantined: campaign:deep" in line
    assert get_cursor(till.conn, "changes") == "6"  # past the deep one, nothing wedged
    [job] = [j for j in read_status(till.path, now()).jobs if j.job == "pull_campaigns"]
    assert (job.runs, job.failures) == (1, 0)
    check = status_check(till.path)
    assert check.returncode == 1
    assert check.stderr.splitlines() == ["attention: 1 document(s) in quarantine: campaign:deep"]
    assert rows(till.path, "PRAGMA integrity_check") == [("ok",)]


# -- pages a test server serves, pulled by the daemon's own jobs ------------------------


@pytest.fixture
def server() -> Iterator[PageServer]:
    with serving_pages() as httpd:
        yield httpd


def open_jobs(folder: Path, port: int) -> Jobs:
    db = folder / "till.db"
    Engine.open(db, StoreContext("s1")).close()
    config = folder / "pages.toml"
    config.write_text(
        f'db = "{db}"\nhq_url = "http://127.0.0.1:{port}"\ntoken = "t"\n'
        "[http]\nattempts = 1\nread_timeout = 5.0\n"
    )
    return Jobs(load_config(config), clock=lambda: T0).open()


def count(member: str, total: int) -> str:
    item = {"type": "participation_count", "member_id": member, "campaign_id": "p1"}
    return json.dumps({**item, "total": total})


def test_a_100000_deep_member_state_item_is_quarantined_and_the_rest_applies(
    tmp_path: Path, server: PageServer
) -> None:
    deep = count("m2", 5).replace('"total"', f'"x": {nested(DEEP)}, "total"')
    server.pages = {
        "": f'{{"cursor": "1", "more": true, "items": [{count("m1", 2)}, {deep}]}}'.encode(),
        "1": f'{{"cursor": "2", "more": false, "items": [{count("m3", 7)}]}}'.encode(),
    }
    jobs = open_jobs(tmp_path, server.server_address[1])
    try:
        result = jobs.run("pull_members")
    finally:
        jobs.close()

    assert result.status == "ok", result.detail
    db = tmp_path / "till.db"
    totals = rows(db, "SELECT member_id, total FROM confirmed_counts ORDER BY member_id")
    assert totals == [("m1", 2), ("m3", 7)]
    [(doc_type, error)] = rows(db, "SELECT doc_type, error FROM sync_quarantine")
    assert (doc_type, error) == (
        "member_state:participation_count",
        f"$: must not nest deeper than {MAX_JSON_DEPTH} levels",
    )
    assert rows(db, "SELECT cursor FROM sync_cursors WHERE stream = 'member_state'") == [("2",)]
    assert status_check(db).returncode == 1
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


def test_one_item_that_is_not_json_is_quarantined_and_the_rest_applies(
    tmp_path: Path, server: PageServer
) -> None:
    broken = '{"type": "participation_count", "member_id": "m2", "total": tru}'
    server.pages = {
        "": f'{{"cursor": "1", "more": false, "items": [{count("m1", 2)}, {broken}]}}'.encode(),
    }
    jobs = open_jobs(tmp_path, server.server_address[1])
    try:
        result = jobs.run("pull_members")
    finally:
        jobs.close()

    assert result.status == "ok", result.detail
    db = tmp_path / "till.db"
    assert rows(db, "SELECT member_id, total FROM confirmed_counts") == [("m1", 2)]
    [(doc_type, error)] = rows(db, "SELECT doc_type, error FROM sync_quarantine")
    assert doc_type == "member_state:participation_count"
    assert str(error).startswith("JSON is malformed")
    assert rows(db, "SELECT cursor FROM sync_cursors WHERE stream = 'member_state'") == [("1",)]


def test_a_page_whose_body_cannot_be_read_is_a_failed_run_with_its_reason(
    tmp_path: Path, server: PageServer
) -> None:
    # the envelope itself is 100,000 deep: no item can be told from another
    server.pages = {"": f'{{"cursor": "1", "more": false, "x": {nested(DEEP)}}}'.encode()}
    jobs = open_jobs(tmp_path, server.server_address[1])
    try:
        result = jobs.run("pull_members")
    finally:
        jobs.close()

    assert result.status == "failed"
    db = tmp_path / "till.db"
    [(error,)] = rows(db, "SELECT last_error FROM sync_runs WHERE job = 'pull_members'")
    assert error == (
        "HQProtocolError: pull member state: unusable response from HQ: "
        f"$.x: must not nest deeper than {MAX_JSON_DEPTH} levels"
    )
    assert rows(db, "SELECT COUNT(*) FROM sync_cursors WHERE stream = 'member_state'") == [(0,)]
    [job] = [j for j in read_status(db, now()).jobs if j.job == "pull_members"]
    assert (job.failures, job.last_error) == (1, error)


def test_a_deep_document_staged_with_its_unfinished_publication_is_quarantined_later(
    till: Till,
) -> None:
    # the page ends inside publication 7: its changes wait in sync_staged, the
    # deep one too, and the page that completes it must still read them all
    deep = json.dumps(campaign("deep")).replace('"name"', f'"x": {nested(DEEP)}, "name"', 1)
    first, third = (
        json.dumps(
            {
                "type": "campaign",
                "id": cid,
                "version": 1,
                "publication": 7,
                "document": campaign(cid),
            }
        )
        for cid in ("b1", "b2")
    )
    second = (
        '{"type": "campaign", "id": "deep", "version": 1, "publication": 7, "document": '
        + deep
        + "}"
    )
    page = RawChangesPage(
        "2", True, (msgspec.Raw(first.encode()), msgspec.Raw(second.encode())), complete=False
    )
    report = apply_changes_page(till.conn, "", page, now())
    assert (report.applied, report.staged, report.quarantined) == (0, 2, ())
    assert [c.id for c in till.engine.campaigns()] == []

    report = apply_changes_page(
        till.conn, "2", RawChangesPage("3", False, (msgspec.Raw(third.encode()),)), now()
    )

    assert (report.applied, report.staged, report.quarantined) == (2, 0, ("campaign:deep",))
    assert sorted(c.id for c in till.engine.campaigns()) == ["b1", "b2"]
    assert rows(till.path, "SELECT COUNT(*) FROM sync_staged") == [(0,)]
    assert rows(till.path, "PRAGMA integrity_check") == [("ok",)]
