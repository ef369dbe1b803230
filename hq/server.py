"""HQ's HTTP face: one WSGI application, served by gunicorn's worker processes.

:class:`HQApp` is a plain WSGI callable (no framework: eight routes and a
bearer check do not earn one); :mod:`hq.main` runs it under gunicorn, whose
threaded workers keep connections alive, set ``TCP_NODELAY`` and time out
slow and idle clients. Nothing a request changes lives in process memory:
the database holds every count, and the fault switches live in a file all
workers share (:mod:`hq.faults`), so any number of workers answer alike.

Protocol requests need a store's bearer token. ``/admin`` requests need the
admin token: fault switches, publishing raw documents and a report of what
HQ counted exist for tests and the demo; the performance pages
(:mod:`hq.pages`) also accept the cookie their sign-in form sets (an HMAC
of the admin token, not the token), so a browser can open them.

Tokens are compared in constant time: a store's token is found by its
SHA-256 digest (a lookup that leaks nothing of the token) and confirmed
with :func:`hmac.compare_digest`, as is the admin token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import SimpleCookie
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote

import msgspec
from pos_promo_hq.catalog import (
    CatalogError,
    check_document,
    parse_cursor,
    publish,
    serve_changes,
)
from pos_promo_hq.db import Database, open_database, snapshot, write
from pos_promo_hq.faults import Faults, FaultSwitches
from pos_promo_hq.ingest import Ingestor
from pos_promo_hq.members import lookup_member, serve_member_state
from pos_promo_hq.pages import ADMIN_COOKIE, PageNotFound, login_page, serve_page, serve_report
from pos_promo_hq.replay import ReplayWorker
from pos_promo_hq.report import report

from pos_promo.codec import too_deep, validation_error
from pos_promo.errors import InvalidInput
from pos_promo.limits import MAX_BODY_BYTES, MAX_BODY_DEPTH, MAX_ID_LENGTH
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
    "Request",
    "Response",
]

log = logging.getLogger("hq")
MAX_BODY = MAX_BODY_BYTES  # pos_promo.limits: written down once
_PUSH = msgspec.json.Decoder(PushRequest)
_SWITCHES = msgspec.json.Decoder(FaultSwitches)
_JSON = "application/json"
StartResponse = Callable[..., Any]
T = TypeVar("T")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
"""A JSON escape of U+0000 (one preceded by an even run of backslashes)."""


class _Published(msgspec.Struct, forbid_unknown_fields=False):
    type: str
    document: dict[str, Any]


class _Publish(msgspec.Struct, forbid_unknown_fields=False):
    documents: list[_Published]


_PUBLISH = msgspec.json.Decoder(_Publish)


class _Answer(Exception):
    def __init__(self, status: int, error: str, detail: str = "") -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


@dataclass
class Request:
    """What a route needs of one WSGI request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def bearer(self) -> str:
        """The bearer token of the ``Authorization`` header ('' if none): how a store proves
        which store it is."""
        given = self.headers.get("authorization", "")
        return given[7:] if given.startswith("Bearer ") else ""

    def cookie(self, name: str) -> str:
        """One cookie's value ('' if absent): the performance pages' session rides on it."""
        jar = SimpleCookie(self.headers.get("cookie", ""))
        return jar[name].value if name in jar else ""


@dataclass
class Response:
    """A status, a body and its headers; ``drop``/``cut`` close the connection early."""

    status: int
    body: bytes
    content_type: str = _JSON
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    cut: bool = False


