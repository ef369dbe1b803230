"""The till's HTTP client for HQ: one call, retried the careful way.

requests has no default timeout and never retries a POST by itself
(ARCHITECTURE, "Traps"), so this client sets both timeouts on every call
and does its own retrying: exponential backoff with full jitter, HQ's
``Retry-After`` honoured (capped), for connection errors, timeouts, cut-off
bodies, 429 and 5xx. Retrying a POST of events is safe because every event
carries a unique id and HQ ignores repeats. A 401 or 403 is never retried:
the same token will be refused again, so the job must stop and say so; nor
is a 413, which the same body would get again (the push splits the batch).

The ``requests.Session`` is injected (tests may bring their own transport)
and TLS verification is on unless a config explicitly turns it off. Waits
go through an injected ``wait`` that returns ``True`` when the daemon is
stopping, so a shutdown never sits out a 30-second backoff.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
import requests

from pos_promo.codec import too_deep
from pos_promo.limits import MAX_JSON_DEPTH, MAX_RESPONSE_BYTES
from pos_promo.sync.errors import (
    HQProtocolError,
    HQRefused,
    HQUnavailable,
    RequestTooLarge,
    ResponseTooLarge,
    SyncCancelled,
)
from pos_promo.sync.protocol import (
    API_PREFIX,
    ChangesPage,
    ErrorBody,
    Health,
    MemberStatePage,
    PushEvent,
    PushRequest,
    PushResponse,
    RawChangesPage,
    encode,
)
from pos_promo.sync.shallow import elements, members

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "RETRYABLE_STATUS",
    "HQClient",
    "RetryPolicy",
    "retry_after",
]

T = TypeVar("T")
log = logging.getLogger("pos_promo.sync")

DEFAULT_MAX_RESPONSE_BYTES = MAX_RESPONSE_BYTES  # pos_promo.limits: written down once
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
_DECODERS: dict[type[Any], msgspec.json.Decoder[Any]] = {
    kind: msgspec.json.Decoder(kind)
    for kind in (ChangesPage, ErrorBody, Health, MemberStatePage, PushResponse, RawChangesPage)
}


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """How one call is retried: ``attempts`` in all, waits drawn by full jitter.

    The n-th wait (n from 0) is uniform in ``[0, min(cap, base * 2**n)]``,
    so many tills coming back at once spread out instead of stampeding HQ;
    a ``Retry-After`` from HQ replaces the draw, up to ``retry_after_cap``.
    """

    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    retry_after_cap: float = 300.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before retry ``attempt``: full jitter on an exponential cap, so tills
        that lost HQ together do not return together."""
        return rng.uniform(0.0, min(self.cap, self.base * 2.0**attempt))


def retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


