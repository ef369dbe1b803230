"""Fixtures for the door tests: a till database with one promotion, and its snapshot."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pos_promo.embedded import Engine
from tests.store.builders import STORE, campaign, dump, row_counts


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "till.db"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    """A till knowing one promotion: spend 100.00, save 10.00."""
    with Engine.open(db_path, STORE) as opened:
        opened.import_campaigns(dump([campaign("p1")]))
        yield opened


def snapshot(path: Path) -> dict[str, Any]:
    """Every table's rows, after ``PRAGMA integrity_check`` says the file is sound."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    return row_counts(path)