def _body(decoder: msgspec.json.Decoder[T], body: bytes) -> T:
    """A JSON request body as ``decoder``'s type, or a 400 naming path and rule.

    The body must be UTF-8 (JSON's only encoding): msgspec checks the strings
    it decodes but not the raw values it keeps, like an event's payload.
    The depth is checked next, without recursion: msgspec (and the error's
    own rewording) would recurse into a body nested 100,000 deep.
    """
    try:
        body.decode()
    except UnicodeDecodeError as exc:
        bad = body[exc.start : exc.start + 1].hex()
        raise _Answer(
            400, "bad_request", f"$: must be UTF-8, got byte 0x{bad} at offset {exc.start}"
        ) from None
    if too_deep(body, MAX_BODY_DEPTH):
        raise _Answer(400, "bad_request", f"$: must not nest deeper than {MAX_BODY_DEPTH} levels")
    nul = _NUL.search(body) if b"u0000" in body else None
    if nul is not None:  # PostgreSQL's text cannot hold it: refused alike on every backend
        where = nul.end() - 6
        raise _Answer(
            400, "bad_request", f"$: must not hold the character \\u0000 (at byte {where})"
        )
    try:
        return decoder.decode(body)
    except msgspec.MsgspecError as exc:
        raise _Answer(400, "bad_request", str(validation_error(exc, body, InvalidInput))) from None
    except RecursionError:  # msgspec skips an unknown field by recursing into it
        raise _Answer(
            400, "bad_request", f"$: must not nest deeper than {MAX_BODY_DEPTH} levels"
        ) from None


def _error(status: int, error: str, detail: str = "") -> Response:
    # a detail may quote the body, lone surrogates ("\ud800") and all: kept as escapes
    detail = detail.encode("utf-8", "backslashreplace").decode()
    return Response(status, encode(ErrorBody(error, detail)))


