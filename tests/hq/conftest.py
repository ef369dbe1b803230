"""One contract suite, every backend (the APScheduler habit); and ``chain``, an HQ
under gunicorn with two workers holding the hand-checkable chain of scenario.py
(on each backend).

``database`` is HQ's storage on SQLite (a real file) and on PostgreSQL (a
schema of its own per test, marker ``postgres``); every test in
``tests/hq`` that takes it runs on both and must give the same answers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from pos_promo_hq.db import Database, open_database

from tests import pg
from tests.hq.scenario import build
from tests.sync.harness import HQ


def _backends() -> list[object]:
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A target for :func:`open_database`: a file path or a URL with its own schema."""
    if request.param == "sqlite":
        yield str(tmp_path / "hq.db")
        return
    with pg.fresh_schema() as url:
        yield url


@pytest.fixture
def database(backend: str) -> Iterator[Database]:
    db = open_database(backend)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture(scope="module", params=_backends())
def chain(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQ]:
    """HQ (gunicorn, two workers) on SQLite or PostgreSQL, the chain pushed to it."""
    folder = tmp_path_factory.mktemp(f"chain-{request.param}")
    with contextlib.ExitStack() as stack:
        extra = ["--workers", "2"]
        if request.param == "postgres":
            extra += ["--database", stack.enter_context(pg.fresh_schema())]
        server = HQ(folder, extra=extra)
        stack.callback(server.stop)
        server.start()
        build(folder, server)
        yield server