class _Transient(Exception):
    """A failure worth another attempt; ``wait`` is HQ's Retry-After if it sent one."""

    def __init__(self, problem: str, wait: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.wait = wait


@dataclass
class HQClient:
    """Speaks the protocol of :mod:`pos_promo.sync.protocol` to one HQ for one store."""

    base_url: str
    token: str
    store_id: str
    session: requests.Session = field(default_factory=requests.Session)
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    verify: bool | str = True
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    wait: Callable[[float], bool] = _sleep
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    def health(self) -> Health:
        """Which protocol HQ speaks (no token needed): a reachable HQ that speaks another
        version is told apart from one that is down."""
        return self._call("health", "GET", "/health", Health)

    def changes(self, since: str, limit: int) -> RawChangesPage:
        """A page of changes, each still raw (one bad change must not spoil its page)."""
        params = {"since": since, "limit": str(limit)}
        return self._call("pull changes", "GET", "/changes", RawChangesPage, params=params)

    def member_state(self, since: str, limit: int) -> MemberStatePage:
        """A page of member state (counts, wallet coupons, gift totals) after cursor ``since``."""
        params = {"since": since, "limit": str(limit)}
        return self._call("pull member state", "GET", "/member-state", MemberStatePage, params)

    def push(self, events: Sequence[PushEvent], backlog: int | None = None) -> PushResponse:
        """Push a batch of outbox events; HQ answers one result per event, and an answer of
        another length is a protocol error, never a partial success."""
        body = encode(PushRequest(self.store_id, tuple(events), backlog))
        response = self._call("push events", "POST", "/events", PushResponse, body=body)
        if len(response.results) != len(events):
            raise HQProtocolError(
                "push events",
                f"HQ answered {len(response.results)} result(s) for {len(events)} event(s)",
            )
        return response

    # -- one call, retried ------------------------------------------------------

    def _call(
        self,
        what: str,
        method: str,
        path: str,
        kind: type[T],
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> T:
        attempts = max(1, self.retry.attempts)
        last = "no attempt made"
        for attempt in range(attempts):
            try:
                return self._once(what, method, path, kind, params, body)
            except _Transient as exc:
                last = exc.problem
                if attempt + 1 >= attempts:
                    break
                if exc.wait is not None:
                    delay = min(exc.wait, self.retry.retry_after_cap)
                else:
                    delay = self.retry.backoff(attempt, self.rng)
                log.debug("%s: %s; attempt %d, retrying in %.2fs", what, last, attempt + 1, delay)
                if self.wait(delay):
                    raise SyncCancelled(what) from None
        raise HQUnavailable(what, attempts, last)

    def _once(
        self,
        what: str,
        method: str,
        path: str,
        kind: type[T],
        params: Mapping[str, str] | None,
        body: bytes | None,
    ) -> T:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        url = self.base_url.rstrip("/") + API_PREFIX + path
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                data=body,
                headers=headers,
                timeout=(self.connect_timeout, self.read_timeout),
                verify=self.verify,
                stream=True,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            raise HQProtocolError(what, f"TLS failure: {exc}") from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        try:
            status = response.status_code
            content = self._read(what, response)
        finally:
            response.close()
        if status == 200:
            return _decode(what, kind, content)
        detail = _error_detail(content)
        if status in (401, 403):
            raise HQRefused(what, status, detail)
        if status == 413:
            raise RequestTooLarge(what, len(body or b""), detail)
        if status in RETRYABLE_STATUS:
            wait = retry_after(response.headers.get("Retry-After"), self.clock())
            raise _Transient(f"HTTP {status} {detail}".rstrip(), wait)
        raise HQProtocolError(what, f"HTTP {status} {detail}".rstrip())

    def _read(self, what: str, response: requests.Response) -> bytes:
        """The whole body, refusing it as soon as it passes the size limit."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise ResponseTooLarge(what, self.max_response_bytes)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=256 * 1024):
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise ResponseTooLarge(what, self.max_response_bytes)
                chunks.append(chunk)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Transient(f"{type(exc).__name__} reading the body: {exc}") from None
        except requests.exceptions.ChunkedEncodingError as exc:
            raise _Transient(f"response cut short: {exc}") from None
        return b"".join(chunks)


def _decode(what: str, kind: type[T], content: bytes) -> T:
    """A 200 response as ``kind``; a page whose items msgspec cannot read is
    read shallowly (:func:`_shallow_page`) so its bad items stay its own."""
    try:
        return _DECODERS[kind].decode(content)  # type: ignore[no-any-return]
    except msgspec.ValidationError as exc:
        raise HQProtocolError(what, f"unusable response from HQ: {exc}") from None
    except (msgspec.DecodeError, RecursionError) as exc:
        field = _ITEMS.get(kind)
        if field is None:
            raise HQProtocolError(what, f"unusable response from HQ: {exc}") from None
        try:
            return _shallow_page(kind, field, content)
        except (msgspec.MsgspecError, RecursionError, ValueError) as why:
            raise HQProtocolError(what, f"unusable response from HQ: {why}") from None


_ITEMS: dict[type[Any], str] = {RawChangesPage: "changes", MemberStatePage: "items"}
"""Pages whose items travel raw, and the field that holds them."""


def _shallow_page(kind: type[T], field: str, content: bytes) -> T:
    """A page cut at its top level without decoding its items (one nested past
    msgspec's recursion guard, or not JSON at all), each item left raw for the
    page's applier to decode and, if it must, quarantine on its own. The
    envelope without its items must still decode."""
    top = members(content)
    items = elements(top.pop(field, b"[]"))
    for key, value in top.items():
        if too_deep(value, MAX_JSON_DEPTH - 1):
            raise ValueError(f"$.{key}: must not nest deeper than {MAX_JSON_DEPTH} levels")
    envelope = b"{" + b",".join(encode(key) + b":" + value for key, value in top.items()) + b"}"
    page = _DECODERS[kind].decode(envelope)
    return msgspec.structs.replace(page, **{field: tuple(map(msgspec.Raw, items))})  # type: ignore[no-any-return]


def _error_detail(content: bytes) -> str:
    try:
        body = _DECODERS[ErrorBody].decode(content)
    except msgspec.MsgspecError:
        return ""
    return f"{body.error}: {body.detail}" if body.detail else body.error
