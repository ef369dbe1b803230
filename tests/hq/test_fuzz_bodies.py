"""Fuzz: whatever a client sends HQ's doors, HQ answers cleanly and keeps its database whole.

A real HQ process (gunicorn) on loopback, on SQLite and on PostgreSQL
(marker ``postgres``), is sent bodies hypothesis builds from valid ones, by
dropping fields, giving wrong types, integers past 64 bits, negative
numbers, very long strings, NUL and lone surrogates, nesting 33 to 100,000
deep, unknown fields, bytes that are not UTF-8, JSON cut short, and garbage.
Every answer must be a 2xx, or a 4xx whose JSON error names the path it
refuses (never a 5xx, never a traceback in the answer or in HQ's log), and
the database must be unchanged after a refusal (row counts of every table,
SQLite's ``integrity_check``) or changed exactly as the answer says after an
acceptance (each accepted event stored once, each published version added).
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
import requests
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from pos_promo.limits import MAX_BODY_DEPTH
from pos_promo.sync.protocol import PushEvent
from tests import pg
from tests.hq.builders import Shop
from tests.sync.harness import ADMIN, HQ, STORES, campaign, wait_for

DEEP = "__deep__"
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Served:
    """An HQ process, where its database lives, and valid events to start from."""

    hq: HQ
    target: str
    events: list[PushEvent]
    log_seen: int = 0
    published: int = field(default=0)

    def counts(self) -> dict[str, int]:
        """Rows of every table of HQ's database (and SQLite's integrity check)."""
        if self.target.startswith("postgresql://"):
            with psycopg.connect(self.target) as conn:
                tables = [
                    t
                    for (t,) in conn.execute(
                        "SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
                    )
                ]
                return {t: _count(conn.execute(f'SELECT COUNT(*) FROM "{t}"')) for t in tables}
        conn = sqlite3.connect(self.target)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            tables = [
                t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            return {t: _count(conn.execute(f'SELECT COUNT(*) FROM "{t}"')) for t in tables}
        finally:
            conn.close()

    def event_ids(self) -> set[str]:
        if self.target.startswith("postgresql://"):
            with psycopg.connect(self.target) as conn:
                return {i for (i,) in conn.execute("SELECT id FROM events")}
        conn = sqlite3.connect(self.target)
        try:
            return {i for (i,) in conn.execute("SELECT id FROM events")}
        finally:
            conn.close()

    def new_log(self) -> str:
        """HQ's log since the last call."""
        text = (self.hq.folder / "hq.log").read_text(errors="replace")
        fresh, self.log_seen = text[self.log_seen :], len(text)
        return fresh

    def drained(self) -> None:
        """Wait until HQ's replay worked off what an accepted push queued."""
        wait_for(
            lambda: self.admin("GET", "/admin/report").json()["replay_backlog"] == 0,
            what="HQ's replay queue to drain",
        )

    def admin(self, method: str, path: str, body: bytes | None = None) -> requests.Response:
        return self.send(method, path, body, ADMIN)

    def send(self, method: str, path: str, body: bytes | None, token: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return requests.request(method, self.hq.url + path, data=body, headers=headers, timeout=60)


def _count(cursor: Any) -> int:
    return int(cursor.fetchone()[0])


def _backends() -> list[object]:
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]


@pytest.fixture(scope="module", params=_backends())
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp(f"fuzz-hq-{request.param}")
    with contextlib.ExitStack() as stack:
        target = str(folder / "hq.db")
        extra: list[str] = []
        if request.param == "postgres":
            target = stack.enter_context(pg.fresh_schema())
            extra = ["--database", target]
        hq = HQ(folder, extra=extra)
        stack.callback(hq.stop)
        hq.start()
        hq.publish(campaign("p1"))
        shop = Shop.open(folder / "till", "s1")
        stack.callback(shop.close)
        for n in range(12):
            shop.order(f"o-{n}", member="m1" if n % 2 else None)
        yield Served(hq, target, shop.events())


# -- mutating a valid body ------------------------------------------------------------

BAD_VALUES: list[Any] = [
    None,
    True,
    "",
    "x",
    1.5,
    -1,
    0,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    "a" * 100_000,
    "nul\x00in",
    "\ud800",
    [],
    {},
    DEEP,
]


