"""Applying HQ's published changes to the till's cache, a publication at a time.

A page is applied in one ``BEGIN IMMEDIATE`` transaction together with the
cursor that follows it (the eventsourcing habit): a crash leaves either the
page and its cursor, or neither, so no page is applied twice or skipped.

A publication (the documents HQ published together, see
:class:`~pos_promo.sync.protocol.ChangesPage`) is atomic: when a page does
not complete its last publication, that publication's changes are staged in
``sync_staged`` (in the page's transaction, with its cursor) and applied
together with the rest of their publication by the page that completes it,
so the engine sees the old set or the new one, never part.

Inside a page each change is decoded and checked on its own, and each is
written on its own if writing them together raised (a savepoint per item),
so anything wrong with one change quarantines that change and the rest of
the page applies:

* a valid campaign goes through the store's own import rules
  (:func:`pos_promo.store.campaigns.apply_import`: newer versions replace,
  archived is final), which bumps the cache version the till watches, so
  the till sees the old set or the new set, never half a page;
* an invalid one (bad shape, failed check, unknown kind, id or version not
  matching its envelope) is quarantined with its error while the last good
  version, if any, keeps serving; a later good version lifts the quarantine;
* a change whose envelope does not even decode (a version past 64 bits)
  is quarantined under its type and id, or its digest;
* a change ``type`` this till does not know (a newer HQ) is skipped;
* fields of an applied document this till does not know are listed in
  ``sync_unknown_fields`` (and the job's log line), by document and path:
  forward compatible, but never silent.

Coupon templates are a campaign kind and go through the same import rules
into the campaign cache. Sharing plans and the execution order are checked
the same way and kept by the store (:mod:`pos_promo.store.documents`, the
one place the engine reads them from, which a catalog import at the till
writes too), with the same version rules and cache-version bump, in the
page's transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from pos_promo.codec import check_campaign, too_deep, validation_error
from pos_promo.errors import InvalidCampaign, InvalidInput
from pos_promo.gift_codec import check_gift_templates
from pos_promo.limits import MAX_JSON_DEPTH
from pos_promo.model.campaign import Campaign
from pos_promo.model.coupon import CouponTemplate, ExecutionOrder, SharingPlan
from pos_promo.model.gift import CumulativeGift
from pos_promo.store.campaigns import apply_import
from pos_promo.store.connection import immediate
from pos_promo.store.documents import EXECUTION_ORDER, EXECUTION_ORDER_ID, apply_documents
from pos_promo.sync.local import get_cursor, iso, set_cursor
from pos_promo.sync.protocol import Change, ChangesPage, RawChangesPage, encode
from pos_promo.sync.shallow import members
from pos_promo.unknown import unknown_fields

__all__ = [
    "QUARANTINE_PAYLOAD_LIMIT",
    "STREAM",
    "ChangesReport",
    "apply_changes_page",
]

STREAM = "changes"
QUARANTINE_PAYLOAD_LIMIT = 64 * 1024
"""A quarantined document is kept for inspection up to this many bytes."""

_DECODED: dict[str, Any] = {
    "campaign": Campaign,
    "coupon_template": CouponTemplate,
    "execution_order": ExecutionOrder,
    "sharing_plan": SharingPlan,
}
_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    doc_type: msgspec.json.Decoder(kind) for doc_type, kind in _DECODED.items()
}
_CHANGE = msgspec.json.Decoder(Change)

Key = tuple[str, str]
"""``(doc_type, doc_id)``."""
Bad = tuple[int, str, bytes]
"""``(version, error, payload)`` of a change to quarantine."""
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class ChangesReport:
    """What one or more pages did; counts, plus the ids quarantined."""

    pages: int = 0
    applied: int = 0
    unchanged: int = 0
    skipped: int = 0
    quarantined: tuple[str, ...] = ()
    stale: bool = False
    staged: int = 0
    unknown: tuple[str, ...] = ()

    def __add__(self, other: ChangesReport) -> ChangesReport:
        return ChangesReport(
            self.pages + other.pages,
            self.applied + other.applied,
            self.unchanged + other.unchanged,
            self.skipped + other.skipped,
            self.quarantined + other.quarantined,
            self.stale or other.stale,
            other.staged,
            self.unknown + other.unknown,
        )

    def summary(self) -> str:
        """One line for the daemon's log: pages, applied, unchanged, and anything skipped, staged
        or quarantined."""
        text = f"{self.pages} page(s), {self.applied} applied, {self.unchanged} unchanged"
        if self.skipped:
            text += f", {self.skipped} of unknown type skipped"
        if self.staged:
            text += f", {self.staged} staged until their publication is complete"
        if self.quarantined:
            text += f", quarantined: {', '.join(self.quarantined)}"
        if self.unknown:
            text += f", unknown fields: {'; '.join(self.unknown)}"
        return text


def _check(change: Change) -> Any:
    """The change's document decoded and checked; raises :class:`InvalidInput`."""
    raw = bytes(change.document)
    if too_deep(raw):
        raise InvalidCampaign("$", f"must not nest deeper than {MAX_JSON_DEPTH} levels")
    try:
        doc = _DECODERS[change.type].decode(raw)
    except msgspec.MsgspecError as exc:
        raise validation_error(exc, raw, InvalidCampaign) from None
    if isinstance(doc, Campaign):
        check_campaign(doc)
    elif isinstance(doc, CouponTemplate) and doc.period.end <= doc.period.start:
        raise InvalidCampaign("$.period.end", "must be after period.start")
    own_id = getattr(doc, "id", change.id)
    if own_id != change.id:
        raise InvalidCampaign("$.id", f"must match the change's id {change.id!r}", own_id)
    if doc.version != change.version:
        raise InvalidCampaign(
            "$.version", f"must match the change's version {change.version}", doc.version
        )
    return doc


