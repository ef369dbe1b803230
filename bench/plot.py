"""Run the live-campaign and stacking benchmarks and draw their curves.

``python bench/plot.py`` (``--quick`` for a smoke run) prints both tables
(see ``bench/live.py`` and ``bench/stacking.py``) and writes
``docs/performance.png``: evaluation CPU time against cart lines for each
campaign-set size, next to the minimal evaluator, and stacking time
against qualifying benefits for each mix. ``bench/figures.py`` (``make
bench``) calls :func:`draw` with the numbers of its own run, so the picture
and the table it prints are one measurement. Needs matplotlib (the
``bench`` extra: ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import live
import stacking

__all__ = ["OUT", "draw", "main"]

OUT = Path(__file__).resolve().parent.parent / "docs" / "performance.png"


def main(argv: list[str]) -> int:
    rows = live.main(argv)
    print()
    table = stacking.main(argv)
    draw(rows, table)
    return 0


def draw(rows: list[live.Row], table: dict[tuple[str, int], tuple[Any, ...]]) -> Path:
    """Write :data:`OUT` from these rows of ``bench/live.py`` and this table of
    ``bench/stacking.py``; the path written."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for n in sorted({r.campaigns for r in rows}):
        mine = [r for r in rows if r.campaigns == n]
        lines = [r.lines for r in mine]
        left.plot(lines, [r.engine_median for r in mine], marker="o", label=f"engine, {n:,}")
        left.plot(lines, [r.bare_median for r in mine], linestyle="--", label=f"minimal, {n:,}")
    left.set(
        xscale="log",
        yscale="log",
        xlabel="cart lines",
        ylabel="CPU ms per evaluation (median)",
        title="All campaigns live at one store",
    )
    left.legend(fontsize=8)
    for mix in stacking.MIXES:
        sizes = list(stacking.SIZES)
        right.plot(sizes, [table[mix, k][0] for k in sizes], marker="o", label=mix)
        for k in sizes:
            if table[mix, k][4] != "exact":
                right.annotate("bounded", (k, table[mix, k][0]), fontsize=7)
    right.set(
        yscale="log",
        xlabel="qualifying benefits",
        ylabel="CPU ms per evaluation (median)",
        title="Stacking search",
    )
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT, dpi=110)
    plt.close(fig)
    print(f"\nwrote {OUT.relative_to(OUT.parent.parent)}")
    return OUT


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
