"""Applying one page of HQ-confirmed member state, with its cursor, atomically.

Participation counts go to the store's confirmed-count tables
(:func:`pos_promo.store.counts.set_confirmed_counts`), and the local ledger
rows HQ's count now includes are flagged, so a member's count stays
``confirmed + local rows not yet confirmed`` with nothing counted twice.

Which local rows does HQ's count include? Exactly the events HQ had
acknowledged before the page was requested: HQ answers a push only after
committing it, and serves state as of the request. Each acknowledgement
gets a number in ``sync_acks``; the puller reads the highest number
(:func:`ack_watermark`) before its first request and flags only rows whose
event was acknowledged at or below it. An event acknowledged later is
flagged by a later pull (HQ re-serves a member's state when it sees a
repeated event, so a lost acknowledgement cannot strand a row).

A push and a pull may cross: HQ commits a push, a pull already under way
reads a page that includes it, and the till records the acknowledgement
only after the pull read its watermark, so the page's counts look as if
they lacked the till's own rows, which would then count twice. Either the
page is applied before the acknowledgement is recorded (the push then sees
the cursor moved while it was in flight and sets it back:
:func:`rewind_if_moved`), or after (the pull then sees acknowledgements newer
than its watermark for a member of its page, applies the page but keeps its
cursor, :func:`apply_member_page`): either way the next pull reads those
facts again with a watermark that covers them.

Wallet coupons go to the store's wallet
(:func:`pos_promo.store.wallet.upsert_coupons`): HQ's state wins, except
the status of a coupon whose local redemption or restoration HQ's page may
not include yet. By the same watermark, a local change counts as included
(``confirmed``) when its event was acknowledged at or below it; otherwise
the local status stays until a later pull.

Cumulative gift totals go to ``gift_confirmed_totals`` and flag the local
accrual entries they include, exactly as participation counts do, so a
member's total is ``confirmed + local entries not yet confirmed``. Grants
replace the till's grant of the same id, except while the till's own last
change of it (a grant or a revocation made here) is not included in the
page by the same watermark; a grant HQ revoked cancels the releases the
till still had scheduled for it. An item of a known type that fails to
decode, or raises while it is written (each is written under a savepoint
of its own), is quarantined with its error, never dropped, and the rest of
the page applies; an unknown type is skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from dataclasses import dataclass

import msgspec

from pos_promo.codec import too_deep
from pos_promo.limits import MAX_JSON_DEPTH
from pos_promo.model.coupon import Coupon
from pos_promo.store.connection import immediate
from pos_promo.store.counts import confirm_participations, set_confirmed_counts
from pos_promo.store.gift_coupons import cancel_releases
from pos_promo.store.gift_ledger import confirm_accruals, set_confirmed_total
from pos_promo.store.wallet import unconfirmed_events, upsert_coupons
from pos_promo.sync.local import get_cursor, iso, set_cursor
from pos_promo.sync.protocol import (
    MEMBER_STATE_TYPES,
    ConfirmedTotal,
    GrantState,
    MemberStateItem,
    MemberStatePage,
    ParticipationCountState,
    WalletCoupon,
    decode_member_item,
    item_type,
)

__all__ = [
    "STREAM",
    "MembersReport",
    "ack_watermark",
    "apply_member_page",
    "fact_key",
    "rewind_if_moved",
    "wallet_coupon",
]

STREAM = "member_state"

_UNCONFIRMED = """
SELECT p.event_id FROM participations p JOIN sync_acks a ON a.event_id = p.event_id
WHERE p.member_id = ? AND p.campaign_id = ? AND p.confirmed = 0 AND a.ack_seq <= ?
"""


@dataclass(frozen=True)
class MembersReport:
    """What one or more member-state pages did."""

    pages: int = 0
    counts: int = 0
    facts: int = 0
    confirmed_rows: int = 0
    skipped: int = 0
    quarantined: int = 0
    stale: bool = False
    coupons: int = 0

    def __add__(self, other: MembersReport) -> MembersReport:
        return MembersReport(
            self.pages + other.pages,
            self.counts + other.counts,
            self.facts + other.facts,
            self.confirmed_rows + other.confirmed_rows,
            self.skipped + other.skipped,
            self.quarantined + other.quarantined,
            self.stale or other.stale,
            self.coupons + other.coupons,
        )

    def summary(self) -> str:
        """One line for the daemon's log: pages, counts, coupons, other facts, and local rows HQ
        confirmed."""
        text = (
            f"{self.pages} page(s), {self.counts} count(s), {self.coupons} wallet coupon(s), "
            f"{self.facts} other fact(s), {self.confirmed_rows} local row(s) confirmed"
        )
        if self.skipped:
            text += f", {self.skipped} of unknown type skipped"
        if self.quarantined:
            text += f", {self.quarantined} malformed quarantined"
        return text


def ack_watermark(conn: sqlite3.Connection) -> int:
    """The number of the latest acknowledgement; read it before requesting state."""
    row = conn.execute("SELECT COALESCE(MAX(ack_seq), 0) FROM sync_acks").fetchone()
    return int(row[0])


def fact_key(item: MemberStateItem) -> tuple[str, str, str]:
    """``(type, key, member)``: the identity one item replaces on the till."""
    if isinstance(item, ParticipationCountState):
        return "participation_count", f"{item.member_id}/{item.campaign_id}", item.member_id
    if isinstance(item, ConfirmedTotal):
        return "confirmed_total", f"{item.member_id}/{item.activity_id}", item.member_id
    if isinstance(item, GrantState):
        return "grant", item.grant_id, item.member_id
    assert isinstance(item, WalletCoupon)
    return "wallet_coupon", item.coupon_id, item.member_id


def wallet_coupon(item: WalletCoupon) -> Coupon:
    """HQ's wallet coupon as the store's wallet type."""
    return Coupon(
        item.coupon_id,
        item.template_id,
        item.member_id,
        item.valid_from,
        item.valid_until,
        item.status,
    )


def apply_member_page(
    conn: sqlite3.Connection, since: str, page: MemberStatePage, watermark: int, at: dt.datetime
) -> MembersReport:
    """Apply ``page`` (fetched from ``since``) and its cursor in one transaction."""
    items: list[tuple[MemberStateItem, bytes]] = []
    bad: list[tuple[str, bytes, str]] = []
    skipped = 0
    for raw in page.items:
        if too_deep(bytes(raw)):  # before msgspec would recurse into it
            kind = item_type(raw)
            if kind not in MEMBER_STATE_TYPES:
                skipped += 1
            else:
                deep = f"$: must not nest deeper than {MAX_JSON_DEPTH} levels"
                bad.append((kind, bytes(raw), deep))
            continue
        try:
            item = decode_member_item(raw)
        except (msgspec.MsgspecError, RecursionError, ValueError) as exc:
            bad.append((item_type(raw) or "unknown", bytes(raw), str(exc)))
            continue
        if item is None:
            skipped += 1
        else:
            items.append((item, bytes(raw)))
    counts = facts = confirmed = 0
    coupons: list[tuple[Coupon, bytes]] = []
    with immediate(conn):
        if get_cursor(conn, STREAM) != since:
            return MembersReport(stale=True)
        for item, text in items:
            if isinstance(item, WalletCoupon):
                coupons.append((wallet_coupon(item), text))
                continue
            # one item that raises while written is rolled back alone and quarantined
            conn.execute("SAVEPOINT member_item")
            try:
                confirmed += _apply_item(conn, item, watermark, at)
            except Exception as exc:
                conn.execute("ROLLBACK TO member_item")
                bad.append((fact_key(item)[0], text, f"{type(exc).__name__}: {exc}"))
            else:
                if isinstance(item, ParticipationCountState):
                    counts += 1
                else:
                    facts += 1
            conn.execute("RELEASE member_item")
        taken = _apply_coupons(conn, coupons, watermark, at, bad) if coupons else 0
        for kind, payload, error in bad:
            digest = hashlib.sha256(payload).hexdigest()[:16]
            conn.execute(
                "INSERT OR REPLACE INTO sync_quarantine "
                "(doc_type, doc_id, version, error, payload, received_at) "
                "VALUES (?, ?, 0, ?, ?, ?)",
                (
                    f"member_state:{kind}",
                    digest,
                    error,
                    payload[:65536].decode("utf-8", "replace"),
                    iso(at),
                ),
            )
        crossed = _acked_since(conn, {fact_key(item)[2] for item, _ in items}, watermark)
        set_cursor(conn, STREAM, since if crossed else page.cursor, at)
    return MembersReport(
        1, counts, facts, confirmed, skipped, len(bad), stale=crossed, coupons=taken
    )


def _acked_since(conn: sqlite3.Connection, member_ids: set[str], watermark: int) -> bool:
    """Whether an event of one of these members was acknowledged after ``watermark``."""
    for member in sorted(member_ids):
        row = conn.execute(
            "SELECT 1 FROM sync_acks a WHERE a.ack_seq > ? AND (a.event_id IN "
            "(SELECT event_id FROM participations WHERE member_id = ?) OR a.event_id IN "
            "(SELECT event_id FROM gift_accruals WHERE member_id = ?)) LIMIT 1",
            (watermark, member, member),
        ).fetchone()
        if row is not None:
            return True
    return False


def rewind_if_moved(conn: sqlite3.Connection, before: str, at: dt.datetime) -> bool:
    """After a push's acknowledgements are recorded: if a page was applied while
    the push was in flight, read from ``before`` again (see the module docstring)."""
    with immediate(conn):
        if get_cursor(conn, STREAM) == before:
            return False
        set_cursor(conn, STREAM, before, at)
    return True


def _apply_item(
    conn: sqlite3.Connection, item: MemberStateItem, watermark: int, at: dt.datetime
) -> int:
    """Write one member-state item (not a wallet coupon); local rows it confirmed."""
    if isinstance(item, ParticipationCountState):
        return _apply_count(conn, item, watermark)
    if isinstance(item, ConfirmedTotal):
        return _apply_total(conn, item, watermark)
    if isinstance(item, GrantState):
        _apply_grant(conn, item, watermark, at)
        return 0
    kind, key, member = fact_key(item)
    conn.execute(
        "INSERT INTO sync_member_facts (fact_type, fact_key, member_id, payload, "
        "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(fact_type, fact_key) DO UPDATE "
        "SET payload = excluded.payload, updated_at = excluded.updated_at",
        (kind, key, member, msgspec.json.encode(item).decode(), iso(at)),
    )
    return 0


def _apply_coupons(
    conn: sqlite3.Connection,
    coupons: list[tuple[Coupon, bytes]],
    watermark: int,
    at: dt.datetime,
    bad: list[tuple[str, bytes, str]],
) -> int:
    """HQ's coupons into the wallet; local changes acknowledged by ``watermark`` are
    included. All at once, or, if that raises, one by one with the ones that still
    raise added to ``bad``; how many were taken."""
    pending = unconfirmed_events(conn, [c.id for c, _ in coupons])
    included = {
        event_id
        for event_id in pending.values()
        if conn.execute(
            "SELECT 1 FROM sync_acks WHERE event_id = ? AND ack_seq <= ?", (event_id, watermark)
        ).fetchone()
    }
    groups = [coupons]
    conn.execute("SAVEPOINT member_coupons")
    try:
        upsert_coupons(conn, [c for c, _ in coupons], source="hq", at=at, confirmed=included)
    except Exception:
        conn.execute("ROLLBACK TO member_coupons")
        groups = [[one] for one in coupons]
    else:
        groups = []
    conn.execute("RELEASE member_coupons")
    taken = len(coupons) if not groups else 0
    for group in groups:
        conn.execute("SAVEPOINT member_coupons")
        try:
            upsert_coupons(conn, [c for c, _ in group], source="hq", at=at, confirmed=included)
            taken += 1
        except Exception as exc:
            conn.execute("ROLLBACK TO member_coupons")
            bad.append(("wallet_coupon", group[0][1], f"{type(exc).__name__}: {exc}"))
        conn.execute("RELEASE member_coupons")
    return taken


_UNCONFIRMED_ACCRUALS = """
SELECT g.event_id FROM gift_accruals g JOIN sync_acks a ON a.event_id = g.event_id
WHERE g.member_id = ? AND g.activity_id = ? AND g.confirmed = 0 AND a.ack_seq <= ?
"""


def _included(conn: sqlite3.Connection, event_id: str | None, watermark: int) -> bool:
    """Whether HQ's page includes the local change ``event_id`` (``None``: nothing pending)."""
    if event_id is None:
        return True
    row = conn.execute(
        "SELECT 1 FROM sync_acks WHERE event_id = ? AND ack_seq <= ?", (event_id, watermark)
    ).fetchone()
    return row is not None


