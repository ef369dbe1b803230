"""The daemon's configuration file (TOML), checked with JSON paths in errors.

Example::

    db = "store-downtown.db"          # relative to this file
    hq_url = "https://hq.example.com"
    token_file = "/etc/pos-promo/token" # or: token = "..."; the file must be mode 0600
    verify_tls = true                   # or ca_bundle = "/path/to/ca.pem"
    allow_insecure_http = false         # http:// only to a loopback address unless true

    [intervals]                         # seconds between runs of each job
    pull_campaigns = 60
    pull_members = 120
    push_events = 10
    release_gifts = 60
    housekeeping = 3600

    [check]                             # when `pos-promo status --check` exits 1
    backlog_age = 3600                  # seconds: oldest order still waiting for HQ
    job_silence = 7200                  # seconds a job may go without a success
    failed_runs = 5                     # consecutive failed runs of one job

    [http]
    connect_timeout = 3.05
    read_timeout = 10.0
    attempts = 5
    backoff_base = 0.5
    backoff_cap = 30.0

TLS verification is on unless ``verify_tls = false`` is written out. A
plain ``http://`` HQ would carry the store's token in clear, so it is refused
unless the host is a loopback address or ``allow_insecure_http = true`` is
written out. A token file readable by its group or by others is refused
(``chmod 600`` it): whoever can read the token can push as the store.
Every problem is one :class:`~pos_promo.errors.InvalidInput` naming the
path, e.g. ``$.http.attempts: must be >= 1, got 0``, a TOML syntax error
with its line and column, or a token file that cannot be read.
``store_id`` is optional: the daemon reads the store from the till's
database at every run, and a ``store_id`` written here is only checked
against it. docs/sync.md lists every key with its default;
``pos-promo-daemon --check-config FILE`` runs :func:`check_config`.
"""

from __future__ import annotations

import ipaddress
import os
import sqlite3
import stat
import tomllib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta, Struct

from pos_promo.codec import validation_error
from pos_promo.errors import InvalidInput
from pos_promo.store.meta import recorded_store
from pos_promo.sync.status import Thresholds
from pos_promo.sync.steps import DEFAULT_PUSH_BYTES

