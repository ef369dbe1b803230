"""Fault switches: make the next requests fail the ways real networks do.

Tests flip them through ``POST /admin/faults``; each switch counts down one
per API request it affects (``/admin`` and ``/v1/health`` are never
affected), and ``paths`` narrows them to some endpoints. Thread-safe: the
server handles each connection on its own thread.

* ``fail_500`` / ``fail_429``: answer 500, or 429 with ``Retry-After``;
* ``hang``: sleep ``hang_seconds`` before handling (a till's read timeout
  fires first), then carry on as usual;
* ``drop_after_commit``: handle the request (a push is committed), then
  close the connection without answering;
* ``cut_short``: send the headers and half of the body, then close;
* ``garble``: answer 200 with a body that is not JSON;
* ``body_limit``: not a count but a size: while above 0, answer 413 to any
  API request whose body is larger, as a reverse proxy with a smaller
  body limit than HQ's own would.
"""

from __future__ import annotations

import threading
from typing import Literal

import msgspec

__all__ = ["Fault", "FaultSwitches", "Faults"]

Fault = Literal["fail_500", "fail_429", "hang", "drop_after_commit", "cut_short", "garble"]
_ORDER: tuple[Fault, ...] = (
    "hang",
    "fail_500",
    "fail_429",
    "garble",
    "cut_short",
    "drop_after_commit",
)


class FaultSwitches(msgspec.Struct, forbid_unknown_fields=True):
    """The switches as set through the admin endpoint (counts of requests to affect)."""

    fail_500: int = 0
    fail_429: int = 0
    hang: int = 0
    drop_after_commit: int = 0
    cut_short: int = 0
    garble: int = 0
    retry_after: int = 1
    hang_seconds: float = 2.0
    body_limit: int = 0
    paths: tuple[str, ...] = ()


class Faults:
    """The live switches; :meth:`take` decides the faults of one request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = FaultSwitches()
        self.fired: dict[str, int] = {}

    def configure(self, switches: FaultSwitches) -> None:
        with self._lock:
            self._state = switches

    def get(self) -> FaultSwitches:
        with self._lock:
            return self._state

    def take(self, path: str) -> tuple[set[Fault], FaultSwitches]:
        """The faults this request gets (each switch counted down once)."""
        with self._lock:
            state = self._state
            if state.paths and not any(path.startswith(p) for p in state.paths):
                return set(), state
            chosen: set[Fault] = set()
            for fault in _ORDER:
                if getattr(state, fault) > 0:
                    setattr(state, fault, getattr(state, fault) - 1)
                    self.fired[fault] = self.fired.get(fault, 0) + 1
                    chosen.add(fault)
                    if fault in ("fail_500", "fail_429", "garble", "cut_short"):
                        break  # one way to answer badly per request
            return chosen, state
