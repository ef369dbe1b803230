"""Fault switches: make the next requests fail the ways real networks do.

Tests flip them through ``POST /admin/faults``; each switch counts down one
per API request it affects (``/admin``, ``/v1/health`` and ``/v1/reports``
are never affected), and ``paths`` narrows them to some endpoints.

HQ runs as several worker processes, and the request that flips a switch
and the one it should affect may land on different workers, so the
switches live in one small JSON file every worker reads and rewrites under
an exclusive ``flock`` (process memory would give each worker its own
count). The file is made by the server's main process before it starts
its workers and removed when it stops.

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

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
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


class _State(msgspec.Struct):
    switches: FaultSwitches = msgspec.field(default_factory=FaultSwitches)
    fired: dict[str, int] = msgspec.field(default_factory=dict)


_STATE = msgspec.json.Decoder(_State)


class Faults:
    """The live switches in a file shared by every worker; :meth:`take` decides a request's.

    ``Faults()`` makes a fresh file of its own (removed by :meth:`remove`);
    ``Faults(path)`` uses an existing one.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            fd, name = tempfile.mkstemp(prefix="pos-promo-hq-faults-", suffix=".json")
            os.close(fd)
            path = name
        self.path = Path(path)
        with self._locked() as state:
            del state  # written back as read: an empty file becomes the all-off state

    @contextlib.contextmanager
    def _locked(self) -> Iterator[_State]:
        with self.path.open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            raw = handle.read()
            state = _STATE.decode(raw) if raw else _State()
            yield state
            new = msgspec.json.encode(state)
            if new != raw:
                handle.seek(0)
                handle.truncate()
                handle.write(new)
                handle.flush()

    def _peek(self) -> _State:
        """The state as it is, under a shared lock: requests read it side by side."""
        try:
            with self.path.open("rb") as handle:
                fcntl.flock(handle, fcntl.LOCK_SH)
                raw = handle.read()
        except FileNotFoundError:  # HQ is stopping and removed it: no switch is on
            return _State()
        return _STATE.decode(raw) if raw else _State()

    def configure(self, switches: FaultSwitches) -> None:
        """Replace the switches for every HQ process at once (they share the file), so a test
        arms faults without restarting HQ."""
        with self._locked() as state:
            state.switches = switches

    def get(self) -> FaultSwitches:
        """The switches as they stand now, read under the file lock so no process sees a half-
        written state."""
        with self._locked() as state:
            return state.switches

    @property
    def fired(self) -> dict[str, int]:
        """How many requests each fault has affected since HQ started."""
        with self._locked() as state:
            return dict(state.fired)

    def take(self, path: str) -> tuple[set[Fault], FaultSwitches]:
        """The faults this request gets (each switch counted down once).

        With no switch on (always, outside tests) a request only reads the
        file under a shared lock: every request of every worker rewriting it
        under an exclusive one made them take turns.
        """
        quiet = self._peek().switches
        if not any(getattr(quiet, fault) > 0 for fault in _ORDER):
            return set(), quiet
        with self._locked() as state:
            switches = state.switches
            if switches.paths and not any(path.startswith(p) for p in switches.paths):
                return set(), switches
            chosen: set[Fault] = set()
            for fault in _ORDER:
                if getattr(switches, fault) > 0:
                    setattr(switches, fault, getattr(switches, fault) - 1)
                    state.fired[fault] = state.fired.get(fault, 0) + 1
                    chosen.add(fault)
                    if fault in ("fail_500", "fail_429", "garble", "cut_short"):
                        break  # one way to answer badly per request
            return chosen, switches

    def remove(self) -> None:
        """Delete the shared state file when the test harness is done with it."""
        self.path.unlink(missing_ok=True)
