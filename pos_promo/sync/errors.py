"""Why a sync with HQ did not happen, under the package's one root.

A sync failure never reaches the till: the daemon records it, logs one line
and tries again at the next run, except where retrying cannot help (a
refused token), where the job stops and reports instead::

    PromoError
    └── SyncError (RuntimeError)           a sync step did not complete
        ├── HQUnavailable                  network error, timeout, 5xx or 429 after every retry
        ├── HQRefused                      401 or 403: the store's token was refused
        ├── HQProtocolError (ValueError)   a response that breaks the protocol
        │   ├── ResponseTooLarge           a response over the configured size limit
        │   └── RequestTooLarge            HQ (or a proxy) answered 413 to a push
        ├── SyncCancelled                  the daemon is stopping; the step was abandoned
        └── DaemonAlreadyRunning           another daemon holds this database's lock
"""

from __future__ import annotations

from pos_promo.errors import PromoError

__all__ = [
    "DaemonAlreadyRunning",
    "HQProtocolError",
    "HQRefused",
    "HQUnavailable",
    "RequestTooLarge",
    "ResponseTooLarge",
    "SyncCancelled",
    "SyncError",
]


class SyncError(PromoError, RuntimeError):
    """A sync step did not complete; nothing it would have written was written."""


class HQUnavailable(SyncError):
    """HQ could not be reached, or kept failing, through every retry of one call."""

    def __init__(self, what: str, attempts: int, last: str) -> None:
        self.what = what
        self.attempts = attempts
        self.last = last
        super().__init__(f"{what}: HQ unavailable after {attempts} attempt(s): {last}")


class HQRefused(SyncError):
    """HQ answered 401 or 403: retrying with the same token cannot help."""

    def __init__(self, what: str, status: int, detail: str = "") -> None:
        self.what = what
        self.status = status
        self.detail = detail
        tail = f": {detail}" if detail else ""
        super().__init__(
            f"{what}: HQ refused this store's token (HTTP {status}){tail}; "
            "fix the token in the daemon's config and restart it"
        )


class HQProtocolError(SyncError, ValueError):
    """HQ answered something this client cannot use (bad JSON, wrong shape, 4xx)."""

    def __init__(self, what: str, problem: str) -> None:
        self.what = what
        self.problem = problem
        super().__init__(f"{what}: {problem}")


class ResponseTooLarge(HQProtocolError):
    """A response body over the size limit; it was not read to the end."""

    def __init__(self, what: str, limit: int) -> None:
        self.limit = limit
        super().__init__(what, f"response larger than the {limit}-byte limit, not read")


class RequestTooLarge(HQProtocolError):
    """HQ, or a proxy before it, refused a request body as too large (HTTP 413).

    The push splits the batch and tries the halves; one event refused alone
    becomes a dead letter with this error as its reason.
    """

    def __init__(self, what: str, size: int, detail: str = "") -> None:
        self.size = size
        self.detail = detail
        tail = f" ({detail})" if detail else ""
        super().__init__(what, f"HQ refused a {size}-byte request as too large (HTTP 413){tail}")


class SyncCancelled(SyncError):
    """The daemon is stopping: a wait between retries was cut short."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"{what}: cancelled, the daemon is stopping")


class DaemonAlreadyRunning(SyncError):
    """Another daemon holds the lock of this database: one daemon per database."""

    def __init__(self, lock_path: str, holder: str = "") -> None:
        self.lock_path = lock_path
        self.holder = holder
        who = f" (pid {holder})" if holder else ""
        super().__init__(f"another sync daemon{who} already runs for this database: {lock_path}")
