"""HQ's schema, as named migrations applied in order (the sqlite-utils habit).

Each migration is a list of statements written once for both backends;
``{id}`` becomes an auto-numbered primary key (``INTEGER PRIMARY KEY
AUTOINCREMENT`` on SQLite, ``BIGSERIAL PRIMARY KEY`` on PostgreSQL) and
every other integer is ``BIGINT`` (PostgreSQL's ``INTEGER`` is 32 bits;
money sums are not). :meth:`pos_promo_hq.db.Database.migrate` applies the
ones a database lacks at start, each in its own transaction, and records
them in ``schema_migrations``. Never edit a migration that shipped: add one.

* ``0001_baseline``: the schema of the first HQ (a file it created is
  taken over as it is);
* ``0002_identity_replay_members``: orders keyed by store, order id and a
  copy number (a second, different order under one key is kept as copy 1,
  flagged); the replay queue; which stores may read which members;
* ``0003_publications``: each change's publication number (rows published
  before it are publication 0, which a till treats as "each page whole").
* ``0004_performance_ledger``: what each event did to each promotion, and
  each store's last push and reported backlog (:mod:`.ledger`), for the
  performance reports.
* ``0005_ledger_backfill``: the ledger rows and push records of the events
  HQ held before 0004 (:mod:`.backfill`; a step in Python, since a
  receipt's split per promotion is decoded, not queried).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["MIGRATIONS", "Migration"]


class Migration(NamedTuple):
    """A named migration: its SQL (per dialect), then, if any, a step in Python
    that needs HQ's own code (run on the migration's connection, in its transaction)."""

    name: str
    statements: Callable[[str], list[str]]
    step: Callable[[Any], None] | None = None


def _no_statements(dialect: str) -> list[str]:
    del dialect
    return []


def _backfill_ledger(conn: Any) -> None:
    # imported here: the ledger's code needs the database module, which imports this one
    from pos_promo_hq.backfill import backfill_ledger

    backfill_ledger(conn)


_BASELINE = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO meta (key, value) VALUES ('state_seq', 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS changes (
    seq {id},
    type TEXT NOT NULL, id TEXT NOT NULL, version BIGINT NOT NULL,
    document TEXT NOT NULL, published_at TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS changes_key ON changes (type, id, version);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, store_id TEXT NOT NULL, kind TEXT NOT NULL,
    order_id TEXT, payload TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_store ON events (store_id, kind);
CREATE TABLE IF NOT EXISTS orders (
    store_id TEXT NOT NULL, order_id TEXT NOT NULL, event_id TEXT NOT NULL,
    member_id TEXT, at TEXT NOT NULL, local_date TEXT NOT NULL,
    subtotal BIGINT NOT NULL, total_discount BIGINT NOT NULL, total BIGINT NOT NULL,
    PRIMARY KEY (store_id, order_id));
CREATE INDEX IF NOT EXISTS orders_member ON orders (member_id);
CREATE TABLE IF NOT EXISTS refunds (
    store_id TEXT NOT NULL, refund_id TEXT NOT NULL, order_id TEXT NOT NULL,
    amount BIGINT NOT NULL, discount BIGINT NOT NULL,
    PRIMARY KEY (store_id, refund_id));
CREATE TABLE IF NOT EXISTS participation_counts (
    member_id TEXT NOT NULL, campaign_id TEXT NOT NULL, total BIGINT NOT NULL,
    seq BIGINT NOT NULL, PRIMARY KEY (member_id, campaign_id));
CREATE INDEX IF NOT EXISTS participation_counts_seq ON participation_counts (seq);
CREATE TABLE IF NOT EXISTS participation_days (
    member_id TEXT NOT NULL, campaign_id TEXT NOT NULL, local_date TEXT NOT NULL,
    count BIGINT NOT NULL, PRIMARY KEY (member_id, campaign_id, local_date));
CREATE TABLE IF NOT EXISTS redemptions (
    coupon_id TEXT NOT NULL, store_id TEXT NOT NULL, order_id TEXT NOT NULL,
    PRIMARY KEY (coupon_id, store_id, order_id));
CREATE TABLE IF NOT EXISTS gift_accruals (
    event_id TEXT PRIMARY KEY, store_id TEXT NOT NULL, order_id TEXT NOT NULL,
    activity_id TEXT NOT NULL, member_id TEXT NOT NULL, amount BIGINT NOT NULL,
    at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gift_totals (
    member_id TEXT NOT NULL, activity_id TEXT NOT NULL, measure TEXT NOT NULL,
    total BIGINT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (member_id, activity_id));
CREATE INDEX IF NOT EXISTS gift_totals_seq ON gift_totals (seq);
CREATE TABLE IF NOT EXISTS gift_grants (
    grant_id TEXT PRIMARY KEY, activity_id TEXT NOT NULL, version BIGINT NOT NULL,
    member_id TEXT NOT NULL, ordinal BIGINT NOT NULL, status TEXT NOT NULL,
    at TEXT NOT NULL, store_id TEXT, origin TEXT NOT NULL, seq BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS gift_grants_seq ON gift_grants (seq);
CREATE INDEX IF NOT EXISTS gift_grants_member ON gift_grants (member_id, activity_id);
CREATE TABLE IF NOT EXISTS gift_grant_reports (
    grant_id TEXT NOT NULL, store_id TEXT NOT NULL, event_id TEXT NOT NULL,
    status TEXT NOT NULL, PRIMARY KEY (grant_id, event_id));
CREATE TABLE IF NOT EXISTS wallet_coupons (
    coupon_id TEXT PRIMARY KEY, grant_id TEXT, template_id TEXT NOT NULL,
    member_id TEXT NOT NULL, valid_from TEXT NOT NULL, valid_until TEXT NOT NULL,
    status TEXT NOT NULL, seq BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS wallet_coupons_seq ON wallet_coupons (seq);
CREATE TABLE IF NOT EXISTS flags (
    id {id}, kind TEXT NOT NULL, store_id TEXT,
    order_id TEXT, subject TEXT, detail TEXT NOT NULL, at TEXT NOT NULL);
"""

