"""The till database's schema, as named migrations in the order they run.

Never edit a migration that has shipped: add a new one. Money columns are
integer minor units; instants are ISO-8601 UTC text; local dates are
``YYYY-MM-DD`` in the store's time zone; JSON columns hold msgspec-encoded
wire types. ``docs/store.md`` describes every table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pos_promo.store.migrations import Migrations

if TYPE_CHECKING:  # migrations get a Database only when they run
    from sqlite_utils import Database

__all__ = ["MIGRATIONS"]

MIGRATIONS = Migrations()


@MIGRATIONS
def m0001_meta_and_campaigns(db: Database) -> None:
    """Store identity, the cache version counter, and the campaign cache."""
    db.table("meta").create({"key": str, "value": str}, pk="key", not_null={"value"})
    db.table("campaigns").create(
        {
            "id": str,
            "kind": str,
            "version": int,
            "status": str,
            "name": str,
            "payload": str,
            "imported_at": str,
        },
        pk="id",
        not_null={"kind", "version", "status", "payload"},
    )
    db.execute("INSERT INTO meta (key, value) VALUES ('cache_version', '0')")


@MIGRATIONS
def m0002_orders_and_refunds(db: Database) -> None:
    """Committed orders with their receipts, their lines, benefits and refunds."""
    db.table("orders").create(
        {
            "order_id": str,
            "store_id": str,
            "at": str,
            "local_date": str,
            "member_id": str,
            "subtotal": int,
            "total_discount": int,
            "total": int,
            "status": str,
            "result": str,
            "receipt": str,
            "payments": str,
            "cart": str,
        },
        pk="order_id",
        not_null={
            "store_id",
            "at",
            "local_date",
            "subtotal",
            "total_discount",
            "total",
            "status",
            "result",
            "receipt",
            "payments",
            "cart",
        },
    )
    # WITHOUT ROWID: one B-tree per table instead of table + key index,
    # i.e. one page fewer to write (and fsync) per commit.
    db.execute(
        "CREATE TABLE order_lines (order_id TEXT NOT NULL, line_id TEXT NOT NULL, "
        "quantity INTEGER NOT NULL, refunded_units INTEGER NOT NULL DEFAULT 0, "
        "PRIMARY KEY (order_id, line_id)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE order_benefits (order_id TEXT NOT NULL, campaign_id TEXT NOT NULL, "
        "version INTEGER NOT NULL, amount INTEGER NOT NULL, "
        "PRIMARY KEY (order_id, campaign_id)) WITHOUT ROWID"
    )
    db.table("refunds").create(
        {
            "refund_id": str,
            "order_id": str,
            "seq": int,
            "at": str,
            "amount": int,
            "discount": int,
            "full": int,
            "record": str,
        },
        pk="refund_id",
        not_null={"order_id", "seq", "amount", "discount", "full", "record"},
    )
    db.table("refunds").create_index(["order_id", "seq"], unique=True)
    db.table("refund_benefits").create(
        {"refund_id": str, "order_id": str, "campaign_id": str, "amount": int},
        pk=("refund_id", "campaign_id"),
        not_null={"order_id", "amount"},
    )
    db.table("refund_benefits").create_index(["campaign_id"])


@MIGRATIONS
def m0003_participations(db: Database) -> None:
    """The local participation ledger and the counts HQ has confirmed."""
    # Keyed by the id of the event that tells HQ, WITHOUT ROWID: one B-tree
    # fewer to write on every commit than a rowid table plus a unique index.
    db.execute(
        "CREATE TABLE participations (event_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, "
        "campaign_id TEXT NOT NULL, member_id TEXT, local_date TEXT NOT NULL, "
        "delta INTEGER NOT NULL, confirmed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID"
    )
    db.table("participations").create_index(["member_id", "campaign_id"])
    db.table("confirmed_counts").create(
        {"member_id": str, "campaign_id": str, "total": int},
        pk=("member_id", "campaign_id"),
        not_null={"total"},
    )
    db.table("confirmed_daily_counts").create(
        {"member_id": str, "campaign_id": str, "local_date": str, "count": int},
        pk=("member_id", "campaign_id", "local_date"),
        not_null={"count"},
    )


@MIGRATIONS
def m0004_outbox(db: Database) -> None:
    """Events for HQ, in the order they were written, until HQ acknowledges them.

    A NULL ``payload`` is an ``order.committed`` event whose payload is
    composed from its order's row when read: the receipt and cart are
    stored once, and a commit writes (and fsyncs) a few pages fewer.
    """
    db.table("outbox").create(
        {
            "seq": int,
            "id": str,
            "kind": str,
            "order_id": str,
            "payload": str,
            "status": str,
            "sent_at": str,
        },
        pk="seq",
        not_null={"id", "kind", "status"},
        defaults={"status": "pending"},
    )
    db.table("outbox").create_index(["id"], unique=True)
    db.table("outbox").create_index(["status", "seq"])


@MIGRATIONS
def m0005_wallet_and_documents(db: Database) -> None:
    """The coupon wallet, and the sharing plans and execution order HQ publishes.

    ``pending_event`` is the id of the outbox event of a local redemption or
    restoration HQ has not confirmed yet; while it is set, a member-state
    pull cannot put back an older status (docs/store.md, "The wallet").
    WITHOUT ROWID: a redemption at commit rewrites one B-tree, not two.
    """
    db.execute(
        "CREATE TABLE wallet (coupon_id TEXT PRIMARY KEY, template_id TEXT NOT NULL, "
        "member_id TEXT NOT NULL, valid_from TEXT NOT NULL, valid_until TEXT NOT NULL, "
        "status TEXT NOT NULL DEFAULT 'issued' "
        "CHECK (status IN ('issued', 'redeemed', 'void')), "
        "source TEXT NOT NULL, issued_at TEXT, redeemed_order_id TEXT, redeemed_at TEXT, "
        "pending_event TEXT, updated_at TEXT) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX idx_wallet_member_id ON wallet (member_id)")
    db.execute(
        "CREATE INDEX idx_wallet_redeemed_order_id ON wallet (redeemed_order_id) "
        "WHERE redeemed_order_id IS NOT NULL"
    )
    db.execute(
        "CREATE TABLE documents (doc_type TEXT NOT NULL, doc_id TEXT NOT NULL, "
        "version INTEGER NOT NULL, payload TEXT NOT NULL, imported_at TEXT, "
        "PRIMARY KEY (doc_type, doc_id)) WITHOUT ROWID"
    )


@MIGRATIONS
def m0006_cumulative_gifts(db: Database) -> None:
    """The cumulative gift: accrual ledger, confirmed totals, grants, their coupons.

    Every table is WITHOUT ROWID and keyed the way the commit path reads
    it, with no secondary index but the one releases need, so a commit that
    accrues and grants writes as few B-trees as it can (docs/gifts.md has
    the measured cost). ``gift_accruals`` is keyed by member and activity,
    then the id of the event that tells HQ, and keeps the order's accrual
    basis on the commit's row. ``gift_grants`` is keyed by (member,
    activity, ordinal), from which ``grant_id`` is derived. A grant's
    instant coupons go straight into ``wallet``; ``gift_releases`` holds the
    delayed ones until they are due, keyed by due time, then the grant's
    trigger time (both fixed-width UTC text, so they compare as time and a
    new row lands on the last page), and a row leaves when its coupon is
    issued or its grant revoked.
    """
    db.execute(
        "CREATE TABLE gift_accruals (member_id TEXT NOT NULL, activity_id TEXT NOT NULL, "
        "event_id TEXT NOT NULL, order_id TEXT NOT NULL, amount INTEGER NOT NULL, "
        "refund_id TEXT, at TEXT NOT NULL, basis TEXT, confirmed INTEGER NOT NULL DEFAULT 0, "
        "PRIMARY KEY (member_id, activity_id, event_id)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE gift_confirmed_totals (member_id TEXT NOT NULL, activity_id TEXT NOT NULL, "
        "measure TEXT NOT NULL, total INTEGER NOT NULL, "
        "PRIMARY KEY (member_id, activity_id)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE gift_grants (member_id TEXT NOT NULL, activity_id TEXT NOT NULL, "
        "ordinal INTEGER NOT NULL, grant_id TEXT NOT NULL, version INTEGER NOT NULL, "
        "status TEXT NOT NULL CHECK (status IN ('granted', 'revoked')), at TEXT NOT NULL, "
        "order_id TEXT, store_id TEXT, source TEXT NOT NULL, pending_event TEXT, "
        "updated_at TEXT, PRIMARY KEY (member_id, activity_id, ordinal)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE gift_releases (due TEXT NOT NULL, granted TEXT NOT NULL, "
        "coupon_id TEXT NOT NULL, "
        "member_id TEXT NOT NULL, activity_id TEXT NOT NULL, ordinal INTEGER NOT NULL, "
        "grant_id TEXT NOT NULL, template_id TEXT NOT NULL, valid_from TEXT NOT NULL, "
        "valid_until TEXT NOT NULL, order_id TEXT NOT NULL, "
        "PRIMARY KEY (due, granted, coupon_id)) WITHOUT ROWID"
    )


@MIGRATIONS
def m0007_line_refunds(db: Database) -> None:
    """Refunded units per line move to ``line_refunds``, written only by refunds.

    ``order_lines`` held one row per sold line, 30 inserts and about four
    B-tree pages on every commit, only to keep each line's quantity (which
    the stored result already has) next to its refunded units. Most orders
    are never refunded, so the commit now writes no per-line row at all.
    """
    db.execute(
        "CREATE TABLE line_refunds (order_id TEXT NOT NULL, line_id TEXT NOT NULL, "
        "units INTEGER NOT NULL CHECK (units > 0), PRIMARY KEY (order_id, line_id)) WITHOUT ROWID"
    )
    db.execute(
        "INSERT INTO line_refunds (order_id, line_id, units) "
        "SELECT order_id, line_id, refunded_units FROM order_lines WHERE refunded_units > 0"
    )
    db.execute("DROP TABLE order_lines")


@MIGRATIONS
def m0008_kept_versions(db: Database) -> None:
    """Every campaign, coupon template, sharing plan and execution order version
    the till ever took, so a refund re-evaluates an order with the versions its
    receipt names even after HQ published newer ones (issue 10). Seeded with
    what the cache holds now."""
    db.execute(
        "CREATE TABLE campaign_versions (id TEXT NOT NULL, version INTEGER NOT NULL, "
        "kind TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (id, version)) WITHOUT ROWID"
    )
    db.execute(
        "INSERT INTO campaign_versions (id, version, kind, payload) "
        "SELECT id, version, kind, payload FROM campaigns"
    )
    db.execute(
        "CREATE TABLE document_versions (doc_type TEXT NOT NULL, doc_id TEXT NOT NULL, "
        "version INTEGER NOT NULL, payload TEXT NOT NULL, "
        "PRIMARY KEY (doc_type, doc_id, version)) WITHOUT ROWID"
    )
    db.execute(
        "INSERT INTO document_versions (doc_type, doc_id, version, payload) "
        "SELECT doc_type, doc_id, version, payload FROM documents"
    )


@MIGRATIONS
def m0009_till_identity(db: Database) -> None:
    """Draw this database's random identity, once, for its event ids.

    A new database draws it at creation; one created before this migration
    draws it on its next open. Ids already in its outbox keep their old
    form (their rows carry them); only events written from now on mix the
    identity in (``pos_promo.store.outbox.event_id``).
    """
    import secrets  # only the migration draws: opening a till need not import it

    db.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('till', ?)", [secrets.token_hex(16)]
    )


@MIGRATIONS
def m0010_campaign_change_marks(db: Database) -> None:
    """Each cached campaign row carries the cache version that wrote it.

    A till whose index is at cache version ``v`` reads only the rows with
    ``changed_in > v`` after a sync and updates its index for those,
    instead of decoding and compiling every campaign again.
    """
    db.execute("ALTER TABLE campaigns ADD COLUMN changed_in INTEGER")
    db.execute("CREATE INDEX campaigns_changed_in ON campaigns (changed_in)")


@MIGRATIONS
def m0011_campaign_store_scopes(db: Database) -> None:
    """Each cached campaign row carries its store scope as JSON (``stores``).

    A till opening reads this short column to tell which cached campaigns
    are its store's instead of parsing every payload for it (1,000 chain
    campaigns: ~3 ms). SQLite derives it from the payload itself, filled
    here for the rows cached before and kept by triggers on every insert
    and payload change, so a row written by any process, a sync daemon of
    the previous release included, never carries a stale scope. A payload
    without ``stores`` leaves it null: such a row is decoded whole.
    """
    scope = "NULLIF(json_quote(json_extract({}, '$.stores')), 'null')"
    db.execute("ALTER TABLE campaigns ADD COLUMN stores TEXT")
    db.execute(f"UPDATE campaigns SET stores = {scope.format('payload')}")
    for event in ("INSERT", "UPDATE OF payload"):
        name = "campaigns_stores_" + event.split()[0].lower()
        db.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON campaigns BEGIN "
            f"UPDATE campaigns SET stores = {scope.format('NEW.payload')} WHERE id = NEW.id; END"
        )


@MIGRATIONS
def m0012_unconfirmed_participations(db: Database) -> None:
    """The participation ledger's member index holds the confirmed flag.

    Every commit of a member's order adds up the member's local rows HQ has
    not confirmed yet (``counts.member_counts``). Through an index on
    (member, campaign) alone it found every row the member ever had and
    looked each one up to read its flag: a loyal member's commits grew with
    their history. Indexed on (member, confirmed, campaign), the query
    seeks the unconfirmed rows directly; the sync's look-ups of all of a
    member's rows, or of one campaign's unconfirmed ones, use it as well.
    Replacing the index, not adding one, keeps a commit at the same number
    of B-trees to write.
    """
    db.execute("DROP INDEX IF EXISTS idx_participations_member_id_campaign_id")
    db.execute(
        "CREATE INDEX participations_member_confirmed "
        "ON participations (member_id, confirmed, campaign_id)"
    )
