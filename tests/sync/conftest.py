"""Fixtures for the sync tests: an HQ process and tills, always cleaned up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.harness import HQ, Till, campaign

CATALOG = [campaign("p1")]


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[HQ]:
    import json

    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG))
    server = HQ(tmp_path, catalog)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def till(tmp_path: Path) -> Iterator[Till]:
    t = Till.open(tmp_path, "s1")
    try:
        yield t
    finally:
        t.close()


@pytest.fixture
def till2(tmp_path: Path) -> Iterator[Till]:
    t = Till.open(tmp_path, "s2")
    try:
        yield t
    finally:
        t.close()
