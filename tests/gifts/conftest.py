"""Fixtures for the cumulative gift tests: a till database file per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pos_promo.embedded import Engine
from tests.gifts.builders import STORE, activity, dump, template


@pytest.fixture
def open_till(tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    opened: list[Engine] = []

    def factory(*campaigns: dict[str, Any], name: str = "till.db", **kwargs: Any) -> Engine:
        engine = Engine.open(tmp_path / name, kwargs.pop("store", STORE), durability="normal")
        opened.append(engine)
        if campaigns:
            engine.import_campaigns(dump(list(campaigns)))
        return engine

    yield factory
    for engine in opened:
        engine.close()


@pytest.fixture
def till(open_till: Callable[..., Engine]) -> Engine:
    """A till with one coupon template and an "every $100" activity."""
    return open_till(template(), activity())