__all__ = [
    "Batches",
    "DaemonConfig",
    "Http",
    "Intervals",
    "check_config",
    "check_hq_url",
    "is_loopback",
    "load_config",
    "read_token",
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
    """How many events (and bytes) per push, and items per pulled page."""

    push: Annotated[int, Meta(ge=1, le=1000)] = 500
    push_bytes: Annotated[int, Meta(ge=1024)] = DEFAULT_PUSH_BYTES
    """A push body's bound in bytes (past its first event); a 413 still splits."""
    changes_page: Annotated[int, Meta(ge=1, le=1000)] = 200
    member_page: Annotated[int, Meta(ge=1, le=1000)] = 500


class DaemonConfig(Struct, frozen=True, forbid_unknown_fields=True):
    """The whole file: the till's database, HQ, credentials and the tables above."""

    db: str
    hq_url: str
    token: str = ""
    token_file: str = ""
    store_id: str = ""
    verify_tls: bool = True
    ca_bundle: str = ""
    allow_insecure_http: bool = False
    intervals: Intervals = Intervals()
    http: Http = Http()
    batches: Batches = Batches()
    check: Thresholds = Thresholds()

    def bearer(self) -> str:
        """The token (:func:`load_config` has read ``token_file`` into it)."""
        if self.token_file and not self.token:
            return read_token(self.token_file)
        return self.token

    def verify(self) -> bool | str:
        """What requests' ``verify`` gets: a CA bundle path, or on/off."""
        return self.ca_bundle or self.verify_tls


def read_token(path: str | Path) -> str:
    """The token in ``path``, refused if the file is missing, empty or not private."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise InvalidInput("$.token_file", f"cannot read {str(path)!r}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as file:
        mode = stat.S_IMODE(os.fstat(file.fileno()).st_mode)
        if mode & 0o077:
            raise InvalidInput(
                "$.token_file",
                f"{str(path)!r} is readable by group or others (mode {mode:04o}); "
                "chmod 600 it, since whoever reads it can push as this store",
            )
        token = file.read().decode("utf-8", "replace").strip()
    if not token:
        raise InvalidInput("$.token_file", f"{str(path)!r} is empty")
    return token


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost`` or a loopback address)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_hq_url(url: str, allow_insecure_http: bool) -> None:
    """Refuse a URL that is not http(s), or plain http to another host unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("$.hq_url", "must be an http:// or https:// URL", url)
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise InvalidInput(
            "$.hq_url",
            "plain http:// would send the store's token in clear: use https://, "
            "or write allow_insecure_http = true if the network is trusted",
            url,
        )


def load_config(path: str | Path) -> DaemonConfig:
    """Read and check a config file; relative paths are relative to the file.

    The token file is read here, once, so a missing or unsafe one stops the
    daemon at start with one line instead of failing every job.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput("--config", f"cannot read {str(path)!r}: {exc.strerror}") from None
    try:
        config = msgspec.toml.decode(raw, type=DaemonConfig)
    except msgspec.ValidationError as exc:
        raise validation_error(exc, b"", InvalidInput) from None
    except msgspec.MsgspecError as exc:
        raise InvalidInput(str(path), f"is not valid TOML: {exc}") from None
    if not config.token and not config.token_file:
        raise InvalidInput("$.token", "is required (or token_file)")
    check_hq_url(config.hq_url, config.allow_insecure_http)
    base = path.resolve().parent
    updates = {"db": str(base / config.db)}
    if config.token_file:
        updates["token_file"] = str(base / config.token_file)
        updates["token"] = read_token(updates["token_file"])
    if config.ca_bundle:
        updates["ca_bundle"] = str(base / config.ca_bundle)
    return msgspec.structs.replace(config, **updates)


def check_config(path: str | Path) -> list[InvalidInput]:
    """Every problem of a config file, not just the first (``--check-config``).

    Each key is checked on its own (type, range, unknown keys in every
    table), then what the keys name: a token or a readable token file, an
    http(s) URL, a CA bundle that exists, a folder for the database and, if
    the database already records a store, the ``store_id`` against it.
    """
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as exc:
        return [InvalidInput("--config", f"cannot read {str(path)!r}: {exc.strerror}")]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return [InvalidInput("$", f"is not valid TOML ({exc})")]
    problems = _check_keys(doc, DaemonConfig, "$")
    text = {k: v for k, v in doc.items() if isinstance(v, str)}
    base = path.resolve().parent
    if not text.get("token") and not text.get("token_file"):
        problems.append(InvalidInput("$.token", "is required (or token_file)"))
    if text.get("token_file"):
        try:
            read_token(base / text["token_file"])
        except InvalidInput as exc:
            problems.append(exc)
    if "hq_url" in text:
        try:
            check_hq_url(text["hq_url"], doc.get("allow_insecure_http") is True)
        except InvalidInput as exc:
            problems.append(exc)
    if text.get("ca_bundle") and not (base / text["ca_bundle"]).is_file():
        problems.append(InvalidInput("$.ca_bundle", "names no file", str(base / text["ca_bundle"])))
    if "db" in text:
        db = base / text["db"]
        recorded = _recorded_store_id(db) if db.is_file() else None
        if not db.parent.is_dir():
            problems.append(InvalidInput("$.db", "is in a folder that does not exist", str(db)))
        elif recorded is not None and text.get("store_id", recorded) != recorded:
            problems.append(
                InvalidInput(
                    "$.store_id",
                    f"must match the store the database records ({recorded!r})",
                    text["store_id"],
                )
            )
    return problems


def _check_keys(doc: dict[str, Any], struct: type[Struct], prefix: str) -> list[InvalidInput]:
    """Type and range of each key of one table, unknown and missing keys."""
    problems: list[InvalidInput] = []
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
    for key in doc:
        if key not in fields:
            problems.append(
                InvalidInput(f"{prefix}.{key}", f"is not a key here (known: {', '.join(fields)})")
            )
    for name, info in fields.items():
        where = f"{prefix}.{name}"
        if name not in doc:
            if info.required:
                problems.append(InvalidInput(where, "is required"))
            continue
        value = doc[name]
        if isinstance(info.type, type) and issubclass(info.type, Struct):
            if isinstance(value, dict):
                problems += _check_keys(value, info.type, where)
            else:
                problems.append(InvalidInput(where, "must be a table", value))
            continue
        try:
            msgspec.convert(value, info.type)
        except msgspec.ValidationError as exc:
            raw = msgspec.json.encode(value)  # so the message quotes the value as written
            problems.append(validation_error(exc, raw, InvalidInput, where))
    return problems


def _recorded_store_id(db: Path) -> str | None:
    """The store id the till's database records, read-only; None if it records none."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            store = recorded_store(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return None if store is None else store.id
