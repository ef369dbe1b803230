"""Choosing the compatible set of benefits that saves the customer the most.

Benefits apply one after another in execution order, each measured on the
prices the earlier ones left, so a set's worth is only known by running it.
The search is a depth-first branch and bound over "take it / leave it" in
execution order. Each candidate carries a ``bound``: the most it can give
after any earlier benefits (see ``spend_and_save.upper_bound``; a benefit
can give *more* after others, e.g. "buy 2 get 1 free" frees a dearer unit
once a cheap one reaches zero, so the stand-alone amount is not a bound).
Candidates are covered by groups of mutually incompatible ones, of which
a set holds at most one each, so the bound adds the largest bound still open
in each group; it cuts branches that cannot beat the best set found. Sets
compare by (most saved, fewest coupons, higher priorities, smaller ids).

A pathological input (many mutually compatible benefits of equal worth)
could still explode, so the search spends at most ``budget`` benefit runs;
past that it keeps the best of what it found and a greedy pass, and says
so (``exact`` is False).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from msgspec import Struct

from pos_promo.engine.outcome import Miss, Outcome
from pos_promo.engine.units import Prices, apply

__all__ = ["BUDGET", "Candidate", "Selection", "select"]

BUDGET = 1_000

Runner = Callable[[Prices], Outcome | Miss]


class Candidate(Struct, frozen=True):
    """A benefit that qualifies on its own, ready to be run on other prices."""

    id: str
    priority: int
    is_coupon: bool
    standalone: Outcome
    run: Runner
    bound: int  # the most it can give after any benefits before it


@dataclass(frozen=True, slots=True)
class Selection:
    picked: tuple[tuple[int, Outcome], ...]  # (candidate index, its outcome), in order
    prices: Prices
    exact: bool


def _key(cands: Sequence[Candidate], picked: Sequence[tuple[int, Outcome]]) -> tuple[object, ...]:
    saved = sum(out.amount for _, out in picked)
    coupons = sum(1 for i, _ in picked if cands[i].is_coupon)
    priorities = tuple(sorted((-cands[i].priority for i, _ in picked)))
    ids = tuple(sorted(cands[i].id for i, _ in picked))
    return (-saved, coupons, priorities, ids)


def _bits(mask: int) -> list[int]:
    """The positions of the set bits of ``mask``, lowest first."""
    found = []
    while mask:
        low = mask & -mask
        found.append(low.bit_length() - 1)
        mask ^= low
    return found


def _exclusive_groups(compatible: Sequence[int]) -> list[int]:
    """Candidates cover by groups of mutually incompatible ones (bit masks).

    At most one member of each group can be in any set, so the bound adds
    only each group's largest; promotions under the default scheme form one
    group, coupons another, which keeps the bound tight where it matters.
    """
    groups: list[int] = []
    for i, mask in enumerate(compatible):
        for g, group in enumerate(groups):
            if not mask & group:
                groups[g] = group | 1 << i
                break
        else:
            groups.append(1 << i)
    return groups


def select(
    cands: Sequence[Candidate],
    compatible: Sequence[int],
    base: Prices,
    budget: int = BUDGET,
) -> Selection:
    """Best set of ``cands`` (in execution order); ``compatible[i]`` is the bit
    mask of candidates that may be combined with candidate ``i``."""
    n = len(cands)
    best: list[tuple[int, Outcome]] = []
    best_key: tuple[object, ...] | None = None
    best_saved = 0
    best_prices = base
    runs = 0
    exact = True
    amounts = [c.bound for c in cands]
    groups = _exclusive_groups(compatible)
    # amounts are positive, so a partial sum of them can stop at the target
    positive = all(amount >= 0 for amount in amounts)

    def consider(
        picked: list[tuple[int, Outcome]],
        prices: Prices,
        saved: int,
        last: Outcome | None = None,
    ) -> None:
        """Keep ``picked`` if it beats the best set; its prices are ``prices``
        with the allocation of ``last`` (when given) taken off, worked out
        only then."""
        nonlocal best, best_key, best_saved, best_prices
        if best_key is not None and saved < best_saved:
            return  # saves less: its key is worse whatever the rest says
        key = _key(cands, picked)
        if best_key is None or key < best_key:
            if last is not None:
                prices = apply(prices, last.allocation)
            best, best_key, best_saved, best_prices = list(picked), key, saved, prices

    def room(saved: int, open_: int) -> int:
        """``saved`` plus the most the ``open_`` candidates could add: each
        exclusive group adds its largest bound (stops once past the best)."""
        bound = saved
        for group in groups:
            members = group & open_
            if members:
                bound += max(amounts[j] for j in _bits(members))
                if positive and bound >= best_saved:
                    break
        return bound

    def search(
        start: int, mask: int, prices: Prices, picked: list[tuple[int, Outcome]], saved: int
    ) -> None:
        """Take or leave each candidate from ``start`` on: taking recurses,
        leaving goes round the loop (the same walk as recursing on both)."""
        nonlocal runs, exact
        while True:
            rest = mask >> start
            if rest == 0:
                consider(picked, prices, saved)
                return
            i = start + ((rest & -rest).bit_length() - 1)
            if best_key is not None:
                if room(saved, mask >> i << i) < best_saved:
                    return  # neither taking nor leaving i can beat the best
                # taking i leaves only what combines with it: often far less
                after_i = (mask & compatible[i]) >> (i + 1) << (i + 1)
                if room(saved + amounts[i], after_i) < best_saved:
                    start = i + 1
                    continue
            if picked:
                if runs >= budget:
                    exact = False
                    outcome: Outcome | Miss = Miss("budget")
                else:
                    runs += 1
                    outcome = cands[i].run(prices)
            else:
                outcome = cands[i].standalone
            if isinstance(outcome, Outcome) and outcome.amount > 0:
                picked.append((i, outcome))
                narrowed = mask & compatible[i]
                if narrowed >> (i + 1) == 0:  # nothing left to add: a leaf
                    consider(picked, prices, saved + outcome.amount, outcome)
                else:
                    search(
                        i + 1,
                        narrowed,
                        apply(prices, outcome.allocation),
                        picked,
                        saved + outcome.amount,
                    )
                picked.pop()
            start = i + 1

    search(0, (1 << n) - 1, base, [], 0)
    if not exact:
        picked: list[tuple[int, Outcome]] = []
        prices, mask = base, (1 << n) - 1
        for i in range(n):
            if not mask >> i & 1:
                continue
            outcome = cands[i].run(prices) if picked else cands[i].standalone
            if isinstance(outcome, Outcome) and outcome.amount > 0:
                picked.append((i, outcome))
                prices = apply(prices, outcome.allocation)
                mask &= compatible[i]
        consider(picked, prices, sum(out.amount for _, out in picked))
    return Selection(tuple(best), best_prices, exact)