def _apply_total(conn: sqlite3.Connection, item: ConfirmedTotal, watermark: int) -> int:
    set_confirmed_total(conn, item.member_id, item.activity_id, item.measure, item.total)
    ids = [
        event_id
        for (event_id,) in conn.execute(
            _UNCONFIRMED_ACCRUALS, (item.member_id, item.activity_id, watermark)
        )
    ]
    return confirm_accruals(conn, item.member_id, item.activity_id, ids) if ids else 0


def _apply_grant(
    conn: sqlite3.Connection, item: GrantState, watermark: int, at: dt.datetime
) -> None:
    key = (item.member_id, item.activity_id, item.ordinal)
    row = conn.execute(
        "SELECT status, pending_event FROM gift_grants "
        "WHERE member_id = ? AND activity_id = ? AND ordinal = ?",
        key,
    ).fetchone()
    if row is not None and not _included(conn, row[1], watermark):
        return  # the till's own grant or revocation is newer than this page
    if row is None:
        cached = conn.execute(
            "SELECT version FROM campaigns WHERE id = ?", (item.activity_id,)
        ).fetchone()
        conn.execute(
            "INSERT INTO gift_grants (grant_id, activity_id, version, member_id, ordinal, "
            "status, at, source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'hq', ?)",
            (
                item.grant_id,
                item.activity_id,
                cached[0] if cached else 1,
                item.member_id,
                item.ordinal,
                item.status,
                iso(item.at),
                iso(at),
            ),
        )
    else:
        conn.execute(
            "UPDATE gift_grants SET status = ?, pending_event = NULL, updated_at = ? "
            "WHERE member_id = ? AND activity_id = ? AND ordinal = ?",
            (item.status, iso(at), *key),
        )
    if item.status == "revoked":
        cancel_releases(conn, *key)


def _apply_count(conn: sqlite3.Connection, item: ParticipationCountState, watermark: int) -> int:
    set_confirmed_counts(
        conn,
        item.member_id,
        item.campaign_id,
        item.total,
        {day.local_date: day.count for day in item.days},
    )
    ids = [
        event_id
        for (event_id,) in conn.execute(_UNCONFIRMED, (item.member_id, item.campaign_id, watermark))
    ]
    return confirm_participations(conn, ids) if ids else 0