@dataclass
class HQApp:
    """The WSGI application: one per process, its database opened in that process.

    ``database`` is a SQLite file or a ``postgresql://`` URL (migrated
    before the workers start). Each worker
    process opens its own connections and starts its own replay thread
    (:meth:`start_process`, from gunicorn's ``post_worker_init``, or at its
    first request): neither a connection nor a thread survives a ``fork``.
    """

    database: str
    stores: dict[str, StoreContext]
    tokens: dict[str, str]
    admin_token: str | None = None
    faults: Faults = field(default_factory=Faults)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    replay: bool = True
    replay_interval: float = 0.5
    replay_thread: bool = True  # False: a process of its own replays (:mod:`hq.serving`)
    pool_size: int = 4
    ingestor: Ingestor = field(init=False)
    _digests: dict[bytes, tuple[bytes, str]] = field(init=False)
    _pool: Database | None = field(init=False, default=None)
    _replayer: ReplayWorker | None = field(init=False, default=None)
    _pid: int = field(init=False, default=0)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

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

    @property
    def pool(self) -> Database:
        """This process's database (a forked worker opens its own)."""
        return self.start_process()

    def start_process(self) -> Database:
        """Open this process's database and start its replay thread (once per process)."""
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = open_database(self.database, self.pool_size, migrate=False)
                self._pid = os.getpid()
                if self.replay_thread:
                    self._replayer = ReplayWorker(  # also works orders other processes queued
                        self._pool, self.stores, interval=self.replay_interval
                    ).start()
                    self.ingestor.on_enqueued = self._replayer.wake
            return self._pool

    def close(self) -> None:
        """Stop this process's replay thread and close its connections."""
        with self._lock:
            if self._pid == os.getpid():
                if self._replayer is not None:
                    self._replayer.stop()
                if self._pool is not None:
                    self._pool.close()
            self._pool, self._replayer, self._pid = None, None, 0

    # -- WSGI ------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "") or "/"
        try:
            request = self._request(environ, method, path)
            response = self.handle(request)
        except _Answer as answer:
            response = _error(answer.status, answer.error, answer.detail)
            if answer.status == 413:
                response.headers["Connection"] = "close"
        except Exception as exc:  # the server must answer, whatever went wrong
            log.exception("request %s %s failed", method, path)
            response = _error(500, "internal_error", type(exc).__name__)
        return self._send(environ, start_response, response)

    @staticmethod
    def _request(environ: dict[str, Any], method: str, path: str) -> Request:
        length = environ.get("CONTENT_LENGTH") or "0"
        if not length.isdigit():
            raise _Answer(400, "bad_request", "Content-Length must be a number")
        if int(length) > MAX_BODY:
            raise _Answer(413, "too_large", f"bodies are limited to {MAX_BODY} bytes")
        body = environ["wsgi.input"].read(int(length)) if int(length) else b""
        if len(body) != int(length):  # the client stopped early: never apply a part
            raise _Answer(
                400,
                "bad_request",
                f"the body ended after {len(body)} of the {length} bytes of its Content-Length",
            )
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        query = parse_qs(environ.get("QUERY_STRING", ""))
        return Request(method, path, query, headers, body)

    @staticmethod
    def _send(
        environ: dict[str, Any], start_response: StartResponse, response: Response
    ) -> Iterable[bytes]:
        status = f"{response.status} {HTTPStatus(response.status).phrase}"
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *response.headers.items(),
        ]
        if response.drop:
            _shut(environ)
            start_response(status, headers)
            return []
        start_response(status, headers)
        if response.cut:
            return _half_then_shut(environ, response.body)
        return [response.body]

    # -- routes ------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request (faults included); raises :class:`_Answer` for errors."""
        path = request.path
        if path == "/v1/health":
            return Response(200, encode(Health(PROTOCOL_VERSION, "pos_promo reference HQ")))
        if path == "/admin" or path.startswith("/admin/"):
            return self._admin(request)
        if path.startswith("/v1/reports/"):
            self._admin_token(request, cookie=False)
            return self._pages(request, json=True)
        faults, switches = self.faults.take(path)
        if 0 < switches.body_limit < len(request.body):
            limit = switches.body_limit
            raise _Answer(413, "too_large", f"fault switch body_limit: {limit} bytes")
        if "hang" in faults:
            time.sleep(switches.hang_seconds)
        if "fail_500" in faults:
            raise _Answer(500, "injected_failure", "fault switch fail_500")
        if "fail_429" in faults:
            response = _error(429, "slow_down", "fault switch fail_429")
            response.headers["Retry-After"] = str(switches.retry_after)
            return response
        payload = self._api(request)
        if "drop_after_commit" in faults:
            return Response(200, payload, drop=True)
        if "garble" in faults:
            payload = b'{"cursor": "1", "more": tr' + payload[:16]
        return Response(200, payload, cut="cut_short" in faults)

    def _admin_token(self, request: Request, cookie: bool) -> None:
        given = request.bearer()
        if given and self._is_admin(given):
            return
        session = request.cookie(ADMIN_COOKIE) if cookie else ""
        expected = self._session()
        if not (session and expected and hmac.compare_digest(session, expected)):
            raise _Answer(401, "unauthorized", "a valid bearer token is required")

    def _session(self) -> str:
        """The pages' cookie: derived from the admin token, never the token itself."""
        if not self.admin_token:
            return ""
        return hmac.new(self.admin_token.encode(), b"pos_promo_hq pages", "sha256").hexdigest()

    def _is_admin(self, given: str) -> bool:
        expected = self.admin_token
        return bool(expected and given and hmac.compare_digest(given.encode(), expected.encode()))

    def _store(self, request: Request) -> str:
        token = request.bearer()
        store = self.store_of(token) if token else None
        if store is None:
            raise _Answer(401, "unauthorized", "unknown or missing store token")
        return store

    def _api(self, request: Request) -> bytes:
        method, path = request.method, request.path
        store = self._store(request)
        routes = {("GET", "/v1/changes"), ("GET", "/v1/member-state"), ("POST", "/v1/events")}
        if method == "GET" and path.startswith("/v1/members/"):
            member = unquote(path.removeprefix("/v1/members/"))
            if not 1 <= len(member) <= MAX_ID_LENGTH or "/" in member or _CONTROL.search(member):
                raise _Answer(
                    400,
                    "bad_request",
                    f"a member id is 1 to {MAX_ID_LENGTH} characters, no '/' nor control character",
                )
            with self.pool.connection() as conn, write(conn):
                return lookup_member(conn, store, member, self.clock().isoformat())
        if (method, path) not in routes:
            known = {p for _, p in routes}
            raise _Answer(405 if path in known else 404, "not_found", f"{method} {path}")
        if method == "POST":
            push = _body(_PUSH, request.body)
            if push.store_id != store:
                raise _Answer(403, "forbidden", f"this token belongs to store {store!r}")
            with self.pool.connection() as conn:
                results = self.ingestor.apply(conn, store, push, self.clock())
            return encode(PushResponse(tuple(results)))
        try:
            since = parse_cursor(request.query.get("since", [""])[0])
            limit = int(request.query.get("limit", ["200"])[0])
        except ValueError as exc:
            raise _Answer(400, "bad_request", str(exc)) from None
        with self.pool.connection() as conn:
            if path == "/v1/changes":
                return serve_changes(conn, since, limit)
            return serve_member_state(conn, store, since, limit)

    def _admin(self, request: Request) -> Response:
        method, path = request.method, request.path
        if path == "/admin/login":
            return self._login(request)
        if method == "GET" and path not in ("/admin/faults", "/admin/report"):
            try:
                self._admin_token(request, cookie=True)
            except _Answer:  # a person at a browser: the sign-in form, then back here
                return Response(303, b"", "text/plain", {"Location": "/admin/login"})
            return self._pages(request, json=False)
        self._admin_token(request, cookie=False)
        if (method, path) == ("POST", "/admin/faults"):
            self.faults.configure(_body(_SWITCHES, request.body or b"{}"))
        if path == "/admin/faults":
            return Response(
                200, encode({"switches": self.faults.get(), "fired": self.faults.fired})
            )
        if (method, path) == ("POST", "/admin/publish"):
            publishing = _body(_PUBLISH, request.body)
            for index, entry in enumerate(publishing.documents):
                try:
                    check_document(entry.document, f"$.documents[{index}].document")
                except CatalogError as exc:
                    raise _Answer(400, "bad_request", str(exc)) from None
            documents = [(d.type, d.document) for d in publishing.documents]
            try:
                with self.pool.connection() as conn:
                    added = publish(conn, documents, self.clock())
            except CatalogError as exc:
                raise _Answer(400, "bad_request", str(exc)) from None
            return Response(200, encode({"added": added}))
        if (method, path) == ("GET", "/admin/report"):
            with self.pool.connection() as conn, snapshot(conn):
                return Response(200, encode(report(conn, with_ids="ids" in request.query)))
        raise _Answer(404, "not_found", f"{method} {path}")

    def _login(self, request: Request) -> Response:
        """The pages' sign-in: a form whose token, when right, is kept in a cookie."""
        if request.method == "GET":
            return Response(200, login_page(""), "text/html; charset=utf-8")
        given = parse_qs(request.body.decode("utf-8", "replace")).get("token", [""])[0]
        if not self._is_admin(given):
            return Response(401, login_page("That token is not HQ's admin token."), "text/html")
        cookie = f"{ADMIN_COOKIE}={self._session()}; Path=/admin; HttpOnly; SameSite=Strict"
        return Response(303, b"", "text/plain", {"Location": "/admin/", "Set-Cookie": cookie})

    def _pages(self, request: Request, json: bool) -> Response:
        with self.pool.connection() as conn, snapshot(conn):
            try:
                if json:
                    return Response(200, serve_report(conn, request.path, request.query))
                html = serve_page(conn, request.path, request.query)
            except PageNotFound as exc:
                raise _Answer(404, "not_found", str(exc)) from None
        return Response(200, html, "text/html; charset=utf-8")


def _shut(environ: dict[str, Any]) -> None:
    """Close the client's connection under the server (the ``drop``/``cut`` faults)."""
    sock = environ.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _half_then_shut(environ: dict[str, Any], body: bytes) -> Iterator[bytes]:
    yield body[: len(body) // 2]
    _shut(environ)
