"""The HQ sync protocol, version 1: the msgspec types both sides speak.

``docs/protocol.md`` is the prose; these types are the contract, imported
by the till's client (:mod:`pos_promo.sync.client`) and by the reference HQ
(:mod:`hq`). Three exchanges, all JSON over HTTPS with a per-store bearer
token:

* ``GET /v1/changes?since=CURSOR&limit=N`` -> :class:`ChangesPage`: what HQ
  published (campaigns, coupon templates, sharing plans, the execution
  order) after ``CURSOR``, oldest first, in publications a till applies
  whole.
* ``GET /v1/member-state?since=CURSOR&limit=N`` -> :class:`MemberStatePage`:
  HQ-confirmed member facts that changed after ``CURSOR``.
* ``POST /v1/events`` with :class:`PushRequest` -> :class:`PushResponse`:
  one verdict per event (:data:`EventStatus`): ``accepted``, ``duplicate``,
  ``rejected``, ``refused`` or ``conflict``.

Why documents and member-state items travel as raw JSON inside their
envelope: one bad or unknown item must not spoil its page. The receiver
decodes each on its own, quarantines what is invalid, skips kinds it does
not know yet (a newer HQ), and still advances the cursor past the page.
Evolution rules are msgspec's: new fields get defaults, types never change,
unknown fields are ignored.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta, Raw, Struct

from pos_promo.limits import MAX_BATCH_EVENTS, MAX_PAGE_ITEMS
from pos_promo.model.common import Id
from pos_promo.sync.shallow import members

__all__ = [
    "API_PREFIX",
    "CHANGE_TYPES",
    "HELD_STATUSES",
    "MAX_BATCH",
    "MAX_PAGE_LIMIT",
    "MEMBER_STATE_TYPES",
    "PROTOCOL_VERSION",
    "Change",
    "ChangesPage",
    "ConfirmedTotal",
    "DayCount",
    "ErrorBody",
    "EventResult",
    "EventStatus",
    "GrantState",
    "Health",
    "MemberStateItem",
    "MemberStatePage",
    "ParticipationCountState",
    "PushEvent",
    "PushRequest",
    "PushResponse",
    "RawChangesPage",
    "WalletCoupon",
    "decode_member_item",
    "encode",
    "item_type",
]

PROTOCOL_VERSION: Final = 1
API_PREFIX: Final = "/v1"
MAX_PAGE_LIMIT: Final = MAX_PAGE_ITEMS  # pos_promo.limits: written down once
MAX_BATCH: Final = MAX_BATCH_EVENTS
CHANGE_TYPES: Final = ("campaign", "coupon_template", "execution_order", "sharing_plan")
MEMBER_STATE_TYPES: Final = ("confirmed_total", "grant", "participation_count", "wallet_coupon")

Count = Annotated[int, Meta(ge=0)]
Cursor = Annotated[str, Meta(max_length=256)]
Instant = Annotated[dt.datetime, Meta(tz=True)]


class Health(Struct, frozen=True, forbid_unknown_fields=False):
    """``GET /v1/health``: no token needed; says which protocol HQ speaks."""

    protocol: int
    server: str = ""


class ErrorBody(Struct, frozen=True, forbid_unknown_fields=False):
    """The body of every 4xx/5xx HQ answers: a code and a sentence."""

    error: str
    detail: str = ""


# -- changes ------------------------------------------------------------------


class Change(Struct, frozen=True, forbid_unknown_fields=False):
    """One published document at one version.

    ``type`` is one of :data:`CHANGE_TYPES` (a newer HQ may send others,
    which a till skips). ``document`` is the document exactly as published;
    its own ``id`` and ``version`` must match the envelope's.
    ``publication`` numbers the set of documents HQ published together
    (0 from an HQ that does not number them: each page is then a whole).
    """

    type: str
    id: Id
    version: Annotated[int, Meta(ge=1)]
    document: Raw
    publication: Annotated[int, Meta(ge=0)] = 0


class ChangesPage(Struct, frozen=True, forbid_unknown_fields=False):
    """Changes after the request's cursor; ``cursor`` resumes after this page.

    A publication is atomic: a till applies it whole or not at all. Its
    changes are consecutive, and ``complete`` says whether the page's last
    change ends its publication; when it does not, the till holds that
    publication's changes (staged) until the page that completes it. HQ
    ends a page at a publication's end whenever one fits in the limit.
    """

    cursor: Cursor
    more: bool
    changes: tuple[Change, ...] = ()
    complete: bool = True


class RawChangesPage(Struct, frozen=True, forbid_unknown_fields=False):
    """A :class:`ChangesPage` as the till reads it: each change still raw, so one
    change that does not decode (a version past 64 bits, a wrong type) is
    quarantined on its own instead of spoiling its page."""

    cursor: Cursor
    more: bool
    changes: tuple[Raw, ...] = ()
    complete: bool = True


# -- member state -------------------------------------------------------------


class DayCount(Struct, frozen=True, forbid_unknown_fields=False):
    """Participations on one store-local day."""

    local_date: dt.date
    count: Count


class ParticipationCountState(
    Struct, frozen=True, tag="participation_count", tag_field="type", forbid_unknown_fields=False
):
    """How often HQ has seen the member take part in a campaign, across all stores."""

    member_id: Id
    campaign_id: Id
    total: Count
    days: tuple[DayCount, ...] = ()


class ConfirmedTotal(
    Struct, frozen=True, tag="confirmed_total", tag_field="type", forbid_unknown_fields=False
):
    """A member's confirmed cumulative total for one activity (spend in cents, or units)."""

    member_id: Id
    activity_id: Id
    measure: Literal["spend", "count"]
    total: int


