"""HQ's HTTP face: the standard library's threading server, Nagle off.

One thread per connection, HTTP/1.1 keep-alive, ``TCP_NODELAY`` set
(``disable_nagle_algorithm``: without it a keep-alive exchange waited
~40 ms per request on these machines, ARCHITECTURE "Traps"). Protocol
requests need a store's bearer token; ``/admin`` requests need the admin
token and exist for tests and the demo: fault switches, publishing raw
documents, and a report of what HQ counted.

Tokens are compared in constant time: a store's token is found by its
SHA-256 digest (a lookup that leaks nothing of the token) and confirmed
with :func:`hmac.compare_digest`, as is the admin token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec
from pos_promo_hq.catalog import CatalogError, parse_cursor, publish, serve_changes
from pos_promo_hq.db import Database, write
from pos_promo_hq.faults import Faults, FaultSwitches
from pos_promo_hq.ingest import Ingestor
from pos_promo_hq.members import lookup_member, serve_member_state
from pos_promo_hq.report import report

from pos_promo.limits import MAX_BODY_BYTES
from pos_promo.model.cart import StoreContext
from pos_promo.sync.protocol import (
    PROTOCOL_VERSION,
    ErrorBody,
    Health,
    PushRequest,
    PushResponse,
    encode,
)

__all__ = [
    "MAX_BODY",
    "HQApp",
    "HQServer",
    "Handler",
]

log = logging.getLogger("hq")
MAX_BODY = MAX_BODY_BYTES  # pos_promo.limits: written down once
_PUSH = msgspec.json.Decoder(PushRequest)
_SWITCHES = msgspec.json.Decoder(FaultSwitches)


class _Publish(msgspec.Struct):
    documents: list[dict[str, Any]]


_PUBLISH = msgspec.json.Decoder(_Publish)


@dataclass
class HQApp:
    """Everything a request handler needs; one per server."""

    pool: Database
    stores: dict[str, StoreContext]
    tokens: dict[str, str]
    admin_token: str | None = None
    faults: Faults = field(default_factory=Faults)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    replay: bool = True
    ingestor: Ingestor = field(init=False)
    _digests: dict[bytes, tuple[bytes, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.ingestor = Ingestor(self.stores, self.replay)
        self._digests = {
            hashlib.sha256(t.encode()).digest(): (t.encode(), s) for t, s in self.tokens.items()
        }

    def store_of(self, token: str) -> str | None:
        """The store a bearer token names, compared in constant time."""
        given = token.encode()
        found = self._digests.get(hashlib.sha256(given).digest())
        if found is None or not hmac.compare_digest(found[0], given):
            return None
        return found[1]


class HQServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: HQApp) -> None:
        self.app = app
        super().__init__(address, Handler)


class _Answer(Exception):
    def __init__(self, status: int, error: str, detail: str = "") -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: HQServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    # -- plumbing ----------------------------------------------------------------

    def _handle(self, method: str) -> None:
        app = self.server.app
        url = urlsplit(self.path)
        try:
            body = self._body()
            if url.path.startswith("/admin/"):
                self._bearer(app.admin_token)
                self._send(200, self._admin(method, url.path, parse_qs(url.query), body))
                return
            if url.path == "/v1/health":
                self._send(200, encode(Health(PROTOCOL_VERSION, "pos_promo reference HQ")))
                return
            faults, switches = app.faults.take(url.path)
            if 0 < switches.body_limit < len(body):
                limit = switches.body_limit
                raise _Answer(413, "too_large", f"fault switch body_limit: {limit} bytes")
            if "hang" in faults:
                time.sleep(switches.hang_seconds)
            if "fail_500" in faults:
                raise _Answer(500, "injected_failure", "fault switch fail_500")
            if "fail_429" in faults:
                self._send(
                    429,
                    encode(ErrorBody("slow_down", "fault switch fail_429")),
                    {"Retry-After": str(switches.retry_after)},
                )
                return
            payload = self._api(method, url.path, parse_qs(url.query), body)
            if "drop_after_commit" in faults:
                self._drop()
                return
            if "garble" in faults:
                payload = b'{"cursor": "1", "more": tr' + payload[:16]
            if "cut_short" in faults:
                self._send(200, payload, cut=True)
                return
            self._send(200, payload)
        except _Answer as answer:
            self._send(answer.status, encode(ErrorBody(answer.error, answer.detail)))
        except Exception as exc:  # the server must answer, whatever went wrong
            log.exception("request %s %s failed", method, url.path)
            self._send(500, encode(ErrorBody("internal_error", type(exc).__name__)))

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit():
            raise _Answer(400, "bad_request", "Content-Length must be a number")
        if int(length) > MAX_BODY:
            self.close_connection = True
            raise _Answer(413, "too_large", f"bodies are limited to {MAX_BODY} bytes")
        return self.rfile.read(int(length)) if int(length) else b""

    def _bearer(self, expected: str | None) -> str:
        given = self.headers.get("Authorization", "")
        token = given[7:] if given.startswith("Bearer ") else ""
        if (
            expected is None
            or not token
            or not hmac.compare_digest(token.encode(), expected.encode())
        ):
            raise _Answer(401, "unauthorized", "a valid bearer token is required")
        return token

    def _store(self) -> str:
        given = self.headers.get("Authorization", "")
        token = given[7:] if given.startswith("Bearer ") else ""
        store = self.server.app.store_of(token) if token else None
        if store is None:
            raise _Answer(401, "unauthorized", "unknown or missing store token")
        return store

    def _send(
        self, status: int, payload: bytes, headers: dict[str, str] | None = None, cut: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if cut:
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self._drop()
            return
        self.wfile.write(payload)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- routes ------------------------------------------------------------------

    def _api(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> bytes:
        app = self.server.app
        store = self._store()
        routes = {("GET", "/v1/changes"), ("GET", "/v1/member-state"), ("POST", "/v1/events")}
        if method == "GET" and path.startswith("/v1/members/"):
            member = unquote(path.removeprefix("/v1/members/"))
            if not member or len(member) > 128 or "/" in member:
                raise _Answer(400, "bad_request", "a member id is 1 to 128 characters")
            with app.pool.connection() as conn, write(conn):
                return lookup_member(conn, store, member, app.clock().isoformat())
        if (method, path) not in routes:
            known = {p for _, p in routes}
            raise _Answer(405 if path in known else 404, "not_found", f"{method} {path}")
        if method == "POST":
            try:
                request = _PUSH.decode(body)
            except msgspec.MsgspecError as exc:
                raise _Answer(400, "bad_request", str(exc)) from None
            if request.store_id != store:
                raise _Answer(403, "forbidden", f"this token belongs to store {store!r}")
            with app.pool.connection() as conn:
                results = app.ingestor.apply(conn, store, request, app.clock())
            return encode(PushResponse(tuple(results)))
        try:
            since = parse_cursor(query.get("since", [""])[0])
            limit = int(query.get("limit", ["200"])[0])
        except ValueError as exc:
            raise _Answer(400, "bad_request", str(exc)) from None
        with app.pool.connection() as conn:
            if path == "/v1/changes":
                return serve_changes(conn, since, limit)
            return serve_member_state(conn, store, since, limit)

    def _admin(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> bytes:
        app = self.server.app
        if (method, path) == ("POST", "/admin/faults"):
            try:
                app.faults.configure(_SWITCHES.decode(body or b"{}"))
            except msgspec.MsgspecError as exc:
                raise _Answer(400, "bad_request", str(exc)) from None
        if path == "/admin/faults":
            return encode({"switches": app.faults.get(), "fired": app.faults.fired})
        if (method, path) == ("POST", "/admin/publish"):
            try:
                request = _PUBLISH.decode(body)
                documents = [(d["type"], d["document"]) for d in request.documents]
                with app.pool.connection() as conn:
                    added = publish(conn, documents, app.clock())
            except (msgspec.MsgspecError, KeyError, TypeError, CatalogError) as exc:
                raise _Answer(400, "bad_request", str(exc)) from None
            return encode({"added": added})
        if (method, path) == ("GET", "/admin/report"):
            with app.pool.connection() as conn:
                return encode(report(conn, with_ids="ids" in query))
        raise _Answer(404, "not_found", f"{method} {path}")
