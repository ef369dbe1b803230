"""The sync layer's own tables in the till's database, and how to open it.

The store owns the campaign cache, the orders, the participation ledger and
the outbox; sync adds what only it needs: cursors, the record of each job's
last run, quarantined documents, dead letters and acknowledgements.
Coupon templates, sharing plans, the execution order and member-state
facts were kept here too until the store had tables for them
(``sync_0002`` moves any such rows to the store's tables; gift totals and
grants go to ``gift_confirmed_totals`` and ``gift_grants``). They are named
migrations on a registry of sync's own (the store's ``Migrations`` class,
recorded in the same ``_migrations`` table under ``sync_``-prefixed names),
so the store's list is never touched and either side can add steps.

Every write goes through :func:`pos_promo.store.connection.immediate`:
the daemon and the till write the same file from two processes.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
from sqlite_utils import Database

from pos_promo.model.coupon import Coupon, CouponTemplate, ExecutionOrder, SharingPlan
from pos_promo.store.campaigns import apply_import
from pos_promo.store.connection import Durability, connect, immediate
from pos_promo.store.documents import apply_documents
from pos_promo.store.migrations import Migrations
from pos_promo.store.schema import MIGRATIONS
from pos_promo.store.wallet import upsert_coupons
from pos_promo.sync.protocol import WalletCoupon

__all__ = [
    "JOBS",
    "SYNC_MIGRATIONS",
    "get_cursor",
    "iso",
    "open_database",
    "put_setting",
    "record_run",
    "set_cursor",
    "stop_job",
]

SYNC_MIGRATIONS = Migrations()

JOBS = ("pull_campaigns", "pull_members", "push_events", "release_gifts", "housekeeping")
"""The daemon's jobs; each has a row in ``sync_runs`` once it ran."""


def iso(at: dt.datetime) -> str:
    """An instant as the ISO-8601 UTC text every sync table stores."""
    return at.astimezone(dt.UTC).isoformat()


@SYNC_MIGRATIONS
def sync_0001_tables(db: Database) -> None:
    """Cursors, job runs, quarantine, dead letters, acks, documents and member facts."""
    db.table("sync_cursors").create({"stream": str, "cursor": str, "updated_at": str}, pk="stream")
    db.table("sync_runs").create(
        {
            "job": str,
            "last_success_at": str,
            "last_success_detail": str,
            "last_attempt_at": str,
            "last_error_at": str,
            "last_error": str,
            "stopped_reason": str,
            "runs": int,
            "failures": int,
        },
        pk="job",
        defaults={"runs": 0, "failures": 0},
    )
    db.table("sync_quarantine").create(
        {
            "doc_type": str,
            "doc_id": str,
            "version": int,
            "error": str,
            "payload": str,
            "received_at": str,
        },
        pk=("doc_type", "doc_id"),
        not_null={"version", "error"},
    )
    db.table("sync_documents").create(
        {"doc_type": str, "doc_id": str, "version": int, "payload": str, "updated_at": str},
        pk=("doc_type", "doc_id"),
        not_null={"version", "payload"},
    )
    db.table("sync_dead_letters").create(
        {"event_id": str, "seq": int, "kind": str, "reason": str, "at": str},
        pk="event_id",
        not_null={"reason"},
    )
    db.table("sync_acks").create({"ack_seq": int, "event_id": str}, pk="ack_seq")
    db.table("sync_acks").create_index(["event_id"], unique=True)
    db.table("sync_member_facts").create(
        {"fact_type": str, "fact_key": str, "member_id": str, "payload": str, "updated_at": str},
        pk=("fact_type", "fact_key"),
        not_null={"payload"},
    )
    db.table("sync_member_facts").create_index(["member_id"])


@SYNC_MIGRATIONS
def sync_0002_documents_and_wallet_to_store(db: Database) -> None:
    """Hand the store what sync kept until the store could cache it.

    Coupon templates go to the campaign cache, sharing plans and the
    execution order to the store's documents (both bump the cache version),
    wallet coupons to the wallet; the moved rows are deleted. A row that no
    longer decodes stays where it was, for inspection.
    """
    conn = db.conn
    decoders: dict[str, msgspec.json.Decoder[Any]] = {
        "coupon_template": msgspec.json.Decoder(CouponTemplate),
        "sharing_plan": msgspec.json.Decoder(SharingPlan),
        "execution_order": msgspec.json.Decoder(ExecutionOrder),
    }
    templates: list[CouponTemplate] = []
    documents: list[SharingPlan | ExecutionOrder] = []
    moved: list[tuple[str, str]] = []
    for doc_type, doc_id, payload in conn.execute(
        "SELECT doc_type, doc_id, payload FROM sync_documents ORDER BY doc_type, doc_id"
    ).fetchall():
        if doc_type not in decoders:
            continue
        try:
            doc = decoders[doc_type].decode(payload)
        except msgspec.MsgspecError:
            continue
        (templates if doc_type == "coupon_template" else documents).append(doc)
        moved.append((doc_type, doc_id))
    apply_import(conn, templates)
    apply_documents(conn, documents)
    conn.executemany("DELETE FROM sync_documents WHERE doc_type = ? AND doc_id = ?", moved)
    decode = msgspec.json.Decoder(WalletCoupon).decode
    coupons: list[Coupon] = []
    facts: list[tuple[str]] = []
    for key, payload in conn.execute(
        "SELECT fact_key, payload FROM sync_member_facts WHERE fact_type = 'wallet_coupon'"
    ).fetchall():
        try:
            item = decode(payload)
        except msgspec.MsgspecError:
            continue
        coupons.append(
            Coupon(
                item.coupon_id,
                item.template_id,
                item.member_id,
                item.valid_from,
                item.valid_until,
                item.status,
            )
        )
        facts.append((key,))
    upsert_coupons(conn, coupons, source="hq")
    conn.executemany(
        "DELETE FROM sync_member_facts WHERE fact_type = 'wallet_coupon' AND fact_key = ?", facts
    )