class GrantState(Struct, frozen=True, tag="grant", tag_field="type", forbid_unknown_fields=False):
    """One gift ordinal HQ granted (or revoked) to a member for an activity."""

    grant_id: Id
    activity_id: Id
    member_id: Id
    ordinal: Annotated[int, Meta(ge=1)]
    status: Literal["granted", "revoked"]
    at: Instant


class WalletCoupon(
    Struct, frozen=True, tag="wallet_coupon", tag_field="type", forbid_unknown_fields=False
):
    """One coupon in a member's wallet as HQ knows it."""

    coupon_id: Id
    template_id: Id
    member_id: Id
    valid_from: Instant
    valid_until: Instant
    status: Literal["issued", "redeemed", "void"] = "issued"
    grant_id: Id | None = None


MemberStateItem = ParticipationCountState | ConfirmedTotal | GrantState | WalletCoupon


class MemberStatePage(Struct, frozen=True, forbid_unknown_fields=False):
    """Member-state items changed after the request's cursor, each a whole fact.

    An item replaces what the till held for the same key; ``items`` are raw
    so one of an unknown ``type`` is skipped, not fatal.
    """

    cursor: Cursor
    more: bool
    items: tuple[Raw, ...] = ()


class _Tagged(Struct, frozen=True, forbid_unknown_fields=False):
    type: str = ""


_TAG = msgspec.json.Decoder(_Tagged)
_ITEM = msgspec.json.Decoder(MemberStateItem)


def item_type(raw: Raw | bytes) -> str:
    """The ``type`` of a raw item ("" when it has none or is not an object).

    An item msgspec cannot read (nested past its recursion guard, or not
    JSON further in) is read at its top level alone, so a malformed item of
    a known type is still told from an item of a type this till does not know.
    """
    try:
        return _TAG.decode(raw).type
    except (msgspec.MsgspecError, RecursionError):
        pass
    try:
        found = json.loads(members(bytes(raw)).get("type", b'""'))
    except ValueError:
        return ""
    return found if isinstance(found, str) else ""


def decode_member_item(raw: Raw | bytes) -> MemberStateItem | None:
    """One member-state item, or ``None`` for a ``type`` this till does not know.

    Raises :class:`msgspec.ValidationError` for a known type that is malformed.
    """
    if item_type(raw) not in MEMBER_STATE_TYPES:
        return None
    item: MemberStateItem = _ITEM.decode(raw)
    return item


# -- events -------------------------------------------------------------------

EventStatus = Literal["accepted", "duplicate", "rejected", "refused", "conflict"]
"""HQ's verdict on one pushed event.

* ``accepted``: stored and applied now;
* ``duplicate``: HQ already holds this id from this store with a
  byte-identical kind and payload; nothing changed (the till may mark it sent);
* ``rejected``: HQ cannot use the event (malformed, unknown kind, a refund of
  an order HQ never received, ...); ``reason`` says why;
* ``refused``: the id is owned by another store (events belong to the store
  that first sent them); nothing changed, and the till keeps the event;
* ``conflict``: this store already sent this id with a different payload;
  nothing changed, HQ shows the conflict to its operator and the till keeps
  the event as a dead letter.

Only ``accepted`` and ``duplicate`` mean HQ holds the event: the till marks
them sent (:data:`HELD_STATUSES`) and keeps any other as a dead letter with
its reason, never blocking the events after it.
"""
HELD_STATUSES: Final = ("accepted", "duplicate")


class PushEvent(Struct, frozen=True, forbid_unknown_fields=False):
    """One outbox event: its unique id, its kind and its payload as the till wrote it.

    The payload is one of :data:`pos_promo.model.events.Event`; it travels
    as raw JSON so the till pushes the bytes it stored, untouched.
    """

    id: Id
    kind: str
    payload: Raw


class PushRequest(Struct, frozen=True, forbid_unknown_fields=False):
    """A batch of events from one store, applied by HQ all or nothing.

    ``backlog``: the events still waiting at the till behind this batch
    (HQ shows it on the store's page; 0 means this batch caught up); an
    older till leaves it out.
    """

    store_id: Id
    events: Annotated[tuple[PushEvent, ...], Meta(max_length=MAX_BATCH)]
    backlog: int | None = None


class EventResult(Struct, frozen=True, forbid_unknown_fields=False):
    """HQ's verdict on one event; ``reason`` says why it was not accepted."""

    id: str
    status: EventStatus
    reason: str = ""


class PushResponse(Struct, frozen=True, forbid_unknown_fields=False):
    """One result per event of the request, in the request's order."""

    results: tuple[EventResult, ...]


_ENCODER = msgspec.json.Encoder()


def encode(obj: object) -> bytes:
    """Any protocol value as compact JSON bytes (one encoder, built once)."""
    return _ENCODER.encode(obj)