def _places(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in ``value``: where a mutation may land."""
    found: list[tuple[Any, Any]] = []
    stack = [value]
    while stack:
        node = stack.pop()
        keys = list(node) if isinstance(node, dict) else range(len(node))
        for key in keys:
            found.append((node, key))
            if isinstance(node[key], dict | list):
                stack.append(node[key])
    return found


@st.composite
def mutated(draw: st.DrawFn, valid: Any) -> bytes:
    """``valid`` (plain JSON), mutated in one or two ways, as the bytes to send."""
    doc = json.loads(json.dumps(valid))
    for _ in range(draw(st.integers(0, 2))):
        places = _places(doc)
        how = draw(st.sampled_from(["drop", "retype", "unknown", "list"]))
        if not places:
            break
        node, key = draw(st.sampled_from(places))
        if how == "drop" and isinstance(node, dict):
            del node[key]
        elif how == "unknown" and isinstance(node[key], dict):
            node[key][draw(st.sampled_from(["colour", "per_member_per_dya", "id2"]))] = 1
        elif how == "list":
            node[key] = [node[key]] * draw(st.integers(0, 3))
        else:
            node[key] = draw(st.sampled_from(BAD_VALUES))
    text = json.dumps(doc)
    depth = draw(st.sampled_from([33, MAX_BODY_DEPTH + 1, 1_000, 100_000]))
    text = text.replace(json.dumps(DEEP), "[" * depth + "]" * depth)
    data = text.encode("utf-8", "surrogatepass")
    tail = draw(st.sampled_from(["", "", "", "truncate", "not_utf8", "garbage"]))
    if tail == "truncate" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif tail == "not_utf8":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\xff\xfe\xc3" + data[at:]
    elif tail == "garbage":
        data = draw(st.binary(max_size=64))
    return data


def refused_cleanly(answer: requests.Response, body: bytes | None = None) -> None:
    """A 4xx with HQ's JSON error; a refused body is named by its path."""
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    error = answer.json()
    assert set(error) == {"error", "detail"}, error
    if answer.status_code == 400 and body is not None:
        assert error["detail"].startswith("$"), error


def clean(served: Served, answer: requests.Response) -> None:
    if currently_in_test_context():  # pytest --hypothesis-show-statistics: what was met
        event(f"HTTP {answer.status_code}")
    assert answer.status_code < 500, answer.text[:300]
    assert "Traceback" not in answer.text
    log = served.new_log()
    assert "Traceback" not in log, log[-3000:]
    assert " ERROR " not in log and "[ERROR]" not in log, log[-3000:]  # HQ's and gunicorn's


def _push_body(served: Served, start: int, size: int) -> dict[str, Any]:
    events = served.events[start % len(served.events) :][:size]
    return {
        "store_id": "s1",
        "events": [
            {"id": e.id, "kind": e.kind, "payload": json.loads(bytes(e.payload))} for e in events
        ],
        "backlog": 0,
    }


@FUZZ
@given(data=st.data(), start=st.integers(0, 11), size=st.integers(1, 3))
def test_any_push_body_is_answered_cleanly(
    served: Served, data: st.DataObject, start: int, size: int
) -> None:
    body = data.draw(mutated(_push_body(served, start, size)))
    before, held = served.counts(), served.event_ids()

    answer = served.send("POST", "/v1/events", body, STORES["s1"])

    clean(served, answer)
    if answer.status_code != 200:
        refused_cleanly(answer, body)
        assert served.counts() == before
        return
    results = answer.json()["results"]
    sent = json.loads(body)["events"]
    assert [r["id"] for r in results] == [e["id"] for e in sent]
    accepted = {r["id"] for r in results if r["status"] == "accepted"}
    assert accepted.isdisjoint(held)
    after = served.event_ids()
    assert after - held == accepted  # each accepted event stored once, nothing else
    assert served.counts()["events"] == before["events"] + len(accepted)
    if accepted:
        served.drained()
    clean(served, answer)


@FUZZ
@given(data=st.data(), n=st.integers(0, 10**6), version=st.integers(1, 3))
def test_any_publish_body_is_answered_cleanly(
    served: Served, data: st.DataObject, n: int, version: int
) -> None:
    valid = {
        "documents": [
            {"type": "campaign", "document": campaign(f"f{n}", version=version)},
            {"type": "sharing_plan", "document": {"id": f"plan-{n}", "version": version}},
        ]
    }
    body = data.draw(mutated(valid))
    before = served.counts()

    answer = served.admin("POST", "/admin/publish", body)

    clean(served, answer)
    if answer.status_code != 200:
        refused_cleanly(answer, body)
        assert served.counts() == before
        return
    added = answer.json()["added"]
    after = served.counts()
    assert after["changes"] == before["changes"] + added
    assert {t: c for t, c in after.items() if t != "changes"} == {
        t: c for t, c in before.items() if t != "changes"
    }


@FUZZ
@given(data=st.data())
def test_any_fault_switch_body_is_answered_cleanly(served: Served, data: st.DataObject) -> None:
    body = data.draw(mutated({"fail_500": 1, "hang_seconds": 0.5, "paths": ["/v1/changes"]}))
    before = served.counts()
    try:
        answer = served.admin("POST", "/admin/faults", body)
        clean(served, answer)
        if answer.status_code != 200:
            refused_cleanly(answer, body)
    finally:
        reset = served.admin("POST", "/admin/faults", b"{}")
        assert reset.status_code == 200
    assert served.counts() == before


member_ids = st.one_of(
    st.text(min_size=0, max_size=140),
    st.sampled_from(["m1", "a/b", "%2F", "\x00", "\ud800x", "é" * 128, "x" * 129, "..", "?q"]),
)


@FUZZ
@given(member=member_ids, safe=st.sampled_from(["", "/"]))
def test_any_member_lookup_is_answered_cleanly(served: Served, member: str, safe: str) -> None:
    before = served.counts()
    quoted = quote(member.encode("utf-8", "surrogatepass"), safe=safe)
    answer = served.send("GET", f"/v1/members/{quoted}", None, STORES["s1"])
    clean(served, answer)
    after = served.counts()
    if answer.status_code == 200:
        page = answer.json()
        assert set(page) >= {"cursor", "more", "items"}
        assert after["store_members"] - before["store_members"] in (0, 1)
        after["store_members"] = before["store_members"]
    else:
        refused_cleanly(answer)
    assert after == before


queries = st.dictionaries(
    st.sampled_from(["since", "limit", "other"]),
    st.one_of(
        st.text(max_size=30),
        st.integers(-(2**70), 2**70).map(str),
        st.sampled_from(["", "0", "-1", "9" * 19, "1e3", " 5", "٣"]),
    ),
    max_size=3,
)


@FUZZ
@given(path=st.sampled_from(["/v1/changes", "/v1/member-state"]), query=queries)
def test_any_page_query_is_answered_cleanly(
    served: Served, path: str, query: dict[str, str]
) -> None:
    before = served.counts()
    answer = requests.get(
        served.hq.url + path,
        params=query,
        headers={"Authorization": f"Bearer {STORES['s1']}"},
        timeout=60,
    )
    clean(served, answer)
    if answer.status_code != 200:
        refused_cleanly(answer)
    assert served.counts() == before


@FUZZ
@given(
    body=st.binary(max_size=200)
    | st.text(max_size=80).map(lambda t: ("token=" + t).encode())
    | st.just(f"token={ADMIN}".encode())
)
def test_any_sign_in_form_is_answered_cleanly(served: Served, body: bytes) -> None:
    before = served.counts()
    answer = requests.post(
        served.hq.url + "/admin/login", data=body, timeout=60, allow_redirects=False
    )
    clean(served, answer)
    assert answer.status_code in (303, 401), answer.status_code
    assert served.counts() == before


# -- a Content-Length that does not match the body ----------------------------------------


def _raw_request(served: Served, head: bytes, body: bytes, close_write: bool) -> bytes:
    with socket.create_connection(("127.0.0.1", served.hq.port), timeout=60) as sock:
        sock.sendall(head + b"\r\n" + body)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and close_write is False:
                break
        return b"".join(chunks)


def _head(length: str) -> bytes:
    return (
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {STORES['s1']}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n"
    ).encode()


@pytest.mark.parametrize("how", ["shorter", "longer", "not_a_number", "negative"])
def test_a_content_length_that_does_not_match_the_body_is_refused_cleanly(
    served: Served, how: str
) -> None:
    body = json.dumps(_push_body(served, 0, 2)).encode()
    length = {
        "shorter": str(len(body) // 2),
        "longer": str(len(body) + 100),
        "not_a_number": "12abc",
        "negative": "-5",
    }[how]
    before = served.counts()

    answer = _raw_request(served, _head(length), body, close_write=how == "longer")

    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500, answer[:300]
    assert b"Traceback" not in answer
    log = served.new_log()
    assert "Traceback" not in log, log[-3000:]
    assert served.counts() == before


# -- what the fuzzing found, each pinned down ----------------------------------------------


def test_a_push_whose_payload_is_not_utf8_is_a_400_not_a_500(served: Served) -> None:
    # msgspec checks the strings it decodes, not a raw payload it keeps:
    # HQ's ingest then failed decoding it (UnicodeDecodeError, a 500)
    body = json.dumps(_push_body(served, 0, 1)).encode()
    at = body.index(b'"kind": "', body.index(b'"payload"')) + 9
    body = body[:at] + b"\xff" + body[at:]
    before = served.counts()
    answer = served.send("POST", "/v1/events", body, STORES["s1"])
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "bad_request", "detail": f"$: must be UTF-8, got byte 0xff at offset {at}"},
    )
    assert served.counts() == before
    clean(served, answer)