class _Envelope(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """As much of a change as can be read when the whole does not decode."""

    type: str = "change"
    id: str = ""


_ENVELOPE = msgspec.json.Decoder(_Envelope)


def _envelopes(items: Sequence[Change | msgspec.Raw]) -> tuple[list[Change], dict[Key, Bad]]:
    """Each raw change decoded on its own; one that does not decode is bad, not fatal."""
    found: list[Change] = []
    bad: dict[Key, Bad] = {}
    for item in items:
        if isinstance(item, Change):
            found.append(item)
            continue
        raw = bytes(item)
        try:
            found.append(_CHANGE.decode(raw))
        except (msgspec.MsgspecError, RecursionError, ValueError) as exc:
            shallow = _shallow_change(raw)
            if shallow is not None:  # only its document is unreadable: _check says why
                found.append(shallow)
                continue
            try:
                envelope = _ENVELOPE.decode(raw)
            except (msgspec.MsgspecError, RecursionError, ValueError):
                envelope = _Envelope()
            doc_id = envelope.id or "sha256:" + hashlib.sha256(raw).hexdigest()[:16]
            bad[(envelope.type, doc_id)] = (0, f"unreadable change: {exc}", raw)
    return found, bad


def _shallow_change(raw: bytes) -> Change | None:
    """A change whose envelope reads once its document is set aside (a document
    nested past msgspec's recursion guard, or not JSON), the document kept raw;
    ``None`` when the envelope itself does not read."""
    try:
        fields = members(raw)
        document = fields.pop("document")
        document.decode()  # kept as text if staged: it must be UTF-8
        fields["document"] = b"null"
        envelope = b"{" + b",".join(encode(k) + b":" + v for k, v in fields.items()) + b"}"
        change = _CHANGE.decode(envelope)
    except (msgspec.MsgspecError, RecursionError, ValueError, KeyError):
        return None
    return msgspec.structs.replace(change, document=msgspec.Raw(document))


def _split(changes: list[Change], complete: bool) -> tuple[list[Change], list[Change]]:
    """``(ready, held)``: the last publication waits if the page does not complete it."""
    if complete or not changes or changes[-1].publication == 0:
        return changes, []
    last = changes[-1].publication
    return [c for c in changes if c.publication != last], [
        c for c in changes if c.publication == last
    ]


def apply_changes_page(
    conn: sqlite3.Connection, since: str, page: ChangesPage | RawChangesPage, at: dt.datetime
) -> ChangesReport:
    """Apply ``page`` (fetched from cursor ``since``) and its cursor in one transaction.

    If the stored cursor is no longer ``since`` another puller got there
    first: nothing is written and the report says ``stale``. Changes of a
    publication the page does not complete are staged (with the cursor) and
    applied, all at once, by the page that completes it.
    """
    changes, bad = _envelopes(page.changes)
    with immediate(conn):
        if get_cursor(conn, STREAM) != since:
            return ChangesReport(stale=True)
        staged, unreadable = _envelopes(
            [
                msgspec.Raw(payload.encode())
                for (payload,) in conn.execute(
                    "SELECT change FROM sync_staged WHERE stream = ? ORDER BY seq", (STREAM,)
                )
            ]
        )
        bad = unreadable | bad
        ready, held = _split(staged + changes, page.complete)
        conn.execute("DELETE FROM sync_staged WHERE stream = ?", (STREAM,))
        conn.executemany(
            "INSERT INTO sync_staged (stream, change) VALUES (?, ?)",
            [(STREAM, msgspec.json.encode(c).decode()) for c in held],
        )
        report = _apply(conn, ready, bad, at)
        set_cursor(conn, STREAM, page.cursor, at)
    return dataclasses.replace(report, staged=len(held)) if held else report


def _apply(
    conn: sqlite3.Connection, ready: list[Change], bad: dict[Key, Bad], at: dt.datetime
) -> ChangesReport:
    """Check and apply ``ready`` changes (inside the page's transaction).

    Anything that goes wrong with one change, in its checks or while it is
    written, quarantines that change with its error; the rest apply.
    """
    campaigns: dict[str, Campaign] = {}
    campaign_types: dict[str, str] = {}  # campaign id -> its change type, for the quarantine
    documents: dict[Key, SharingPlan | ExecutionOrder] = {}
    raws: dict[Key, bytes] = {}
    skipped = 0
    for change in ready:
        if change.type not in _DECODERS:
            skipped += 1
            continue
        key = (change.type, change.id)
        try:
            doc = _check(change)
        except InvalidInput as exc:
            if key not in bad or bad[key][0] < change.version:
                bad[key] = (change.version, str(exc), bytes(change.document))
            continue
        except Exception as exc:  # a check that raised instead of refusing: still one item
            bad[key] = (change.version, f"{type(exc).__name__}: {exc}", bytes(change.document))
            continue
        if isinstance(doc, Campaign):
            if change.id not in campaigns or campaigns[change.id].version < doc.version:
                campaigns[change.id] = doc
                campaign_types[change.id] = change.type
                raws[key] = bytes(change.document)
        elif key not in documents or documents[key].version < change.version:
            documents[key] = doc
            raws[key] = bytes(change.document)
    _hold_gifts_without_templates(conn, campaigns, campaign_types, bad)

    def failed(key: Key, version: int, exc: Exception) -> None:
        bad[key] = (version, f"{type(exc).__name__}: {exc}", raws.get(key, b""))

    applied = unchanged = 0
    good: dict[Key, int] = {}
    for result, items in _guarded(
        conn,
        list(campaigns.values()),
        lambda chunk: apply_import(conn, chunk, at),
        lambda c, exc: failed((campaign_types[c.id], c.id), c.version, exc),
    ):
        unchanged += len(result.unchanged) + len(result.ignored_older + result.ignored_archived)
        applied += len(result.added) + len(result.replaced)
        good.update({(campaign_types[c.id], c.id): c.version for c in items})
    keys = {id(doc): key for key, doc in documents.items()}
    for changed_keys, docs in _guarded(
        conn,
        list(documents.values()),
        lambda chunk: apply_documents(conn, chunk, at),
        lambda d, exc: failed(keys[id(d)], d.version, exc),
    ):
        changed = set(changed_keys)
        for doc in docs:
            doc_type, doc_id = keys[id(doc)]
            kept_as = (doc_type, EXECUTION_ORDER_ID if doc_type == EXECUTION_ORDER else doc_id)
            if kept_as in changed:
                applied += 1
            else:
                unchanged += 1
            good[(doc_type, doc_id)] = doc.version
    unknown: list[str] = []
    for (doc_type, doc_id), version in sorted(good.items()):
        conn.execute(
            "DELETE FROM sync_quarantine WHERE doc_type = ? AND doc_id = ? AND version <= ?",
            (doc_type, doc_id, version),
        )
        unknown += _record_unknown(conn, doc_type, doc_id, version, raws[(doc_type, doc_id)], at)
    quarantined = []
    for (doc_type, doc_id), (version, error, payload) in sorted(bad.items()):
        if (doc_type, doc_id) in good and good[(doc_type, doc_id)] >= version:
            continue
        quarantined.append(f"{doc_type}:{doc_id}")
        _quarantine(conn, doc_type, doc_id, version, error, payload, at)
    return ChangesReport(1, applied, unchanged, skipped, tuple(quarantined), unknown=tuple(unknown))


def _guarded(
    conn: sqlite3.Connection,
    items: list[T],
    apply: Callable[[list[T]], R],
    failed: Callable[[T, Exception], None],
) -> list[tuple[R, list[T]]]:
    """``apply`` all of ``items`` at once; if that raises, each on its own, and
    an item that still raises is rolled back alone and handed to ``failed``."""
    if not items:
        return []
    conn.execute("SAVEPOINT page_items")
    try:
        whole = apply(items)
    except Exception:
        conn.execute("ROLLBACK TO page_items")
    else:
        conn.execute("RELEASE page_items")
        return [(whole, items)]
    conn.execute("RELEASE page_items")
    done: list[tuple[R, list[T]]] = []
    for item in items:
        conn.execute("SAVEPOINT page_item")
        try:
            one = apply([item])
        except Exception as exc:
            conn.execute("ROLLBACK TO page_item")
            conn.execute("RELEASE page_item")
            failed(item, exc)
            continue
        conn.execute("RELEASE page_item")
        done.append((one, [item]))
    return done


def _record_unknown(
    conn: sqlite3.Connection,
    doc_type: str,
    doc_id: str,
    version: int,
    raw: bytes,
    at: dt.datetime,
) -> list[str]:
    """Replace the unknown fields listed for one document with its new version's."""
    paths = unknown_fields(raw, _DECODED[doc_type])
    conn.execute(
        "DELETE FROM sync_unknown_fields WHERE doc_type = ? AND doc_id = ?", (doc_type, doc_id)
    )
    conn.executemany(
        "INSERT INTO sync_unknown_fields (doc_type, doc_id, version, path, seen_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [(doc_type, doc_id, version, path, iso(at)) for path in paths],
    )
    return [f"{doc_type}:{doc_id} {path}" for path in paths]


def _hold_gifts_without_templates(
    conn: sqlite3.Connection,
    campaigns: dict[str, Campaign],
    campaign_types: dict[str, str],
    bad: dict[Key, Bad],
) -> None:
    """A gift naming a coupon template neither this page nor the cache holds is
    quarantined (and leaves ``campaigns``); a later page with the template and
    a new version of the gift lifts it."""
    gifts = [c for c in campaigns.values() if isinstance(c, CumulativeGift)]
    if not gifts:
        return
    cached = {
        cid for (cid,) in conn.execute("SELECT id FROM campaigns WHERE kind = 'coupon_template'")
    }
    cached |= {c.id for c in campaigns.values() if isinstance(c, CouponTemplate)}
    for gift in gifts:
        try:
            check_gift_templates([("$", gift)], cached)
        except InvalidInput as exc:
            key = (campaign_types[gift.id], gift.id)
            bad[key] = (gift.version, str(exc), msgspec.json.encode(gift))
            del campaigns[gift.id]


def _quarantine(
    conn: sqlite3.Connection,
    doc_type: str,
    doc_id: str,
    version: int,
    error: str,
    payload: bytes,
    at: dt.datetime,
) -> None:
    kept = payload[:QUARANTINE_PAYLOAD_LIMIT].decode("utf-8", "replace")
    version = version if 0 <= version < 2**63 else 0  # a version SQLite cannot hold
    conn.execute(
        "INSERT INTO sync_quarantine (doc_type, doc_id, version, error, payload, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(doc_type, doc_id) DO UPDATE SET "
        "version = excluded.version, error = excluded.error, payload = excluded.payload, "
        "received_at = excluded.received_at WHERE excluded.version >= sync_quarantine.version",
        (doc_type, doc_id, version, error, kept, iso(at)),
    )
