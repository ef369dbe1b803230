"""PostgreSQL for the tests: the server the machine runs, one schema per test.

Tests that need PostgreSQL carry the marker ``postgres`` and read the
server from ``POS_PROMO_TEST_PG`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Each test gets a schema of
its own (a ``search_path`` in the URL's ``options``), dropped afterwards, so
runs never see each other's rows. Without a server they skip, and the run
says so in one line; under ``CI=true`` they never skip: they fail.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def base_url() -> str:
    return os.environ.get("POS_PROMO_TEST_PG", DEFAULT_URL)


@functools.cache
def unreachable() -> str:
    """Why PostgreSQL cannot be used here ("" when it can)."""
    try:
        with psycopg.connect(base_url(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"PostgreSQL not reachable at {base_url()} ({first})"
    return ""


def require() -> None:
    """Skip (or, under CI=true, fail) the calling test when PostgreSQL is missing."""
    reason = unreachable()
    if not reason:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true: PostgreSQL tests never skip")
    pytest.skip(reason)


def with_schema(url: str, schema: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema}"


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A URL whose connections live in a new, empty schema (dropped afterwards)."""
    require()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base_url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(base_url(), schema)
    finally:
        with psycopg.connect(base_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
