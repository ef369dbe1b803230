"""What HQ publishes: documents in a change log, served to tills in pages.

Every published version of every document is one row of ``changes``,
numbered in publishing order; a till's cursor is the number of the last
row it applied. The documents of one :func:`publish` call are one
publication, numbered too: a page ends at a publication's end whenever one
fits, and says (``complete``) whether its last change ends its
publication, so a till can apply every publication whole. Re-publishing a
version HQ already has changes nothing, so loading the same catalog file at
every start is harmless. The log doubles as the version history the receipt
replay needs.

A catalog file is either a JSON list of campaigns (like
``fixtures/demo/campaigns.json``) or an object with any of
``campaigns``, ``coupon_templates``, ``sharing_plans`` (lists) and
``execution_order`` (one object); a directory is every ``*.json`` in it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
from pos_promo_hq.db import Connection, write

from pos_promo.codec import decode_campaigns, nesting, too_deep
from pos_promo.errors import InvalidInput
from pos_promo.limits import MAX_BODY_DEPTH, MAX_ID_LENGTH, MAX_JSON_DEPTH, MAX_VERSION
from pos_promo.sync.protocol import MAX_PAGE_LIMIT, Change, ChangesPage

__all__ = [
    "CatalogError",
    "Document",
    "check_depth",
    "check_document",
    "load_catalog",
    "parse_cursor",
    "publish",
    "serve_changes",
]

Document = tuple[str, dict[str, Any]]
"""``(type, document)``; the document carries its own ``id`` and ``version``."""

_SECTIONS = {
    "campaigns": "campaign",
    "coupon_templates": "coupon_template",
    "sharing_plans": "sharing_plan",
}


class CatalogError(ValueError):
    """A catalog file HQ cannot publish from."""


def parse_cursor(text: str) -> int:
    """A cursor as HQ writes it: the decimal number of the last row served."""
    if text == "":
        return 0
    if not text.isdigit() or len(text) > 18:
        raise ValueError(f"not a cursor this HQ issued: {text[:40]!r}")
    return int(text)


def check_document(document: dict[str, Any], path: str = "$") -> None:
    """What HQ needs of a document to publish it, refused with its path:
    an id, a version a 64-bit column and every JSON reader keep exactly
    (:data:`~pos_promo.limits.MAX_VERSION`), and a nesting no deeper than
    :data:`~pos_promo.limits.MAX_JSON_DEPTH`."""
    doc_id, version = document.get("id"), document.get("version", 1)
    if "id" not in document:
        raise CatalogError(f"{path}.id: is required")
    if not isinstance(doc_id, str) or not 1 <= len(doc_id) <= MAX_ID_LENGTH:
        rule = f"must be a string of 1 to {MAX_ID_LENGTH} characters"
        raise CatalogError(str(InvalidInput(f"{path}.id", rule, doc_id)))
    if type(version) is not int or not 1 <= version <= MAX_VERSION:
        rule = f"must be an integer from 1 to {MAX_VERSION}"
        raise CatalogError(str(InvalidInput(f"{path}.version", rule, version)))
    check_depth(document, path)


def check_depth(document: object, path: str) -> None:
    """Refuse a document nested deeper than :data:`~pos_promo.limits.MAX_JSON_DEPTH`:
    no till would take it (HQ must not publish what every till quarantines)."""
    depth = nesting(document)
    if depth > MAX_JSON_DEPTH:
        raise CatalogError(
            f"{path}: must not nest deeper than {MAX_JSON_DEPTH} levels, got {depth}"
        )


def load_catalog(path: Path) -> list[Document]:
    """Documents from a catalog file or folder; campaigns are checked first."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    found: list[Document] = []
    for file in files:
        try:
            raw = file.read_bytes()
            if too_deep(raw, MAX_BODY_DEPTH):  # before json.loads would recurse into it
                raise CatalogError(f"$: must not nest deeper than {MAX_BODY_DEPTH} levels")
            data = json.loads(raw)
        except (OSError, ValueError) as exc:
            raise CatalogError(f"{file}: {exc}") from None
        listed = isinstance(data, list)
        sections = {"campaigns": data} if listed else data
        if not isinstance(sections, dict):
            raise CatalogError(f"{file}: expected a list of campaigns or an object")
        for section in (*_SECTIONS, "execution_order"):
            docs = sections.get(section, [])
            for index, doc in enumerate(docs if isinstance(docs, list) else [docs]):
                where = f"$[{index}]" if listed else f"$.{section}"
                where += "" if listed or section == "execution_order" else f"[{index}]"
                try:
                    if not isinstance(doc, dict):
                        raise CatalogError(str(InvalidInput(where, "must be an object", doc)))
                    named = {"id": "default", **doc} if section == "execution_order" else doc
                    check_document(named, where)
                except CatalogError as exc:
                    raise CatalogError(f"{file}: {exc}") from None
        try:
            decode_campaigns(json.dumps(sections.get("campaigns", [])))
        except ValueError as exc:
            raise CatalogError(f"{file}: campaigns{exc}") from None
        for section, doc_type in _SECTIONS.items():
            found.extend((doc_type, doc) for doc in sections.get(section, []))
        if "execution_order" in sections:
            order = dict(sections["execution_order"])
            order.setdefault("id", "default")
            found.append(("execution_order", order))
    return found