@SYNC_MIGRATIONS
def sync_0003_run_health(db: Database) -> None:
    """Consecutive failures and the first run of each job, and the daemon's settings.

    ``pos-promo status --check`` needs both to say "failing five times in a
    row" or "no success for two hours" even for a job that never succeeded;
    ``sync_settings`` holds the thresholds the daemon was configured with.
    """
    db.execute("ALTER TABLE sync_runs ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE sync_runs ADD COLUMN first_run_at TEXT")
    db.execute("UPDATE sync_runs SET first_run_at = last_attempt_at")
    db.execute("CREATE TABLE sync_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@SYNC_MIGRATIONS
def sync_0004_staging_and_unknown_fields(db: Database) -> None:
    """Changes held until their publication is complete, and unknown fields seen.

    ``sync_staged`` keeps, per stream, the changes of a publication a page
    did not complete (written with the page's cursor); ``sync_unknown_fields``
    lists, per applied document, the paths of fields this till does not know.
    """
    db.execute(
        "CREATE TABLE sync_staged (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "stream TEXT NOT NULL, change TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE sync_unknown_fields (doc_type TEXT NOT NULL, doc_id TEXT NOT NULL, "
        "version INTEGER NOT NULL, path TEXT NOT NULL, seen_at TEXT, "
        "PRIMARY KEY (doc_type, doc_id, path))"
    )


def open_database(path: str | Path, durability: Durability = "full") -> sqlite3.Connection:
    """A connection to the till's database with the store's and sync's migrations applied."""
    conn = connect(path, durability)
    try:
        MIGRATIONS.apply(conn)
        SYNC_MIGRATIONS.apply(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def get_cursor(conn: sqlite3.Connection, stream: str) -> str:
    """Where the last applied page of ``stream`` ended ("" before the first pull)."""
    row = conn.execute("SELECT cursor FROM sync_cursors WHERE stream = ?", (stream,)).fetchone()
    return "" if row is None else str(row[0])


def set_cursor(conn: sqlite3.Connection, stream: str, cursor: str, at: dt.datetime) -> None:
    """Record a cursor (inside the transaction that applied its page)."""
    conn.execute(
        "INSERT INTO sync_cursors (stream, cursor, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(stream) DO UPDATE SET cursor = excluded.cursor, "
        "updated_at = excluded.updated_at",
        (stream, cursor, iso(at)),
    )


def record_run(
    conn: sqlite3.Connection,
    job: str,
    at: dt.datetime,
    *,
    detail: str = "",
    error: str | None = None,
) -> None:
    """Remember one run of a job: its success and summary, or its error."""
    with immediate(conn):
        conn.execute(
            "INSERT INTO sync_runs (job, runs, failures) VALUES (?, 0, 0) "
            "ON CONFLICT(job) DO NOTHING",
            (job,),
        )
        if error is None:
            conn.execute(
                "UPDATE sync_runs SET runs = runs + 1, last_attempt_at = ?, "
                "last_success_at = ?, last_success_detail = ?, consecutive_failures = 0, "
                "first_run_at = COALESCE(first_run_at, ?) WHERE job = ?",
                (iso(at), iso(at), detail, iso(at), job),
            )
        else:
            conn.execute(
                "UPDATE sync_runs SET runs = runs + 1, failures = failures + 1, "
                "consecutive_failures = consecutive_failures + 1, "
                "first_run_at = COALESCE(first_run_at, ?), "
                "last_attempt_at = ?, last_error_at = ?, last_error = ? WHERE job = ?",
                (iso(at), iso(at), iso(at), error, job),
            )


def put_setting(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Remember one of the daemon's settings for ``pos-promo status`` to read."""
    with immediate(conn):
        conn.execute(
            "INSERT INTO sync_settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def stop_job(conn: sqlite3.Connection, job: str, reason: str | None) -> None:
    """Mark a job stopped (HQ refused the token) or, with ``None``, running again."""
    with immediate(conn):
        conn.execute(
            "INSERT INTO sync_runs (job, runs, failures) VALUES (?, 0, 0) "
            "ON CONFLICT(job) DO NOTHING",
            (job,),
        )
        conn.execute("UPDATE sync_runs SET stopped_reason = ? WHERE job = ?", (reason, job))
