"""Fuzz: whatever pages a server serves, the real daemon's jobs end cleanly.

A small loopback server answers ``/v1/changes`` and ``/v1/member-state``
with pages hypothesis builds from valid documents, documents with unknown
fields, wrong types, envelopes out of range and kinds nobody knows. The
daemon's own :class:`~pos_promo_daemon.jobs.Jobs` pulls them into a real
till database. Each run must end ``ok`` or ``failed`` (recorded, never
raised), leave the database whole, and, for a page that is well formed,
apply every valid document and account for every other one.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pos_promo_daemon.config import load_config
from pos_promo_daemon.jobs import Jobs

from pos_promo.embedded import Engine
from pos_promo.model.cart import StoreContext
from tests.sync.harness import PageServer, campaign, serving_pages

T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[PageServer]:
    with serving_pages() as httpd:
        yield httpd


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
ids = st.sampled_from(["p1", "p2", "p3", "g1"])


@st.composite
def changes(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """One change and whether it is a valid campaign the till must take."""
    cid, version = draw(ids), draw(st.integers(1, 3))
    shape = draw(
        st.sampled_from(
            ["valid", "unknown_field", "junk_field", "envelope", "type", "deep", "not_json"]
        )
    )
    doc = campaign(cid, version=version)
    valid = shape in ("valid", "unknown_field")
    if shape in ("deep", "not_json"):  # spliced in as text by page_bytes()
        doc[draw(st.sampled_from(["colour", "rule", "name"]))] = MARKERS[shape]
    elif shape == "unknown_field":
        doc[draw(st.sampled_from(["colour", "per_member_per_dya"]))] = draw(json_values)
    elif shape == "junk_field":
        doc[draw(st.sampled_from(["rule", "period", "name", "version"]))] = draw(json_values)
    change: dict[str, Any] = {"type": "campaign", "id": cid, "version": version, "document": doc}
    if shape == "envelope":
        change["version"] = draw(st.sampled_from([0, -1, 2**63, 2**70, 1.5, "1", None]))
    elif shape == "type":
        change["type"] = draw(st.sampled_from(["promotion_v9", "", "campaign "]))
    return change, valid


MARKERS = {"deep": "__deep__", "not_json": "__not_json__"}
DEPTHS = (33, 1_000, 100_000)


def page_bytes(page: dict[str, Any], depth: int) -> bytes:
    """The page as JSON, with each marker replaced by a value nested ``depth``
    deep, or by text that is not JSON: what no encoder would write."""
    text = json.dumps(page)
    text = text.replace(json.dumps(MARKERS["deep"]), "[" * depth + "]" * depth)
    return text.replace(json.dumps(MARKERS["not_json"]), "tru").encode()


def marked(value: Any) -> bool:
    """Whether ``value`` holds a marker (is too deep or not JSON once sent)."""
    return any(marker in json.dumps(value) for marker in MARKERS.values())


def bad_ids(page: list[tuple[dict[str, Any], bool]]) -> list[tuple[str, int]]:
    return [(c["id"], c["version"]) for c, _ in page if marked(c)]


member_items = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("participation_count"),
            "member_id": st.sampled_from(["m1", "m2"]),
            "campaign_id": ids,
            "total": st.integers(-5, 2**64),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["wallet_coupon", "grant", "confirmed_total", "new_kind"]),
            "member_id": st.sampled_from(["m1", "m2"]),
        },
        optional={"extra": json_values},
    ),
    json_values,
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["participation_count", "grant", "new_kind"]),
            "member_id": st.sampled_from(["m1", "m2"]),
            "extra": st.sampled_from(list(MARKERS.values())),
        }
    ),
)


def open_jobs(folder: Path, port: int) -> Jobs:
    db = folder / "till.db"
    if not db.exists():
        Engine.open(db, StoreContext("s1")).close()
    config = folder / "fuzz.toml"
    config.write_text(
        f'db = "{db}"\nhq_url = "http://127.0.0.1:{port}"\ntoken = "t"\n'
        "[http]\nattempts = 1\nread_timeout = 5.0\n"
    )
    return Jobs(load_config(config), clock=lambda: T0).open()


def whole(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    page=st.lists(changes(), max_size=6),
    complete=st.booleans(),
    n=st.integers(1, 10**6),
    depth=st.sampled_from(DEPTHS),
)
def test_any_changes_page_ends_the_job_cleanly(
    server: PageServer,
    tmp_path_factory: pytest.TempPathFactory,
    page: list[tuple[dict[str, Any], bool]],
    complete: bool,
    n: int,
    depth: int,
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    body = {"cursor": str(n), "more": False, "changes": [c for c, _ in page]}
    body["complete"] = complete
    server.page = page_bytes(body, depth)
    jobs = open_jobs(folder, server.server_address[1])
    try:
        result = jobs.run("pull_campaigns")
    finally:
        jobs.close()
    assert result.status == "ok", result.detail
    conn = sqlite3.connect(folder / "till.db")
    try:
        cached = dict(conn.execute("SELECT id, version FROM campaigns").fetchall())
        staged = conn.execute("SELECT COUNT(*) FROM sync_staged").fetchone()[0]
        quarantined = {r for (r,) in conn.execute("SELECT doc_id FROM sync_quarantine")}
        (cursor,) = conn.execute(
            "SELECT cursor FROM sync_cursors WHERE stream = 'changes'"
        ).fetchone()
    finally:
        conn.close()
    assert cursor == str(n)
    if not staged:  # a publication number is 0 here, so nothing should be held back
        for change, valid in page:
            if valid:
                doc_id = change["id"]
                newest = max(c["version"] for c, v in page if v and c["id"] == doc_id)
                assert cached.get(doc_id, 0) >= newest or doc_id in quarantined, change
    assert staged == 0
    for doc_id, version in bad_ids(page):  # too deep, or not JSON: quarantined, never wedged
        assert doc_id in quarantined or cached.get(doc_id, 0) >= version, doc_id
    whole(folder / "till.db")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    items=st.lists(member_items, max_size=6),
    n=st.integers(1, 10**6),
    depth=st.sampled_from(DEPTHS),
)
def test_any_member_state_page_ends_the_job_cleanly(
    server: PageServer,
    tmp_path_factory: pytest.TempPathFactory,
    items: list[Any],
    n: int,
    depth: int,
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    server.page = page_bytes({"cursor": str(n), "more": False, "items": items}, depth)
    jobs = open_jobs(folder, server.server_address[1])
    try:
        result = jobs.run("pull_members")
    finally:
        jobs.close()
    assert result.status == "ok", result.detail
    conn = sqlite3.connect(folder / "till.db")
    try:
        (cursor,) = conn.execute(
            "SELECT cursor FROM sync_cursors WHERE stream = 'member_state'"
        ).fetchone()
        counts = dict(
            conn.execute("SELECT member_id || '/' || campaign_id, total FROM confirmed_counts")
        )
        kinds = {k for (k,) in conn.execute("SELECT doc_type FROM sync_quarantine")}
    finally:
        conn.close()
    assert cursor == str(n)
    good = [
        i
        for i in items
        if isinstance(i, dict)
        and i.get("type") == "participation_count"
        and not marked(i)
        and 0 <= i["total"] < 2**63
    ]
    for item in good:  # a valid count is taken (the last one of its key wins)
        key = f"{item['member_id']}/{item['campaign_id']}"
        last = [g for g in good if f"{g['member_id']}/{g['campaign_id']}" == key][-1]
        assert counts[key] == last["total"]
    for item in items:  # too deep, or not JSON: a known type is quarantined, never wedged
        if marked(item) and item["type"] != "new_kind":
            assert f"member_state:{item['type']}" in kinds, item
    whole(folder / "till.db")
