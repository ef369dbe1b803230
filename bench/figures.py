"""Every figure of issue 12 in one run, ending with the table: figure, goal, measured, met.

``python bench/figures.py`` (``make bench``; ``--quick`` for a smoke run of
about a minute) runs, one after another in this process:

- ``bench/live.py``: all campaigns live at one store, 1,000 / 10,000
  campaigns x 5 / 30 / 100 / 300 lines (and 50,000 campaigns, not with
  ``--quick``), next to the bare evaluator of ``bench/minimal.py`` on the
  same carts;
- ``bench/stacking.py``: 5 / 10 / 20 / 40 qualifying benefits per mix;
- ``bench/commit.py``: a commit at ``synchronous=FULL`` against a bare
  two-row FULL transaction, taking turns; a new process importing
  ``pos_promo``, opening a till of 1,000 campaigns and evaluating, against a
  bare interpreter spawned in turn;

then draws ``docs/performance.png`` from those same numbers
(``bench/plot.py``) and prints the summary. Every ratio is between cells
of this run; nothing is carried over from an earlier one. A row is "met"
only when this run's number is within the goal; a ``--quick`` run has too
few samples to judge and says so.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import commit
import live
import plot
import stacking

from pos_promo.native import compiled_modules

__all__ = ["Figure", "figures", "main"]

HERE = Path(__file__).resolve().parent

Figure = tuple[str, str, str, bool | None]
"""``(figure, goal, measured, met)``; ``met`` is None where this run did not measure it."""


def figures(
    rows: list[live.Row],
    table: dict[tuple[str, int], tuple[Any, ...]],
    commit_ms: float,
    bare_ms: float,
    started: dict[str, Any],
) -> list[Figure]:
    """The issue's table, from this run's numbers."""
    by = {(r.campaigns, r.lines): r for r in rows}
    out: list[Figure] = []
    one = by[1_000, 30]
    out.append(
        (
            "30 lines x 1,000 live, CPU median",
            "<= 2 ms and <= 5x bare evaluator",
            f"{one.engine_median:.2f} ms, {one.ratio_median:.1f}x bare "
            f"(min {one.engine_min:.2f} ms, {one.ratio_min:.1f}x); exact {one.exact}/{one.carts}",
            one.engine_median <= 2 and one.ratio_median <= 5,
        )
    )
    ten = by[10_000, 30]
    growth = ten.engine_median / one.engine_median
    out.append(
        (
            "10,000 live vs 1,000, 30 lines",
            "<= 3x",
            f"{growth:.1f}x ({ten.engine_median:.2f} ms median); exact {ten.exact}/{ten.carts}",
            growth <= 3,
        )
    )
    huge = by.get((50_000, 30))
    out.append(
        (
            "50,000 live, one 30-line cart",
            "<= 100 ms",
            "not measured in this run"
            if huge is None
            else f"{huge.engine_median:.1f} ms median; exact {huge.exact}/{huge.carts}",
            None if huge is None else huge.engine_median <= 100,
        )
    )
    hundred = by[1_000, 100]
    out.append(
        (
            "100 lines x 1,000 live, CPU median",
            "<= 5 ms",
            f"{hundred.engine_median:.2f} ms (min {hundred.engine_min:.2f}); "
            f"exact {hundred.exact}/{hundred.carts}",
            hundred.engine_median <= 5,
        )
    )
    twenty = table["default scheme", 20]
    out.append(
        (
            "20 benefits, default scheme",
            "<= 2 ms",
            f"{twenty[0]:.2f} ms median, {twenty[4]}, {twenty[6]} runs",
            twenty[0] <= 2,
        )
    )
    five, combine = table["all combine", 5], table["all combine", 20]
    ratio = combine[0] / five[0]
    out.append(
        (
            "20 benefits that all combine",
            "exact, <= 4x the cost of 5",
            f"{combine[4]}, {combine[0]:.2f} ms = {ratio:.1f}x the 5 ({five[0]:.2f} ms), "
            f"{combine[6]} runs",
            combine[4] == "exact" and ratio <= 4,
        )
    )
    for mix in ("default scheme", "disjoint"):
        forty = table[mix, 40]
        out.append(
            (
                f"40 benefits, {mix}",
                "exact, <= 10 ms",
                f"{forty[4]}, {forty[0]:.2f} ms median, {forty[6]} runs",
                forty[4] == "exact" and forty[0] <= 10,
            )
        )
    wall, cpu = started["wall"], started["cpu"]
    out.append(
        (
            "new process: import, open 1,000, evaluate",
            "<= 150 ms",
            f"{wall[1]:.0f} ms wall median (min {wall[0]:.0f}), CPU {cpu[1]:.0f} "
            f"(min {cpu[0]:.0f}); bare python {started['bare_wall'][1]:.0f} ms wall, "
            f"{started['bare_cpu'][1]:.0f} CPU",
            wall[1] <= 150,
        )
    )
    out.append(
        (
            "commit FULL / bare 2-row FULL transaction",
            "<= 3x",
            f"{commit_ms / bare_ms:.2f}x ({commit_ms:.2f} ms against {bare_ms:.2f} ms, p50)",
            commit_ms / bare_ms <= 3,
        )
    )
    out.append(
        (
            "index: compiled at the till",
            "only what can apply at this store",
            f"{started['compiled']:,} of {started['cached']:,} cached campaigns compiled",
            started["compiled"] < started["cached"],
        )
    )
    return out


def print_table(rows: list[Figure], quick: bool) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    heads = ("figure", "goal", "measured")
    print(" | ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)) + " | met?")
    print("-+-".join("-" * w for w in widths) + "-+-----")
    for figure, goal, measured, met in rows:
        verdict = "-" if met is None else ("yes" if met else "NO")
        if quick and met is not None:
            verdict += " (quick)"
        cells = (figure, goal, measured)
        print(" | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + f" | {verdict}")


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    began = time.monotonic()
    print(f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, ", end="")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, {platform.platform()}")
    compiled = compiled_modules()  # make bench builds them first (make native)
    print(f"engine: {'compiled (' + ', '.join(compiled) + ')' if compiled else 'as Python'}")
    print()
    rows = live.main(["--quick"] if quick else [])
    print()
    table = stacking.main(["--quick"] if quick else [])
    print()
    with tempfile.TemporaryDirectory(dir=HERE, prefix=".bench-") as tmp:
        folder = Path(tmp)
        commit_ms, bare_ms = commit.commit_against_bare(folder, 300 if quick else 2_000)
        till, _ = commit.make_till(folder)
        started = commit.bench_start(till, 5 if quick else 15)
    print(
        f"commit at synchronous=FULL p50 {commit_ms:.3f} ms, bare two-row FULL transaction "
        f"p50 {bare_ms:.3f} ms (taking turns)"
    )
    commit.print_start(started)
    plot.draw(rows, table)
    print()
    print(
        f"issue 12 figures, this run ({time.monotonic() - began:.0f} s, load average now "
        f"{os.getloadavg()[0]:.1f}){', --quick: too few samples to judge' if quick else ''}"
    )
    print_table(figures(rows, table, commit_ms, bare_ms, started), quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
