"""The campaign cache: what HQ last published, with its lifecycle rules.

An import is a list of campaigns (the payload HQ serves), already decoded
and checked as a whole, so one invalid campaign refuses the whole file
before anything is written. Applying it follows the lifecycle rules:

* a campaign not cached yet is added, whatever its status;
* a newer ``version`` replaces the cached one (pausing, resuming or
  archiving is a new version like any other change);
* the same or an older version changes nothing (HQ must bump the version
  on every change; a replayed or late page is then harmless);
* an archived campaign is final: no version, newer or older, revives it;
* campaigns absent from the payload stay as they are: a payload is a set of
  changes, not a snapshot.

Every import that changed something bumps the cache version in the same
transaction, which is how other processes learn to rebuild their index.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator, MutableMapping, Sequence

import msgspec

from pos_promo.decoders import LazyDecoder
from pos_promo.errors import UnknownCampaign
from pos_promo.model.base import StoreScope
from pos_promo.model.campaign import Campaign, SpendAndSave
from pos_promo.model.order import CampaignRow, ImportReport
from pos_promo.store.meta import bump_cache_version, cache_version
from pos_promo.store.versions import keep_campaigns

__all__ = [
    "OutOfScope",
    "apply_import",
    "campaign_rows",
    "changed_since",
    "get_campaign",
    "load_campaigns",
    "load_split",
    "template_ids",
]

_ONE = LazyDecoder[Campaign](Campaign)
_MANY = LazyDecoder[list[Campaign]](list[Campaign])
SPEND_AND_SAVE = str(SpendAndSave.__struct_config__.tag)


_SCOPES = LazyDecoder[list[StoreScope]](list[StoreScope])


def apply_import(
    conn: sqlite3.Connection, campaigns: Sequence[Campaign], at: dt.datetime | None = None
) -> ImportReport:
    """Apply checked ``campaigns`` to the cache (call inside a write transaction)."""
    ids = [c.id for c in campaigns]
    cached: dict[str, tuple[int, str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for cid, version, status in conn.execute(
            f"SELECT id, version, status FROM campaigns WHERE id IN ({marks})", chunk
        ):
            cached[cid] = (version, status)
    outcome: dict[str, list[str]] = {
        "added": [],
        "replaced": [],
        "unchanged": [],
        "ignored_older": [],
        "ignored_archived": [],
    }
    rows = []
    versions: list[tuple[str, int, str, str]] = []
    imported_at = at.astimezone(dt.UTC).isoformat() if at is not None else None
    changed_in = cache_version(conn) + 1  # the version this import bumps the cache to
    for campaign in campaigns:
        old = cached.get(campaign.id)
        if old is None:
            verdict = "added"
        elif old[1] == "archived":
            verdict = "ignored_archived"
        elif campaign.version < old[0]:
            verdict = "ignored_older"
        elif campaign.version == old[0]:
            verdict = "unchanged"
        else:
            verdict = "replaced"
        outcome[verdict].append(campaign.id)
        if verdict in ("added", "replaced"):
            kind, payload = (
                str(type(campaign).__struct_config__.tag),
                msgspec.json.encode(campaign).decode(),
            )
            versions.append((campaign.id, campaign.version, kind, payload))
            rows.append(
                {
                    "id": campaign.id,
                    "kind": kind,
                    "version": campaign.version,
                    "status": campaign.status,
                    "name": campaign.name,
                    "payload": payload,
                    "imported_at": imported_at,
                    "changed_in": changed_in,
                }
            )
    if rows:
        from sqlite_utils import Database  # not needed to open a till: import when used

        Database(conn, execute_plugins=False, recursive_triggers=False).table(
            "campaigns"
        ).upsert_all(rows, pk="id")
        # every version taken stays for refunds of the orders that used it
        keep_campaigns(conn, versions)
        bump_cache_version(conn)
    return ImportReport(
        added=tuple(sorted(outcome["added"])),
        replaced=tuple(sorted(outcome["replaced"])),
        unchanged=tuple(sorted(outcome["unchanged"])),
        ignored_older=tuple(sorted(outcome["ignored_older"])),
        ignored_archived=tuple(sorted(outcome["ignored_archived"])),
    )


def load_campaigns(conn: sqlite3.Connection) -> list[Campaign]:
    """Every cached campaign, decoded in one pass (they were checked on import)."""
    payloads = [row[0] for row in conn.execute("SELECT payload FROM campaigns ORDER BY id")]
    if not payloads:
        return []
    return _MANY.decode("[" + ",".join(payloads) + "]")


def load_split(
    conn: sqlite3.Connection, in_scope: Callable[[StoreScope], bool]
) -> tuple[list[Campaign], OutOfScope]:
    """The cached campaigns, decoded, but for the Spend & Save ones whose
    store scope ``in_scope`` refuses: those are kept as their JSON until
    one is asked for (the till passes the engine's scope test for its store).

    A chain's till caches every store's campaigns; reading only their store
    scope costs a fifth of decoding them whole (1,000 generated campaigns:
    ~3 ms against ~15 ms), so opening pays for the store's own. The scope
    is read from the row's ``stores`` column (migration
    ``m0011_campaign_store_scopes``), a tenth of parsing it out of each
    payload; a row without one is decoded whole, and the index sets it
    apart if it is another store's.
    """
    rows = conn.execute("SELECT id, kind, stores, payload FROM campaigns ORDER BY id").fetchall()
    sales = [row for row in rows if row[1] == SPEND_AND_SAVE and row[2] is not None]
    scopes = _SCOPES.decode("[" + ",".join(row[2] for row in sales) + "]") if sales else []
    elsewhere = {
        cid: payload
        for (cid, _, _, payload), scope in zip(sales, scopes, strict=True)
        if not in_scope(scope)
    }
    mine = [payload for cid, _, _, payload in rows if cid not in elsewhere]
    campaigns = _MANY.decode("[" + ",".join(mine) + "]") if mine else []
    return campaigns, OutOfScope(dict(elsewhere))


class OutOfScope(MutableMapping[str, SpendAndSave]):
    """Other stores' Spend & Save campaigns by id, each decoded the first time
    it is read (a cart naming one, ``explain``); set or deleted like a dict.
    Copies share nothing the other can change."""

    __slots__ = ("_held",)

    def __init__(self, held: dict[str, str | SpendAndSave]) -> None:
        self._held = held

    def __getitem__(self, campaign_id: str) -> SpendAndSave:
        held = self._held[campaign_id]
        if isinstance(held, SpendAndSave):
            return held
        campaign = _ONE.decode(held)
        if not isinstance(campaign, SpendAndSave):  # the kind column said so
            raise TypeError(f"campaign {campaign_id!r} is not a Spend & Save campaign")
        self._held[campaign_id] = campaign
        return campaign

    def __setitem__(self, campaign_id: str, campaign: SpendAndSave) -> None:
        self._held[campaign_id] = campaign

    def __delitem__(self, campaign_id: str) -> None:
        del self._held[campaign_id]

    def __contains__(self, campaign_id: object) -> bool:
        return campaign_id in self._held  # without decoding it

    def __iter__(self) -> Iterator[str]:
        return iter(self._held)

    def __len__(self) -> int:
        return len(self._held)

    def __copy__(self) -> OutOfScope:
        return OutOfScope(dict(self._held))

    @property
    def decoded(self) -> int:
        """How many have been decoded so far."""
        return sum(1 for held in self._held.values() if not isinstance(held, str))


def changed_since(conn: sqlite3.Connection, version: int) -> list[Campaign]:
    """The cached campaigns that imports after cache version ``version`` wrote."""
    payloads = [
        row[0]
        for row in conn.execute(
            "SELECT payload FROM campaigns WHERE changed_in > ? ORDER BY id", (version,)
        )
    ]
    if not payloads:
        return []
    return _MANY.decode("[" + ",".join(payloads) + "]")


def get_campaign(conn: sqlite3.Connection, campaign_id: str) -> Campaign:
    """One cached campaign in full; :class:`UnknownCampaign` if the cache has none, so a typo is
    an error, not empty output."""
    row = conn.execute("SELECT payload FROM campaigns WHERE id = ?", (campaign_id,)).fetchone()
    if row is None:
        raise UnknownCampaign(campaign_id)
    campaign: Campaign = _ONE.decode(row[0])
    return campaign


def campaign_rows(conn: sqlite3.Connection) -> list[CampaignRow]:
    """Every cached campaign and coupon template as a one-line row (id, kind, version, status,
    name, imported at), for ``campaigns list``."""
    return [
        CampaignRow(
            cid,
            kind,
            version,
            status,
            name or "",
            dt.datetime.fromisoformat(imported) if imported else None,
        )
        for cid, kind, version, status, name, imported in conn.execute(
            "SELECT id, kind, version, status, name, imported_at FROM campaigns ORDER BY id"
        )
    ]


def template_ids(conn: sqlite3.Connection) -> set[str]:
    """Ids of the cached coupon templates: a gift in a later import may name one."""
    return {
        cid for (cid,) in conn.execute("SELECT id FROM campaigns WHERE kind = 'coupon_template'")
    }