def publish(conn: Connection, documents: Iterable[Document], at: dt.datetime) -> int:
    """Append new versions to the change log; how many were new.

    A document needs an ``id`` and an integer ``version`` >= 1 (HQ must bump
    it on every change) and must not nest past the depth limit (a till
    could not even read it): :func:`check_document`, run on all of them
    before any is written. Nothing else is checked here, so tests can
    publish documents a till must quarantine.
    """
    documents = list(documents)
    for index, (_, doc) in enumerate(documents):  # all checked before any is written
        check_document(doc, f"document {index + 1}: $")
    added = 0
    with write(conn):
        conn.lock("publish")  # numbers are handed out in commit order: a cursor skips nothing
        (publication,) = conn.execute(
            "SELECT COALESCE(MAX(publication), 0) + 1 FROM changes"
        ).fetchone()
        for doc_type, doc in documents:
            doc_id, version = doc["id"], doc.get("version", 1)
            cur = conn.execute(
                "INSERT INTO changes (type, id, version, document, published_at, publication) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (doc_type, doc_id, version, json.dumps(doc), at.isoformat(), publication),
            )
            added += cur.rowcount
    return added


def serve_changes(conn: Connection, since: int, limit: int) -> bytes:
    """One page of the change log after ``since``, encoded.

    A page that would cut a publication ends at the last publication end it
    holds instead; one publication larger than ``limit`` is served over
    several pages, all but its last marked not ``complete``.
    """
    limit = max(1, min(limit, MAX_PAGE_LIMIT))
    rows = conn.execute(
        "SELECT seq, type, id, version, document, publication FROM changes "
        "WHERE seq > ? ORDER BY seq LIMIT ?",
        (since, limit + 1),
    ).fetchall()
    more = len(rows) > limit
    complete = True
    if more and rows[limit - 1][5] and rows[limit - 1][5] == rows[limit][5]:
        ends = [n for n in range(limit - 1) if rows[n][5] != rows[n + 1][5]]
        if ends:
            rows = rows[: ends[-1] + 1]
        else:
            rows, complete = rows[:limit], False
    else:
        rows = rows[:limit]
    cursor = str(rows[-1][0]) if rows else (str(since) if since else "")
    page = ChangesPage(
        cursor,
        more,
        tuple(
            Change(doc_type, doc_id, version, msgspec.Raw(document.encode()), publication)
            for _, doc_type, doc_id, version, document, publication in rows
        ),
        complete,
    )
    return msgspec.json.encode(page)
