"""Run-wide test plumbing: PostgreSQL tests say once why they were skipped;
with the engine compiled, the tests that patch its classes are left to the
run with the engine as Python, and the summary says so."""

from __future__ import annotations

import pytest

from pos_promo.native import compiled_modules
from tests import pg

_LEFT_TO_PYTHON: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # a compiled class cannot be patched; `make test` runs these in its
    # first run, with the engine as Python (POS_PROMO_PURE=1)
    if not compiled_modules():
        return
    left = [item for item in items if item.get_closest_marker("instruments")]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = [item for item in items if not item.get_closest_marker("instruments")]
        _LEFT_TO_PYTHON.extend(item.nodeid for item in left)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if pg.unreachable.cache_info().currsize and pg.unreachable() and skipped:
        terminalreporter.write_line(f"{pg.unreachable()}: the tests marked 'postgres' were skipped")
    if _LEFT_TO_PYTHON:
        terminalreporter.write_line(
            f"engine compiled ({', '.join(compiled_modules())}): {len(_LEFT_TO_PYTHON)} test(s)"
            " marked 'instruments' left to the run with the engine as Python"
        )
