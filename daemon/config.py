"""The daemon's configuration file (TOML), checked with JSON paths in errors.

Example::

    db = "store-downtown.db"          # relative to this file
    hq_url = "https://hq.example.com"
    token_file = "/etc/pos-promo/token" # or: token = "..."
    verify_tls = true                   # or ca_bundle = "/path/to/ca.pem"

    [intervals]                         # seconds between runs of each job
    pull_campaigns = 60
    pull_members = 120
    push_events = 10
    release_gifts = 60
    housekeeping = 3600

    [http]
    connect_timeout = 3.05
    read_timeout = 10.0
    attempts = 5
    backoff_base = 0.5
    backoff_cap = 30.0

TLS verification is on unless ``verify_tls = false`` is written out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from pos_promo.codec import validation_error
from pos_promo.errors import InvalidInput

__all__ = [
    "Batches",
    "DaemonConfig",
    "Http",
    "Intervals",
    "load_config",
]

Seconds = Annotated[float, Meta(gt=0)]


class Intervals(Struct, frozen=True, forbid_unknown_fields=True):
    """Seconds between two runs of each job."""

    pull_campaigns: Seconds = 60.0
    pull_members: Seconds = 120.0
    push_events: Seconds = 10.0
    release_gifts: Seconds = 60.0
    housekeeping: Seconds = 3600.0


class Http(Struct, frozen=True, forbid_unknown_fields=True):
    """Timeouts and retries of every call to HQ (see :class:`pos_promo.sync.client.RetryPolicy`)."""

    connect_timeout: Seconds = 3.05
    read_timeout: Seconds = 10.0
    attempts: Annotated[int, Meta(ge=1, le=20)] = 5
    backoff_base: Seconds = 0.5
    backoff_cap: Seconds = 30.0
    retry_after_cap: Seconds = 300.0
    max_response_bytes: Annotated[int, Meta(ge=1024)] = 32 * 1024 * 1024


class Batches(Struct, frozen=True, forbid_unknown_fields=True):
    """How many events per push, and items per pulled page."""

    push: Annotated[int, Meta(ge=1, le=1000)] = 500
    changes_page: Annotated[int, Meta(ge=1, le=1000)] = 200
    member_page: Annotated[int, Meta(ge=1, le=1000)] = 500


class DaemonConfig(Struct, frozen=True, forbid_unknown_fields=True):
    db: str
    hq_url: str
    token: str = ""
    token_file: str = ""
    store_id: str = ""
    verify_tls: bool = True
    ca_bundle: str = ""
    intervals: Intervals = Intervals()
    http: Http = Http()
    batches: Batches = Batches()

    def bearer(self) -> str:
        """The token, read from ``token_file`` when one is named."""
        if self.token_file:
            return Path(self.token_file).read_text().strip()
        return self.token

    def verify(self) -> bool | str:
        """What requests' ``verify`` gets: a CA bundle path, or on/off."""
        return self.ca_bundle or self.verify_tls


def load_config(path: str | Path) -> DaemonConfig:
    """Read and check a config file; relative paths are relative to the file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput("--config", f"cannot read {str(path)!r}: {exc.strerror}") from None
    try:
        config = msgspec.toml.decode(raw, type=DaemonConfig)
    except msgspec.MsgspecError as exc:
        raise validation_error(exc, b"", InvalidInput) from None
    if not config.token and not config.token_file:
        raise InvalidInput("$.token", "is required (or token_file)")
    if not config.hq_url.startswith(("http://", "https://")):
        raise InvalidInput("$.hq_url", "must be an http:// or https:// URL", config.hq_url)
    base = path.resolve().parent
    updates = {"db": str(base / config.db)}
    if config.token_file:
        updates["token_file"] = str(base / config.token_file)
    if config.ca_bundle:
        updates["ca_bundle"] = str(base / config.ca_bundle)
    return msgspec.structs.replace(config, **updates)
