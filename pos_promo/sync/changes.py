"""Applying one page of HQ's published changes to the till's cache, atomically.

A page is applied in one ``BEGIN IMMEDIATE`` transaction together with the
cursor that follows it (the eventsourcing habit): a crash leaves either the
page and its cursor, or neither, so no page is applied twice or skipped.
Inside a page each document is decoded and checked on its own:

* a valid campaign goes through the store's own import rules
  (:func:`pos_promo.store.campaigns.apply_import`: newer versions replace,
  archived is final), which bumps the cache version the till watches, so
  the till sees the old set or the new set, never half a page;
* an invalid one (bad shape, failed check, unknown kind, id or version not
  matching its envelope) is quarantined with its error while the last good
  version, if any, keeps serving; a later good version lifts the quarantine;
* a change ``type`` this till does not know (a newer HQ) is skipped.

Coupon templates are a campaign kind and go through the same import rules
into the campaign cache. Sharing plans and the execution order are checked
the same way and kept by the store (:mod:`pos_promo.store.documents`, the
one place the engine reads them from, which a catalog import at the till
writes too), with the same version rules and cache-version bump, in the
page's transaction.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Any

import msgspec

from pos_promo.codec import check_campaign, validation_error
from pos_promo.errors import InvalidCampaign, InvalidInput
from pos_promo.gift_codec import check_gift_templates
from pos_promo.model.campaign import Campaign
from pos_promo.model.coupon import CouponTemplate, ExecutionOrder, SharingPlan
from pos_promo.model.gift import CumulativeGift
from pos_promo.store.campaigns import apply_import
from pos_promo.store.connection import immediate
from pos_promo.store.documents import EXECUTION_ORDER, EXECUTION_ORDER_ID, apply_documents
from pos_promo.sync.local import get_cursor, iso, set_cursor
from pos_promo.sync.protocol import Change, ChangesPage

__all__ = [
    "QUARANTINE_PAYLOAD_LIMIT",
    "STREAM",
    "ChangesReport",
    "apply_changes_page",
]

STREAM = "changes"
QUARANTINE_PAYLOAD_LIMIT = 64 * 1024
"""A quarantined document is kept for inspection up to this many bytes."""

_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "campaign": msgspec.json.Decoder(Campaign),
    "coupon_template": msgspec.json.Decoder(CouponTemplate),
    "execution_order": msgspec.json.Decoder(ExecutionOrder),
    "sharing_plan": msgspec.json.Decoder(SharingPlan),
}


@dataclass(frozen=True)
class ChangesReport:
    """What one or more pages did; counts, plus the ids quarantined."""

    pages: int = 0
    applied: int = 0
    unchanged: int = 0
    skipped: int = 0
    quarantined: tuple[str, ...] = ()
    stale: bool = False

    def __add__(self, other: ChangesReport) -> ChangesReport:
        return ChangesReport(
            self.pages + other.pages,
            self.applied + other.applied,
            self.unchanged + other.unchanged,
            self.skipped + other.skipped,
            self.quarantined + other.quarantined,
            self.stale or other.stale,
        )

    def summary(self) -> str:
        text = f"{self.pages} page(s), {self.applied} applied, {self.unchanged} unchanged"
        if self.skipped:
            text += f", {self.skipped} of unknown type skipped"
        if self.quarantined:
            text += f", quarantined: {', '.join(self.quarantined)}"
        return text


def _check(change: Change) -> Any:
    """The change's document decoded and checked; raises :class:`InvalidInput`."""
    raw = bytes(change.document)
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


def apply_changes_page(
    conn: sqlite3.Connection, since: str, page: ChangesPage, at: dt.datetime
) -> ChangesReport:
    """Apply ``page`` (fetched from cursor ``since``) and its cursor in one transaction.

    If the stored cursor is no longer ``since`` another puller got there
    first: nothing is written and the report says ``stale``.
    """
    campaigns: dict[str, Campaign] = {}
    campaign_types: dict[str, str] = {}  # campaign id -> its change type, for the quarantine
    documents: dict[tuple[str, str], SharingPlan | ExecutionOrder] = {}
    bad: dict[tuple[str, str], tuple[int, str, bytes]] = {}
    skipped = 0
    for change in page.changes:
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
        if isinstance(doc, Campaign):
            if change.id not in campaigns or campaigns[change.id].version < doc.version:
                campaigns[change.id] = doc
                campaign_types[change.id] = change.type
        elif key not in documents or documents[key].version < change.version:
            documents[key] = doc
    with immediate(conn):
        if get_cursor(conn, STREAM) != since:
            return ChangesReport(stale=True)
        _hold_gifts_without_templates(conn, campaigns, campaign_types, bad)
        report = apply_import(conn, list(campaigns.values()), at)
        good = {(campaign_types[c.id], c.id): c.version for c in campaigns.values()}
        unchanged = len(report.unchanged) + len(report.ignored_older + report.ignored_archived)
        applied = len(report.added) + len(report.replaced)
        changed = set(apply_documents(conn, list(documents.values()), at))
        for (doc_type, doc_id), doc in documents.items():
            kept_as = (doc_type, EXECUTION_ORDER_ID if doc_type == EXECUTION_ORDER else doc_id)
            if kept_as in changed:
                applied += 1
            else:
                unchanged += 1
            good[(doc_type, doc_id)] = doc.version
        for (doc_type, doc_id), version in good.items():
            conn.execute(
                "DELETE FROM sync_quarantine WHERE doc_type = ? AND doc_id = ? AND version <= ?",
                (doc_type, doc_id, version),
            )
        quarantined = []
        for (doc_type, doc_id), (version, error, payload) in sorted(bad.items()):
            if good.get((doc_type, doc_id), 0) >= version:
                continue
            quarantined.append(f"{doc_type}:{doc_id}")
            _quarantine(conn, doc_type, doc_id, version, error, payload, at)
        set_cursor(conn, STREAM, page.cursor, at)
    return ChangesReport(1, applied, unchanged, skipped, tuple(quarantined))


def _hold_gifts_without_templates(
    conn: sqlite3.Connection,
    campaigns: dict[str, Campaign],
    campaign_types: dict[str, str],
    bad: dict[tuple[str, str], tuple[int, str, bytes]],
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
    conn.execute(
        "INSERT INTO sync_quarantine (doc_type, doc_id, version, error, payload, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(doc_type, doc_id) DO UPDATE SET "
        "version = excluded.version, error = excluded.error, payload = excluded.payload, "
        "received_at = excluded.received_at WHERE excluded.version >= sync_quarantine.version",
        (doc_type, doc_id, version, error, kept, iso(at)),
    )
