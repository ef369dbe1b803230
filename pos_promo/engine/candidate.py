"""What the stacking search (:mod:`pos_promo.engine.selection`) is handed and
what it answers.

Kept in a module of their own: ``selection`` runs compiled when it is built
(see :mod:`pos_promo.native`), and mypyc, which compiles it, does not honour
a msgspec struct's class options (``frozen``, ``gc=False``): defined here,
they are the same structs whether the engine runs compiled or not.
"""

from __future__ import annotations

from collections.abc import Callable

from msgspec import Struct

from pos_promo.engine.outcome import Miss, Outcome
from pos_promo.engine.units import Prices

__all__ = ["Candidate", "Runner", "Selection"]

Runner = Callable[[Prices], Outcome | Miss]


class Candidate(Struct, frozen=True, gc=False):
    """A benefit that qualifies on its own, ready to be run on other prices."""

    id: str
    priority: int
    is_coupon: bool
    standalone: Outcome
    run: Runner
    bound: int  # the most it can give after any benefits before it
    lines: int = -1  # bit mask of the cart lines it reads or changes (-1: all)
    # what it surely gives after any benefits before it (0 or None: not known)
    steady: Callable[[], int] | None = None
    # whether, for one amount, lower prices before it leave none higher after it
    fills: Callable[[], bool] | None = None
    # whether, after any benefits before it, it loses at most what the prices
    # of its lines went down by and never drops out (see selection._Search.left_needs)
    alike: Callable[[], bool] | None = None
    # on prices met in the search: the most it can give on any prices at or
    # below them that benefits taking off at most a given amount reach
    node_bound: Callable[[Prices], Callable[[int], int]] | None = None


def _unknown(i: int, prices: Prices) -> Outcome | Miss | None:
    return None


class Selection(Struct, frozen=True):
    """The search's answer: the outcomes it picked (candidate index and outcome, in application
    order), the prices they leave, whether the search was exact, and how many benefit runs it
    spent; and what a candidate gave on some prices, when the search ran it there (``known``:
    the explanations of those left out then look it up instead of running it again)."""

    picked: tuple[tuple[int, Outcome], ...]  # (candidate index, its outcome), in order
    prices: Prices
    exact: bool
    runs: int = 0  # benefit runs the search spent (stand-alone amounts are free)
    known: Callable[[int, Prices], Outcome | Miss | None] = _unknown