def test_a_body_that_stops_before_its_content_length_is_never_applied(served: Served) -> None:
    # gunicorn hands over what came before the client stopped: HQ applied it (200)
    body = json.dumps(_push_body(served, 4, 2)).encode() + b" " * 100
    before = served.counts()
    answer = _raw_request(served, _head(str(len(body) + 100)), body, close_write=True)
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 400 Bad Request"
    assert answer.endswith(
        b'"detail":"the body ended after %d of the %d bytes of its Content-Length"}'
        % (len(body), len(body) + 100)
    )
    assert served.counts() == before


@pytest.mark.parametrize(
    ("document", "detail"),
    [
        ({"version": 1}, "$.documents[1].document.id: is required"),
        (
            {"id": "plan-x", "version": 2**63},
            "$.documents[1].document.version: must be an integer from 1 to 9007199254740991, "
            "got 9223372036854775808",
        ),
        (
            {"id": "plan-x", "version": True},
            "$.documents[1].document.version: must be an integer from 1 to 9007199254740991, "
            "got true",
        ),
    ],
)
def test_a_document_hq_cannot_key_is_refused_by_its_path_and_nothing_is_published(
    served: Served, document: dict[str, Any], detail: str
) -> None:
    # before: a sentence without a path; a version past 64 bits a 500 (OverflowError)
    body = {
        "documents": [
            {"type": "campaign", "document": campaign("fine")},
            {"type": "sharing_plan", "document": document},
        ]
    }
    before = served.counts()
    answer = served.admin("POST", "/admin/publish", json.dumps(body).encode())
    assert (answer.status_code, answer.json()["detail"]) == (400, detail)
    assert served.counts() == before
    clean(served, answer)


