"""Run-wide test plumbing: PostgreSQL tests say once why they were skipped."""

from __future__ import annotations

import pytest

from tests import pg


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if pg.unreachable.cache_info().currsize and pg.unreachable() and skipped:
        terminalreporter.write_line(f"{pg.unreachable()}: the tests marked 'postgres' were skipped")