_IDENTITY_REPLAY_MEMBERS = """
CREATE TABLE orders_keyed (
    store_id TEXT NOT NULL, order_id TEXT NOT NULL, copy BIGINT NOT NULL DEFAULT 0,
    event_id TEXT NOT NULL UNIQUE,
    member_id TEXT, at TEXT NOT NULL, local_date TEXT NOT NULL,
    subtotal BIGINT NOT NULL, total_discount BIGINT NOT NULL, total BIGINT NOT NULL,
    PRIMARY KEY (store_id, order_id, copy));
INSERT INTO orders_keyed (store_id, order_id, copy, event_id, member_id, at, local_date,
    subtotal, total_discount, total)
    SELECT store_id, order_id, 0, event_id, member_id, at, local_date,
    subtotal, total_discount, total FROM orders;
DROP TABLE orders;
ALTER TABLE orders_keyed RENAME TO orders;
CREATE INDEX orders_member ON orders (member_id);
CREATE TABLE replay_queue (
    event_id TEXT PRIMARY KEY, store_id TEXT NOT NULL, order_id TEXT NOT NULL,
    counts TEXT, enqueued_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
    outcome TEXT, detail TEXT, replayed_at TEXT);
CREATE INDEX replay_queue_status ON replay_queue (status, event_id);
CREATE TABLE store_members (
    store_id TEXT NOT NULL, member_id TEXT NOT NULL, via TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (store_id, member_id));
CREATE INDEX store_members_member ON store_members (member_id);
CREATE INDEX wallet_coupons_member ON wallet_coupons (member_id);
"""

_PERFORMANCE_LEDGER = """
CREATE TABLE promotion_ledger (
    event_id TEXT NOT NULL, campaign_id TEXT NOT NULL, kind TEXT NOT NULL,
    store_id TEXT NOT NULL, order_id TEXT NOT NULL, member_id TEXT, local_date TEXT NOT NULL,
    given BIGINT NOT NULL, refunded BIGINT NOT NULL, participations BIGINT NOT NULL,
    PRIMARY KEY (event_id, campaign_id));
CREATE INDEX promotion_ledger_campaign ON promotion_ledger (campaign_id, local_date);
CREATE INDEX promotion_ledger_store ON promotion_ledger (store_id, campaign_id);
CREATE TABLE store_pushes (
    store_id TEXT PRIMARY KEY, last_push_at TEXT NOT NULL, backlog BIGINT,
    pushes BIGINT NOT NULL);
"""


_PUBLICATIONS = """
ALTER TABLE changes ADD COLUMN publication BIGINT NOT NULL DEFAULT 0;
CREATE INDEX changes_publication ON changes (publication);
"""


def _statements(script: str) -> Callable[[str], list[str]]:
    def render(dialect: str) -> list[str]:
        key = (
            "BIGSERIAL PRIMARY KEY"
            if dialect == "postgresql"
            else "INTEGER PRIMARY KEY AUTOINCREMENT"
        )
        text = script.replace("{id}", key)
        return [s.strip() for s in text.split(";\n") if s.strip()]

    return render


MIGRATIONS: list[Migration] = [
    Migration("0001_baseline", _statements(_BASELINE)),
    Migration("0002_identity_replay_members", _statements(_IDENTITY_REPLAY_MEMBERS)),
    Migration("0003_publications", _statements(_PUBLICATIONS)),
    Migration("0004_performance_ledger", _statements(_PERFORMANCE_LEDGER)),
    Migration("0005_ledger_backfill", _no_statements, _backfill_ledger),
]