@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    [
        ("GET", "/v1/members/m%001", None, "a member id is 1 to 128 characters"),
        (
            "POST",
            "/admin/publish",
            b'{"documents": [{"type": "campaign", "document": {"id": "p\\u00001"}}]}',
            "$: must not hold the character \\u0000 (at byte 57)",
        ),
        (
            "POST",
            "/v1/events",
            b'{"store_id": "s1", "events": [{"id": "e\\u0000", "kind": "x", "payload": {}}]}',
            "$: must not hold the character \\u0000 (at byte 39)",
        ),
    ],
)
def test_a_nul_character_is_refused_alike_on_every_backend(
    served: Served, method: str, path: str, body: bytes | None, detail: str
) -> None:
    # PostgreSQL's text cannot hold U+0000: a DataError, answered 500
    before = served.counts()
    token = ADMIN if path.startswith("/admin") else STORES["s1"]
    answer = served.send(method, path, body, token)
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(detail)
    assert served.counts() == before
    clean(served, answer)


def test_an_error_quoting_a_lone_surrogate_is_answered_not_a_500(served: Served) -> None:
    # the error quoted the value back, and a lone surrogate cannot be encoded:
    # the answer itself raised (a 500 with gunicorn's page and a traceback)
    body = b'{"documents": [{"type": "campaign", "document": ["\\ud800"]}]}'
    before = served.counts()
    answer = served.admin("POST", "/admin/publish", body)
    assert (answer.status_code, answer.json()["detail"]) == (
        400,
        '$.documents[0].document: expected object, got ["\\ud800"]',
    )
    assert served.counts() == before
    clean(served, answer)
