"""A till caches every store's campaigns but opens decoding only its own:
other stores' Spend & Save campaigns stay as their JSON until a cart names
one or ``explain`` asks, and then read exactly as a full decode would."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from pos_promo.codec import decode_campaigns
from pos_promo.embedded import Engine
from pos_promo.engine.compiled import scope_includes
from pos_promo.engine.index import build_index
from pos_promo.store import campaigns as cache
from pos_promo.store.campaigns import OutOfScope, apply_import
from pos_promo.store.connection import connect, immediate
from pos_promo.store.migrations import Migrations
from pos_promo.store.schema import MIGRATIONS
from tests.store.builders import STORE, campaign, cart, dump, line

# STORE is s1 under brand-1
MINE = {"all-stores": "all", "listed": {"store_ids": ["s1"]}, "brand": {"org_ids": ["brand-1"]}}
THEIRS = {"other-store": {"store_ids": ["s2"]}, "other-brand": {"org_ids": ["brand-2"]}}


def chain() -> list[dict[str, object]]:
    docs = [
        campaign(cid, {"type": "spend_save", "tiers": [{"spend": 1000, "save": 100 + n}]})
        | {"stores": scope}
        for n, (cid, scope) in enumerate({**MINE, **THEIRS}.items())
    ]
    docs.append(
        {
            "kind": "coupon_template",
            "id": "tpl",
            "period": docs[0]["period"],
            "benefit": {"type": "amount_off", "amount": 300},
            "stores": {"store_ids": ["s2"]},
        }
    )
    return docs


def test_opening_decodes_only_this_stores_campaigns(db_path: Path) -> None:
    with Engine.open(db_path, STORE) as engine:
        engine.import_campaigns(dump(chain()))
    with Engine.open(db_path) as engine:
        index = engine.index
        assert sorted(index.by_id) == sorted(MINE)
        assert isinstance(index.elsewhere, OutOfScope)
        assert sorted(index.elsewhere) == sorted(THEIRS)
        assert sorted(index.templates) == ["tpl"]  # templates are kept whatever their scope
        assert len(index) == 5
        assert index.knows("other-store") and index.elsewhere.decoded == 0
        result = engine.evaluate(dump(cart(line("A", 1500))))
        # each of mine applies alone (default scheme): the largest, "brand" (102)
        assert [(a.id, a.amount) for a in result.applied] == [("brand", 102)]
        assert index.elsewhere.decoded == 0
        explained = engine.explain(dump(cart(line("A", 1500))), "other-store")
        assert index.elsewhere.decoded == 1
        assert explained.reason == "store_not_eligible"


def test_what_is_set_apart_reads_as_a_full_decode_would(db_path: Path) -> None:
    with Engine.open(db_path, STORE) as engine:
        engine.import_campaigns(dump(chain()))
    conn = connect(str(db_path), "normal")
    try:
        everything = cache.load_campaigns(conn)
        mine, elsewhere = cache.load_split(conn, lambda scope: scope_includes(scope, STORE))
    finally:
        conn.close()
    eager = build_index(everything, STORE)
    lazy = build_index(mine, STORE, elsewhere)
    assert lazy.by_id == eager.by_id
    assert lazy.by_item == eager.by_item and lazy.store_wide == eager.store_wide
    assert lazy.templates == eager.templates
    assert {cid: lazy.elsewhere[cid] for cid in lazy.elsewhere} == dict(eager.elsewhere)
    for cid in THEIRS:
        assert lazy.compiled(cid) == eager.compiled(cid)


def test_a_sync_replacing_another_stores_campaign_updates_the_set_apart_one(
    db_path: Path,
) -> None:
    with Engine.open(db_path, STORE) as engine:
        engine.import_campaigns(dump(chain()))
        before = engine.index
        newer = chain()[3] | {"version": 2, "name": "renamed"}
        moved = chain()[4] | {"version": 2, "stores": "all"}  # now every store's
        engine.import_campaigns(json.dumps([newer, moved]))
        after = engine.index
        assert after is not before
        assert after.elsewhere["other-store"].name == "renamed"
        assert "other-brand" not in after.elsewhere and "other-brand" in after.by_id
        # the index before the update is as it was
        assert before.elsewhere["other-store"].name == "other-store"
        assert "other-brand" in before.elsewhere


def stored_scopes(db_path: Path) -> dict[str, str | None]:
    conn = sqlite3.connect(db_path)
    try:
        return dict(conn.execute("SELECT id, stores FROM campaigns ORDER BY id").fetchall())
    finally:
        conn.close()


SCOPES = {
    "all-stores": '"all"',
    "brand": '{"store_ids":[],"org_ids":["brand-1"]}',
    "listed": '{"store_ids":["s1"],"org_ids":[]}',
    "other-brand": '{"store_ids":[],"org_ids":["brand-2"]}',
    "other-store": '{"store_ids":["s2"],"org_ids":[]}',
    "tpl": '{"store_ids":["s2"],"org_ids":[]}',
}


def test_a_cache_written_before_the_scope_column_gets_it_on_open(db_path: Path) -> None:
    """m0011 fills ``stores`` for the rows cached before it; the split is the same."""
    conn = connect(str(db_path))
    Migrations(MIGRATIONS.steps[:10]).apply(conn)
    with immediate(conn):
        apply_import(conn, decode_campaigns(dump(chain())))
    conn.close()
    with Engine.open(db_path, STORE) as engine:
        assert sorted(engine.index.by_id) == sorted(MINE)
        assert sorted(engine.index.elsewhere) == sorted(THEIRS)
        assert engine.index.elsewhere.decoded == 0  # set apart by the column alone
    assert stored_scopes(db_path) == SCOPES


def test_sqlite_keeps_the_scope_column_whoever_writes_the_payload(db_path: Path) -> None:
    """A process that knows nothing of the column (a daemon of the previous
    release) inserts and replaces payloads; the triggers keep ``stores`` true,
    so opening never sets apart a campaign that became this store's."""
    with Engine.open(db_path, STORE) as engine:
        engine.import_campaigns(dump(chain()))
    docs = {doc["id"]: doc for doc in chain()}
    moved = docs["other-store"] | {"stores": {"store_ids": ["s1"]}}  # now this store's
    added = docs["other-brand"] | {"id": "late", "stores": {"store_ids": ["s3"]}}
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "UPDATE campaigns SET payload = ? WHERE id = 'other-store'", (json.dumps(moved),)
        )
        conn.execute(
            "INSERT INTO campaigns (id, kind, version, status, payload) "
            "VALUES ('late', 'spend_and_save', 1, 'active', ?)",
            (json.dumps(added),),
        )
    conn.close()
    assert stored_scopes(db_path) == SCOPES | {
        "other-store": '{"store_ids":["s1"]}',
        "late": '{"store_ids":["s3"]}',
    }
    with Engine.open(db_path) as engine:
        assert sorted(engine.index.by_id) == sorted([*MINE, "other-store"])
        assert sorted(engine.index.elsewhere) == ["late", "other-brand"]


def test_a_row_without_a_scope_is_decoded_whole_and_set_apart_by_the_index(
    db_path: Path,
) -> None:
    with Engine.open(db_path, STORE) as engine:
        engine.import_campaigns(dump(chain()))
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE campaigns SET stores = NULL WHERE id IN ('brand', 'other-store')")
    conn.close()
    with Engine.open(db_path) as engine:
        assert sorted(engine.index.by_id) == sorted(MINE)
        assert sorted(engine.index.elsewhere) == sorted(THEIRS)
        assert engine.index.elsewhere.decoded == 1  # other-store: decoded to be told apart
