"""Opening a till database: schema, migrations, pragmas, the store it belongs to."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlite_utils import Database

from pos_promo.embedded import DEFAULT_DURABILITY, Engine
from pos_promo.errors import InvalidStore, StoreError, StoreMismatch
from pos_promo.model.cart import StoreContext
from pos_promo.store.connection import connect, immediate
from pos_promo.store.migrations import Migrations
from pos_promo.store.schema import MIGRATIONS
from tests.store.builders import STORE


def test_a_new_database_gets_every_migration_in_order(engine: Engine, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    names = [n for (n,) in conn.execute("SELECT name FROM _migrations ORDER BY seq")]
    assert names == MIGRATIONS.names
    assert names == sorted(names)
    assert {"orders", "outbox", "participations", "campaigns"} <= set(Database(conn).table_names())


def test_reopening_applies_nothing_twice(engine: Engine, db_path: Path) -> None:
    engine.close()
    conn = connect(db_path)
    assert MIGRATIONS.pending(conn) == []
    assert MIGRATIONS.apply(conn) == []


def test_an_older_database_is_migrated_forward_keeping_its_data(db_path: Path) -> None:
    conn = connect(db_path)
    first = Migrations(MIGRATIONS.steps[:1])
    first.apply(conn)
    with immediate(conn):
        conn.execute("INSERT INTO meta (key, value) VALUES ('note', 'kept')")
    conn.close()
    with Engine.open(db_path, STORE) as engine:
        assert engine.outbox_counts().pending == 0
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'note'").fetchone() == ("kept",)
    assert len(conn.execute("SELECT * FROM _migrations").fetchall()) == len(MIGRATIONS.steps)
    # m0008 drew the till's identity for a database that had none
    (till,) = conn.execute("SELECT value FROM meta WHERE key = 'till'").fetchone()
    assert len(till) == 32 and int(till, 16) >= 0


def test_refunds_made_before_line_refunds_existed_are_carried_over(db_path: Path) -> None:
    """m0007 replaces ``order_lines`` (a row per sold line) with ``line_refunds``
    (a row per refunded line): units already refunded stay refunded."""
    conn = connect(db_path)
    Migrations(MIGRATIONS.steps[:6]).apply(conn)
    with immediate(conn):
        conn.executemany(
            "INSERT INTO order_lines (order_id, line_id, quantity, refunded_units) "
            "VALUES (?, ?, ?, ?)",
            [("o1", "L1", 3, 2), ("o1", "L2", 1, 0), ("o2", "L1", 1, 1)],
        )
    assert MIGRATIONS.apply(conn)[0] == "m0007_line_refunds"
    rows = conn.execute("SELECT * FROM line_refunds ORDER BY order_id, line_id").fetchall()
    assert rows == [("o1", "L1", 2), ("o2", "L1", 1)]
    assert "order_lines" not in Database(conn).table_names()


def test_a_migration_that_fails_leaves_no_record_and_no_half_schema(db_path: Path) -> None:
    steps = Migrations()

    @steps
    def m1_good(db: Database) -> None:
        db.execute("CREATE TABLE good (x INTEGER)")

    @steps
    def m2_broken(db: Database) -> None:
        db.execute("CREATE TABLE half (x INTEGER)")
        raise RuntimeError("boom")

    conn = connect(db_path)
    with pytest.raises(RuntimeError):
        steps.apply(conn)
    assert steps.applied(conn) == ["m1_good"]
    tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "good" in tables and "half" not in tables


def test_a_migration_name_cannot_be_registered_twice() -> None:
    steps = Migrations()

    def m1(db: Database) -> None: ...

    steps(m1)
    with pytest.raises(ValueError, match="twice"):
        steps(m1)


def test_the_database_runs_in_wal_mode_with_a_busy_timeout(engine: Engine) -> None:
    conn = engine._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert conn.isolation_level is None


def test_durability_defaults_to_full_and_can_be_set_to_normal(
    open_engine: Callable[..., Engine],
) -> None:
    assert DEFAULT_DURABILITY == "full"
    full = open_engine()
    assert full._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    normal = open_engine(durability="normal")
    assert normal._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_an_unknown_durability_is_refused(db_path: Path) -> None:
    with pytest.raises(StoreError, match="durability"):
        Engine.open(db_path, STORE, durability="sometimes")  # type: ignore[arg-type]


def test_the_store_is_recorded_and_later_opens_may_omit_it(engine: Engine, db_path: Path) -> None:
    engine.close()
    with Engine.open(db_path) as again:
        assert again.store == STORE


def test_a_first_open_without_a_store_is_refused(db_path: Path) -> None:
    with pytest.raises(InvalidStore, match="store: is required"):
        Engine.open(db_path)


def test_a_database_of_another_store_is_refused(engine: Engine, db_path: Path) -> None:
    with pytest.raises(StoreMismatch, match="belongs to store 's1', not 's2'"):
        Engine.open(db_path, StoreContext("s2"))


def test_a_store_with_an_unknown_time_zone_is_refused(db_path: Path) -> None:
    with pytest.raises(InvalidStore, match=r"\$\.timezone"):
        Engine.open(db_path, StoreContext("s1", "Mars/Olympus"))


def test_a_file_that_is_not_a_database_is_refused_with_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"junk\.db"):
        Engine.open(path, STORE)


def test_immediate_rolls_back_on_error(db_path: Path) -> None:
    conn = connect(db_path)
    conn.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(ZeroDivisionError), immediate(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        _ = 1 / 0
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0
    assert not conn.in_transaction
