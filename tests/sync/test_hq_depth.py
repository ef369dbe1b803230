"""HQ refuses documents and bodies nested past the depth limit, cleanly and whole.

Before: a push or a publish body nested 100,000 deep made msgspec raise a
RecursionError HQ answered with a 500 (and a traceback in its log); a
catalog file nested that deep ended HQ's start in a traceback; a document
nested past the limit but within the decoder's reach was published and
every till then had to quarantine it.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from pos_promo.limits import MAX_BODY_DEPTH, MAX_JSON_DEPTH
from tests.sync.harness import ADMIN, HQ, ROOT, STORES, campaign, env

DEEP = 100_000


def nested(levels: int) -> Any:
    """A value of exactly ``levels`` nested arrays (``[[...]]``)."""
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


def deep_text(levels: int) -> str:
    return "[" * levels + "]" * levels


def counts(hq: HQ) -> dict[str, int]:
    conn = sqlite3.connect(hq.folder / "hq.db")
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return found
    finally:
        conn.close()


def post(hq: HQ, path: str, body: bytes, token: str) -> requests.Response:
    return requests.post(
        hq.url + path,
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=30,
    )


def no_traceback(hq: HQ) -> None:
    log = (hq.folder / "hq.log").read_text()
    assert "Traceback" not in log
    assert "RecursionError" not in log


def test_a_push_nested_100000_deep_is_a_400_naming_the_rule(hq: HQ) -> None:
    before = counts(hq)
    body = (
        '{"store_id": "s1", "events": [{"id": "e1", "kind": "order_committed", "payload": '
        + deep_text(DEEP)
        + "}]}"
    )
    answer = post(hq, "/v1/events", body.encode(), STORES["s1"])
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "bad_request",
        "detail": f"$: must not nest deeper than {MAX_BODY_DEPTH} levels",
    }
    assert counts(hq) == before
    no_traceback(hq)


def test_a_publish_nested_100000_deep_is_a_400_and_nothing_is_published(hq: HQ) -> None:
    before = counts(hq)
    body = (
        '{"documents": [{"type": "campaign", "document": '
        + json.dumps(campaign("good"))
        + '}, {"type": "campaign", "document": '
        + json.dumps(campaign("deep"))[:-1]
        + ', "x": '
        + deep_text(DEEP)
        + "}}]}"
    )
    answer = post(hq, "/admin/publish", body.encode(), ADMIN)
    assert answer.status_code == 400
    assert answer.json()["detail"] == f"$: must not nest deeper than {MAX_BODY_DEPTH} levels"
    assert counts(hq) == before
    no_traceback(hq)


def test_a_document_one_level_past_the_limit_is_not_published_nor_its_companions(
    hq: HQ,
) -> None:
    # the body is within its own bound: the document's own depth is what is refused
    before = counts(hq)
    deep = campaign("deep", x=nested(MAX_JSON_DEPTH))  # the campaign object is one more level
    documents = [
        {"type": "campaign", "document": campaign("good")},
        {"type": "coupon_template", "document": deep},
    ]
    answer = post(hq, "/admin/publish", json.dumps({"documents": documents}).encode(), ADMIN)
    assert answer.status_code == 400
    assert answer.json()["detail"] == (
        f"$.documents[1].document: must not nest deeper than {MAX_JSON_DEPTH} levels, "
        f"got {MAX_JSON_DEPTH + 1}"
    )
    assert counts(hq) == before
    # the deepest document the limit allows is published
    ok = campaign("ok", x=nested(MAX_JSON_DEPTH - 1))
    assert hq.publish(ok) == 1
    no_traceback(hq)


def _hq(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_promo_hq", *args],
        env=env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_catalog_file_nested_100000_deep_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    catalog = tmp_path / "deep.json"
    catalog.write_text('[{"id": "x", "version": 1, "name": ' + deep_text(DEEP) + "}]")
    done = _hq("--database", str(tmp_path / "hq.db"), "--catalog", str(catalog), "--port", "0")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {catalog}: $: must not nest deeper than {MAX_BODY_DEPTH} levels"
    ]
    assert not (tmp_path / "hq.db").exists()


def test_a_catalog_document_past_the_limit_is_one_line_naming_it_and_exit_code_2(
    tmp_path: Path,
) -> None:
    catalog = tmp_path / "catalog.json"
    plan = {"id": "plan-1", "version": 1, "x": nested(MAX_JSON_DEPTH)}
    catalog.write_text(json.dumps({"campaigns": [campaign("p1")], "sharing_plans": [plan]}))
    done = _hq("--database", str(tmp_path / "hq.db"), "--catalog", str(catalog), "--port", "0")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {catalog}: $.sharing_plans[0]: must not nest deeper than {MAX_JSON_DEPTH} "
        f"levels, got {MAX_JSON_DEPTH + 1}"
    ]
