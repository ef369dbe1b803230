"""Fixtures for the store tests: a fresh till database file per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pos_promo.embedded import Engine
from tests.store.builders import STORE


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "till.db"


@pytest.fixture
def open_engine(db_path: Path) -> Iterator[Callable[..., Engine]]:
    opened: list[Engine] = []

    def factory(**kwargs: object) -> Engine:
        engine = Engine.open(db_path, kwargs.pop("store", STORE), **kwargs)  # type: ignore[arg-type]
        opened.append(engine)
        return engine

    yield factory
    for engine in opened:
        engine.close()


@pytest.fixture
def engine(open_engine: Callable[..., Engine]) -> Engine:
    return open_engine()
