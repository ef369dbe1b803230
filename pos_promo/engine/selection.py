"""Choosing the compatible set of benefits that saves the customer the most.

Benefits apply one after another in execution order, each measured on the
prices the earlier ones left, so a set's worth is only known by running it.
The search is a depth-first branch and bound over "take it / leave it" in
execution order, made cheap per node in six ways:

- **Bounds kept ready.** Each candidate carries a ``bound``: the most it can
  give after any earlier benefits (see ``spend_and_save.upper_bound``; "buy 2
  get 1 free" can give *more* after others, so the stand-alone amount is not
  a bound). Candidates are covered by groups of mutually incompatible ones,
  of which a set holds at most one each, so what the open candidates can
  still add is the sum of each group's largest open bound. Each group keeps
  its members' suffix maxima, so that sum costs one look-up per group, not a
  walk over the members, whenever the group is open from some point on;
  candidates alone in their group (those that combine with all others) are
  pooled, their bounds added up once, so many of them cost one look-up too.
  Where that is not enough, the pooled bounds that assume the worst of the
  benefits ahead ("buy X get Y free" once others zero cheap units) are
  worked out again on the node's prices (see ``_Search.refined_room``).
- **Runs only where they can win.** A candidate whose bound, with the best of
  what may follow it, cannot reach the best set found is never run; one whose
  lines no benefit taken before it changed gives its stand-alone amount,
  known already, without a run.
- **Sets that only lose left unweighed.** When adding a candidate to any
  set of those after it that it combines with cannot save less (what it
  can cost the ones after it is bounded, see ``_Search.left_needs``), the
  sets leaving it out are weighed only if they hold one of the few it
  cannot be combined with.
- **Dominated ones dropped first.** A candidate that combines with exactly
  what another, incompatible one combines with, where neither shares a line
  with any of those, can always be swapped for the other; the weaker of the
  two is never searched.
- **Independent groups decided apart.** At the root and after each benefit
  taken, the undecided candidates are split into groups that cannot affect
  each other: no shared line (nothing one changes is measured or changed by
  the other) and no sharing rule between them. Each group is searched on its
  own and the best of each are put together, so K independent benefits cost
  K searches, not 2^K sets.
- **Nothing worked out twice.** A benefit reads only its own lines and the
  engine is pure, so each candidate runs once per distinct prices of its
  lines; a sub-search's answer depends only on the undecided candidates and
  the prices, so it is kept and reused when another path meets the same
  state (about half of them do when many benefits combine).

The search starts from a seed: the best benefit alone with all that combine
with it. When the seed holds every candidate and saves what their bounds add
up to, every other set saves less and no search is made (a few promotions
that all apply and stack, the everyday order).

Sets compare by (most saved, fewest coupons, higher priorities, smaller ids).
The last two compare, from the highest priority and the smallest id, which
set holds more of it; that order adds up over disjoint groups, which is what
makes deciding groups apart exact.

A pathological input (many mutually compatible benefits on the same lines)
could still explode, so the search spends at most ``budget`` benefit runs
(and ``STEPS_PER_RUN`` times as many steps) and takes at most ``DEPTH``
benefits on one path; past that it keeps the
best of what it found and a greedy pass, tries a few moves from that set for
a sixteenth of its budget more (see ``_Search.rivals``), and says so
(``exact`` False). The runs spent are reported either way.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from pos_promo.engine.candidate import Candidate, Selection
from pos_promo.engine.masks import positions
from pos_promo.engine.outcome import Miss, Outcome
from pos_promo.engine.units import Prices, apply

__all__ = ["BUDGET", "DEPTH", "STEPS_PER_RUN", "Candidate", "Selection", "select"]

BUDGET = 1_000
DEPTH = 150  # benefits taken on one path of the search (keeps Python's stack safe)
# when the search refines loose bounds on a node's prices (see refined_room):
# only once it has spent _LATE runs (one settled within a dozen or so gains
# less than the bounds cost: 16, not 32, since the one-free bound got
# cheaper), with at most _LOOSE of them open, and no more once it worked out
# _TRIAL of them and fewer than one in _PAYS pruned a node; what may come
# before each is walked exactly with at most _FEW candidates open
_LATE = 16
_LOOSE = 8
_TRIAL = 8
_PAYS = 8
_FEW = 64
# a search that ends bounded spends 1/_RIVAL_SHARE of its budget more (at
# least a run) on moves from the best set it found (see _Search.rivals)
_RIVAL_SHARE = 16
STEPS_PER_RUN = 5  # search steps allowed per budgeted run (a step costs far less)

_LAST_PRIORITY = 1 << 62  # closes a set's priority list (see _Found.key)
_LAST_ID = "\U0010ffff"  # closes a set's id list
_OVER_BUDGET = Miss("budget")  # what a run past the budget gives
# how a candidate answers a change before it (see _Search.role)
_SAME_FILLED, _SAME, _ALIKE, _LOSES = range(4)


@dataclass(slots=True)
class _Found:
    """A set of candidates and what it saves, with its comparison key (and
    the prices it leaves, when they were worked out along the way). Not
    frozen, only never changed: the search makes many, and a frozen
    dataclass sets each field through ``object.__setattr__``."""

    saved: int
    picked: tuple[tuple[int, Outcome], ...]
    key: tuple[object, ...] | None  # None: not worked out yet (see _key_of)
    prices: Prices | None = None


def _no_rows(prices: Prices) -> tuple[()]:
    """The rows a candidate on no line reads."""
    return ()


class _Facts:
    """What the search reads of each candidate again and again: its outcome
    alone and what it saves so, and what sets compare by besides their
    amount (whether it is a coupon, its priority negated, its id); read off
    the candidates once per search (compiled, each read of a candidate's
    field is a generic attribute look-up, ~200 instructions)."""

    def __init__(self, cands: Sequence[Candidate]) -> None:
        self.standalone = [c.standalone for c in cands]
        self.alone = [outcome.amount for outcome in self.standalone]
        self.coupon = [c.is_coupon for c in cands]
        self.priority = [-c.priority for c in cands]
        self.id = [c.id for c in cands]


def _key(facts: _Facts, picked: Sequence[tuple[int, Outcome]]) -> tuple[object, ...]:
    """Smaller is better: most saved, fewest coupons, then higher priorities
    and smaller ids. Each list is closed by a value above all others, so a
    set that holds one more of the highest priority (smallest id) where two
    sets differ wins; that order is additive over disjoint sets."""
    saved = coupons = 0
    priorities: list[int] = []
    ids: list[str] = []
    for i, out in picked:
        saved += out.amount
        if facts.coupon[i]:
            coupons += 1
        priorities.append(facts.priority[i])
        ids.append(facts.id[i])
    priorities.sort()
    ids.sort()
    return (-saved, coupons, (*priorities, _LAST_PRIORITY), (*ids, _LAST_ID))


def _key_of(facts: _Facts, found: _Found) -> tuple[object, ...]:
    """``found``'s key, worked out when first compared: a set that saves
    more than the best so far wins on its amount, and most never meet one
    that saves as much."""
    key = found.key
    if key is None:
        key = found.key = _key(facts, found.picked)
    return key


@dataclass(slots=True)
class _Group:
    """Mutually incompatible candidates: a set holds at most one of them.

    ``places`` are the members' positions (rising); ``tail_max[k]`` the
    largest bound among ``places[k:]``; ``tails[k]`` their bit mask;
    ``by_bound`` the members, largest bound first.
    """

    mask: int
    places: list[int]
    tail_max: list[int]
    tails: list[int]
    by_bound: list[int]


@dataclass(slots=True)
class _Pool:
    """Candidates alone in their exclusive group (each combines with every
    other candidate): what they can add is the sum of their bounds.

    ``places`` are their positions (rising); ``tail_sum[k]`` the sum of the
    bounds of ``places[k:]``; ``tails[k]`` their bit mask; ``first_at[i]``
    the first ``k`` whose place is ``i`` or later (what ``bisect_left``
    would find, kept: ``room()`` asks at every node).
    """

    mask: int
    places: list[int]
    tail_sum: list[int]
    tails: list[int]
    first_at: list[int]


def _exclusive_groups(
    compatible: Sequence[int], alive: int, gains: Sequence[int]
) -> tuple[_Pool, list[_Group]]:
    """Cover the ``alive`` candidates by groups of mutually incompatible ones.

    Candidates with the same compatibility mask are mutually incompatible
    (none is compatible with itself), so they form a group at once; the rest
    join the first group they are incompatible with as a whole. Promotions
    under the default scheme form one group, coupons another. Candidates left
    alone in their group are pooled, so that a bound over many combinable
    candidates is one look-up, not one per candidate.

    A group that can take some members holds none they combine with, so
    only the groups of the candidates they do not combine with are tried
    (under open sharing, a few): with hundreds of candidates that each
    combine with nearly every other, walking every group for each would be
    quadratic (~7 ms at 50,000 live campaigns, 663 candidates).
    """
    by_mask: dict[int, int] = {}
    for i in positions(alive):
        by_mask[compatible[i]] = by_mask.get(compatible[i], 0) | 1 << i
    masks: list[int] = []
    owner: dict[int, int] = {}  # candidate -> its group's place in masks
    for shared, members in sorted(by_mask.items(), key=lambda item: -item[1].bit_count()):
        foes = alive & ~shared & ~members  # the others they do not combine with
        if foes.bit_count() < len(masks):
            tried = sorted({owner[j] for j in positions(foes) if j in owner})
        else:
            tried = list(range(len(masks)))
        for g in tried:  # the first group holding none they combine with
            if not shared & masks[g]:
                masks[g] |= members
                break
        else:
            g = len(masks)
            masks.append(members)
        for j in positions(members):
            owner[j] = g
    alone = 0
    groups = []
    for mask in masks:
        if not mask & (mask - 1):
            alone |= mask
            continue
        places = positions(mask)
        tail_max = [0] * (len(places) + 1)
        tails = [0] * (len(places) + 1)
        for k in range(len(places) - 1, -1, -1):
            tail_max[k] = max(tail_max[k + 1], gains[places[k]])
            tails[k] = tails[k + 1] | 1 << places[k]
        by_bound = sorted(places, key=lambda j: -gains[j])
        groups.append(_Group(mask, places, tail_max, tails, by_bound))
    places = positions(alone)
    tail_sum = [0] * (len(places) + 1)
    tails = [0] * (len(places) + 1)
    for k in range(len(places) - 1, -1, -1):
        tail_sum[k] = tail_sum[k + 1] + gains[places[k]]
        tails[k] = tails[k + 1] | 1 << places[k]
    first_at = [bisect_left(places, i) for i in range(len(compatible) + 1)]
    return _Pool(alone, places, tail_sum, tails, first_at), groups


def _dominated(cands: Sequence[Candidate], compatible: Sequence[int], lines: Sequence[int]) -> int:
    """The candidates that another can always replace (bit mask).

    Candidates with the same compatibility mask are mutually incompatible.
    When none of them shares a line with any candidate that mask allows, a
    set holding one of them gives it its stand-alone amount and changes
    nothing the others read; swapping in another of them keeps the set
    valid. So only the best of them, by stand-alone amount, then as sets
    compare, can be in the best set.
    """
    # only candidates sharing their mask with another can be swapped (most
    # orders' few promotions, and open sharing, give each a mask of its own)
    twins: set[int] = set()
    seen: set[int] = set()
    for mask in compatible:
        if mask in seen:
            twins.add(mask)
        seen.add(mask)
    if not twins:
        return 0
    # who touches each line, so that whether a candidate shares a line with
    # any it combines with costs its own lines, not a walk over all of them
    # (under open sharing each has a mask of its own, nearly everyone)
    on_line: dict[int, int] = {}
    on_all = priced = 0  # candidates on every line; candidates on any line
    for j, mask in enumerate(lines):
        if mask:
            priced |= 1 << j
        if mask < 0:
            on_all |= 1 << j
            continue
        for line in positions(mask):
            on_line[line] = on_line.get(line, 0) | 1 << j
    best: dict[int, int] = {}
    dropped = 0
    for i, c in enumerate(cands):
        mask = compatible[i]
        if mask not in twins:
            continue
        own = lines[i]
        if own < 0:
            near = priced
        else:
            near = on_all if own else 0
            for line in positions(own):
                near |= on_line[line]
        if near & mask:
            continue
        rival = best.get(mask)
        if rival is None:
            best[mask] = i
            continue
        r = cands[rival]
        if (-c.standalone.amount, c.is_coupon, -c.priority, c.id) < (
            -r.standalone.amount,
            r.is_coupon,
            -r.priority,
            r.id,
        ):
            best[mask] = i
            dropped |= 1 << rival
        else:
            dropped |= 1 << i
    return dropped


class _Search:
    """One selection: the candidates, their groups, and the runs spent."""

    def __init__(
        self,
        cands: Sequence[Candidate],
        compatible: Sequence[int],
        budget: int,
        split: bool,
        lines_in_cart: int,
    ) -> None:
        self.cands = cands
        self.facts = _Facts(cands)
        self.compatible = compatible
        self.budget = budget
        self.split_groups = split
        self.runs = 0
        self.bounds_worked = 0  # bounds worked out on a node's prices (see refined_room)
        self.refined_prunes = 0  # nodes those bounds pruned
        self.steps = 0
        self.exact = True
        # a benefit on every line of the cart reads as one on all lines (-1):
        # the bit walks over lines then skip it
        self.every_line = every = (1 << lines_in_cart) - 1
        self.lines = [-1 if c.lines & every == every else c.lines for c in cands]
        self.amounts = [c.bound for c in cands]
        n = len(cands)
        self.alive = ((1 << n) - 1) & ~_dominated(cands, compatible, self.lines)
        # what each can add to a set (one that would take off nothing stays out)
        self.gains = [max(amount, 0) for amount in self.amounts]
        # the groups room() reads, made by group() once a search is needed
        self.pool = _Pool(0, [], [0], [0], [0])
        self.groups: list[_Group] = []
        self._touching: dict[int, int] | None = None  # line -> candidates on it
        self._steady: list[bool | None] = [None] * n
        self._traits: dict[tuple[int, str], bool] = {}
        self._roles = [-1] * n  # see role()
        # (i, what it gives) -> (adding it to any set after it wins, those
        # that alone spoil that), once asked twice; () once asked once
        self._wins: dict[tuple[int, int], tuple[bool, int] | tuple[()]] = {}
        self._reach: dict[int, int] = {}  # candidate -> candidates it interacts with
        self._ran: dict[tuple[int, object], Outcome | Miss] = {}
        # candidate -> what reads its lines' prices out of a node's, when asked
        self._readers: dict[int, Callable[[Prices], object]] = {}
        # (mask, prices' number) -> the best set of mask on them, and the need it was sought with
        self._solved: dict[tuple[int, int], tuple[_Found | None, int]] = {}
        self._numbers: dict[Prices, int] = {}  # prices met -> their number
        self._last: tuple[Prices | None, int] = (None, -1)  # the prices numbered last
        self._met: dict[int, tuple[Prices, int]] = {}  # id -> the prices object, its number
        self._after: dict[tuple[int, int], Prices] = {}  # (prices' number, taken) -> prices
        self.gain_prefix: list[int] = []  # [k]: the gains of the alive ones before k
        self.refinable = 0  # pooled candidates whose bound is refined on a node's prices
        # (candidate, what it reads of the prices: see seen) -> its bound there,
        # by what may still come before it
        self._node_bounds: dict[tuple[int, object], Callable[[int], int]] = {}
        # (candidate, prices' number) -> the bound asked for there, counted once
        # in the budget (asked again at the same node, it is read by two numbers,
        # not by the rows of the candidate's lines)
        self._bound_at: dict[tuple[int, int], Callable[[int], int]] = {}
        # refinable candidate -> those before it that combine with it on a shared line
        self._ahead: dict[int, int] = {}

    # -- bounds ------------------------------------------------------------

    def group(self) -> None:
        """Cover the candidates by exclusive groups, for :meth:`room` (only a
        search reads them: a seed that settles it needs none)."""
        self.pool, self.groups = _exclusive_groups(self.compatible, self.alive, self.gains)
        for j in positions(self.pool.mask):
            c = self.cands[j]
            if c.node_bound is not None and c.bound > c.standalone.amount:
                self.refinable |= 1 << j
        if self.refinable:
            alive = self.alive
            self.gain_prefix = [
                0,
                *itertools.accumulate(
                    gain if alive >> k & 1 else 0 for k, gain in enumerate(self.gains)
                ),
            ]

    def room(self, open_: int, start: int, target: int) -> int:
        """The most the ``open_`` candidates (all at ``start`` or later) could
        add: each exclusive group's largest open bound. Stops once past
        ``target``.

        Groups open from ``start`` on (the usual case: a mask loses members
        only to incompatibility) cost one look-up each, the pooled lone
        candidates one look-up together; otherwise a group's largest open
        bound is its first open member by bound, and the pool subtracts or
        adds whichever of its closed or open members are fewer.
        """
        gains = self.gains
        total = 0
        pool = self.pool
        alone = open_ & pool.mask
        if alone:
            k = pool.first_at[start]
            tail = pool.tails[k]
            if alone == tail:
                total = pool.tail_sum[k]
            else:
                closed = tail & ~alone
                if not closed & (closed - 1):  # one closed (with many live, nearly always)
                    total = pool.tail_sum[k] - gains[closed.bit_length() - 1]
                elif closed.bit_count() < alone.bit_count():
                    total = pool.tail_sum[k] - sum(gains[j] for j in positions(closed))
                else:
                    total = sum(gains[j] for j in positions(alone))
            if total >= target:
                return total
        for group in self.groups:
            members = group.mask & open_
            if not members:
                continue
            k = bisect_left(group.places, start)
            if members == group.tails[k]:
                total += group.tail_max[k]  # open from here on: kept ready
            else:
                for j in group.by_bound:
                    if members >> j & 1:
                        total += gains[j]
                        break
            if total >= target:
                break
        return total

    # -- independent groups -------------------------------------------------

    def reach(self, i: int) -> int:
        """Candidates that may affect ``i`` or be affected by it: those it
        cannot be combined with, and those sharing a line with it."""
        found = self._reach.get(i)
        if found is not None:
            return found
        touching = self._touching
        if touching is None:
            touching = self._touching = {}
            every = 0
            for j in positions(self.alive):
                if self.lines[j] < 0:
                    every |= 1 << j
                    continue
                for line in positions(self.lines[j]):
                    touching[line] = touching.get(line, 0) | 1 << j
            touching[-1] = every
        alive = self.alive
        found = alive & ~self.compatible[i] & ~(1 << i)
        if self.lines[i] < 0:
            found |= alive
        else:
            found |= touching[-1]
            for line in positions(self.lines[i]):
                found |= touching.get(line, 0)
        found &= ~(1 << i)
        self._reach[i] = found
        return found

    def components(self, mask: int) -> list[int]:
        """``mask`` split into groups of candidates that cannot affect each other."""
        parts = []
        while mask:
            low = mask & -mask
            part = todo = low
            while todo:
                bit = todo & -todo
                todo ^= bit
                more = self.reach(bit.bit_length() - 1) & mask & ~part
                part |= more
                todo |= more
                if part == mask:
                    break
            parts.append(part)
            mask &= ~part
        return parts

    # -- takes that need no "leave" ---------------------------------------------

    def steady(self, i: int) -> bool:
        """Whether candidate ``i`` gives its stand-alone amount whatever runs
        before it (worked out once, when first asked)."""
        known = self._steady[i]
        if known is None:
            c = self.cands[i]
            known = c.steady is not None and c.steady() == c.standalone.amount > 0
            self._steady[i] = known
        return known

    def known(self, i: int, trait: str) -> bool:
        """Whether candidate ``i`` has ``trait`` (``fills`` or ``alike``, see
        :class:`Candidate`), worked out once, when first asked."""
        key = (i, trait)
        found = self._traits.get(key)
        if found is None:
            ask: Callable[[], bool] | None = getattr(self.cands[i], trait)
            found = self._traits[key] = ask is not None and ask()
        return found

    def left_needs(self, i: int, mask: int, gave: int) -> int:
        """The candidates after ``i`` that a set of ``mask`` leaving ``i``
        out needs to have a chance, having searched the sets taking it
        (where ``i`` gave ``gave``): 0 when every set without ``i`` does
        worse with ``i`` added.

        Sets ``S`` of the open candidates after ``i`` that combine with it
        are compared with ``S`` plus ``i``. In every such set ``i`` gives
        ``gave`` (only what ran before it, the same for all, counts), and
        it only takes off. Walk the ones after ``i`` whose lines a change
        started by ``i`` can reach, with ``low`` the least that adding
        ``i`` gains so far:

        - one that surely gives its amount loses nothing;
        - while prices with ``i`` stay at or below those without it on every
          line (``i`` only took off; each one since either gave the same
          amount unit by unit or is "alike"), an "alike" one loses at most
          what the prices of its lines went down by, which is at most what
          the set gained so far: the gain stays at least
          ``max(low - its amount, 0)`` and prices stay at or below (a unit
          it frees without ``i`` and not with it has its main at zero with
          ``i``, and no priced side or modifier sharing it that would stay);
        - any other may lose all it could give, and prices may then go
          either way.

        Adding ``i`` wins when the gain is surely positive; or when it is at
        least zero, ``i`` is not a coupon and every one reached gave its
        amount or was "alike" (none drops out): the set with ``i`` then
        saves as much with as many coupons and one more benefit, which the
        sets' order prefers. Then the only sets left to weigh hold one of
        the few after ``i`` that cannot be combined with it (an exclusive
        promotion, say): those and what each combines with.
        """
        later = mask >> (i + 1) << (i + 1)
        apart = later & ~self.compatible[i]
        if apart.bit_count() > 8:
            return later  # too many to help (the default scheme's promotions)
        needed = apart
        for x in positions(apart):
            needed |= self.compatible[x]
        if not later & ~needed:
            return later  # the sets holding one of those are all there are
        if not self.adding_wins(i, later & ~apart, gave):
            return later
        return later & needed

    def adding_wins(self, i: int, others: int, gave: int) -> bool:
        """Whether adding ``i``, giving ``gave``, to any set of ``others``
        (after it, each combining with it) saves more, or as much and wins
        the tie (see :meth:`left_needs`). Fewer others can only help, so
        once asked twice, the answer for all that combine with ``i`` is
        kept, with those that alone spoil it, and only a no is worked out
        again for the set asked.
        """
        key = (i, gave)
        known = self._wins.get(key)
        if known is None:  # asked once: the set asked only (a walk that stops early)
            self._wins[key] = ()
            return self._adding_wins(i, others, gave)
        if not known:  # asked again: worth knowing for all
            after = self.alive >> (i + 1) << (i + 1) & self.compatible[i]
            spoilers = 0
            own = self.lines[i]
            for j in positions(after):
                if self.lines[j] & own and self.amounts[j] >= gave and not self._sure(j):
                    spoilers |= 1 << j  # reached at once, it may lose all of it
            known = self._wins[key] = (self._adding_wins(i, after, gave), spoilers)
        every, spoilers = known
        return every or (not others & spoilers and self._adding_wins(i, others, gave))

    def _sure(self, j: int) -> bool:
        """Whether ``j`` surely gives its amount or frees "alike"."""
        return self.role(j) != _LOSES

    def role(self, j: int) -> int:
        """How ``j`` answers a change before it (see :meth:`left_needs`):
        gives the same unit by unit, gives the same, frees "alike", or may
        lose all; worked out once, when first asked."""
        found = self._roles[j]
        if found < 0:
            if self.steady(j):
                found = _SAME_FILLED if self.known(j, "fills") else _SAME
            else:
                found = _ALIKE if self.known(j, "alike") else _LOSES
            self._roles[j] = found
        return found

    def _adding_wins(self, i: int, others: int, low: int) -> bool:
        """:meth:`adding_wins`, worked out."""
        reached, lines, amounts, roles = self.lines[i], self.lines, self.amounts, self._roles
        below = True  # prices with i at or below those without, line by line
        exchange = not self.cands[i].is_coupon
        for j in positions(others):
            if lines[j] & reached:
                role = roles[j]
                if role < 0:
                    role = self.role(j)
                if role == _SAME:
                    below = False
                elif role == _ALIKE and below:
                    low = max(low - amounts[j], 0)
                elif role != _SAME_FILLED:
                    low -= amounts[j]  # it may lose up to all it could give
                    below = exchange = False
                    if low <= 0:
                        return False
                reached |= lines[j]
        return low > 0 or exchange

    def refined_room(self, open_: int, start: int, prices: Prices, target: int) -> int:
        """:meth:`room`, with the bounds of the open refinable candidates
        worked out again on ``prices``, when that could bring it below
        ``target``; ``target`` itself (no prune) when they are not worked out.
        The search asks only with at most ``_LOOSE`` of them open.

        A bound that counts on earlier benefits zeroing the cheapest units
        ("buy X get Y free" freeing a dearer one) assumes the worst of every
        candidate ahead of it. On a node's prices, the benefits taken have
        done what they did (often to other units), and only the open ones
        ahead of it, combining with it and sharing a line, can still take
        off up to their bounds: the bound there is often a fraction. Kept to
        pooled candidates, whose bounds the room adds up (a group's largest
        would need its members walked). Working one out for new prices
        costs about a run, and is counted as one in the budget once per
        node's prices; it is worked out once per prices of its own lines
        (the nodes a search meets mostly differ elsewhere: at 100 lines, 15
        distinct bounds among 621 asked), and found again for the rest,
        still counted, so that the search's course does not depend on what
        is found again. A search where they seldom prune (many open frees
        that all stay possible, as when every benefit combines) stops
        working them out.
        """
        worked = self.bounds_worked
        if worked >= _TRIAL and self.refined_prunes * _PAYS < worked:
            self.refinable = 0  # this search's loose bounds seldom prune: left as they are
            return target
        if self.spent():
            return target  # (the search stops at its next step)
        total = self.room(open_, start, 1 << 62)
        gains = self.gains
        # the largest first: each worked out can only take off its own bound,
        # so once what the rest could take off cannot bring the total below
        # the target, the rest are not worked out (the loops below add up
        # in compiled code: sum(map(...)) and a sort keyed by a bound method
        # went through a Python call per element)
        refined = positions(open_ & self.refinable)
        left = 0
        for j in refined:
            left += gains[j]
        if len(refined) > 1:
            refined.sort(key=gains.__getitem__, reverse=True)
        number = self.number(prices)
        # what may come before each: the open ones ahead that combine with it
        # on a shared line; with many open, all alive between ``start`` and it
        # (more, so still a bound), from the prefix sums, not a walk for each
        few = open_.bit_count() <= _FEW
        prefix = self.gain_prefix
        for j in refined:
            if total - left >= target:
                return total  # even none of theirs would bring it below the target
            left -= gains[j]
            if few:
                ahead = self._ahead.get(j)
                if ahead is None:
                    ahead = self._ahead[j] = self.ahead_of(j)
                before = 0
                for k in positions(open_ & ahead):
                    before += gains[k]
            else:
                before = prefix[j] - prefix[start]
            at = (j, number)
            bound = self._bound_at.get(at)
            if bound is None:
                if self.spent():
                    return total  # a run's worth each
                self.bounds_worked += 1
                seen = self.seen(j, prices)
                bound = self._node_bounds.get((j, seen))
                if bound is None:
                    make = self.cands[j].node_bound
                    assert make is not None
                    bound = self._node_bounds[j, seen] = make(prices)
                self._bound_at[at] = bound
            found = bound(before)
            if found < gains[j]:
                total -= gains[j] - found
        return total

    def ahead_of(self, j: int) -> int:
        """The alive candidates before ``j`` that can be combined with it and
        share a line with it: what may take off its lines before it runs
        (a mask made once per candidate, so that a node's bound adds up the
        open ones among them instead of walking every open one ahead)."""
        own, compatible, lines = self.lines[j], self.compatible, self.lines
        found = 0
        for k in positions(self.alive & ((1 << j) - 1)):
            if compatible[k] >> j & 1 and lines[k] & own:
                found |= 1 << k
        return found

    # -- runs ----------------------------------------------------------------

    def number(self, prices: Prices) -> int:
        """A number for ``prices``, the same for equal prices: the look-ups
        by prices then hash a pair of numbers, not every line's prices again
        (the same prices object is asked about many times in a row, and
        again and again as the search comes back to a node). A prices
        object met before is known by its identity: hashing prices hashes
        every line's row again (a tuple does not keep its hash), 100 rows
        at 100 lines. The object is held beside its number, so that its
        identity cannot pass to another while the search runs."""
        if prices is self._last[0]:
            return self._last[1]
        found = self._met_number(prices)
        if found is None:
            found = self._numbers.setdefault(prices, len(self._numbers))
            self._met[id(prices)] = (prices, found)
        self._last = (prices, found)
        return found

    def _met_number(self, prices: Prices) -> int | None:
        """The number of this very prices object, if it was numbered."""
        met = self._met.get(id(prices))
        return met[1] if met is not None and met[0] is prices else None

    def seen(self, i: int, prices: Prices) -> object:
        """What candidate ``i`` reads of ``prices``: the rows of its lines
        (one line: its row; more: a tuple of their rows, made in C), or the
        number of the prices for one on every line. Equal for prices equal
        on its lines, so that its runs and bounds are kept by them."""
        mask = self.lines[i]
        if mask < 0:
            return self.number(prices)
        read = self._readers.get(i)
        if read is None:
            rows = positions(mask)
            read = self._readers[i] = itemgetter(*rows) if rows else _no_rows
        return read(prices)

    def outcome(self, i: int, prices: Prices, *, counted: bool) -> Outcome | Miss:
        """What candidate ``i`` gives on ``prices``: run once per distinct
        prices of the lines it reads (a benefit reads only its own lines and
        the engine is pure, so the same prices there give the same outcome).
        A run ``counted`` past the budget is not made: the search then stops
        being exact and the candidate counts as giving nothing."""
        key = (i, self.seen(i, prices))
        known = self._ran.get(key)
        if known is not None:
            return known
        if counted:
            if self.spent():
                self.exact = False
                return _OVER_BUDGET
            self.runs += 1
        found = self.cands[i].run(prices)
        self._ran[key] = found
        return found

    def ran_on(self, i: int, prices: Prices) -> Outcome | Miss | None:
        """What candidate ``i`` gave on ``prices`` if it was run there (or on
        prices equal on its lines), else ``None``; runs nothing."""
        mask = self.lines[i]
        seen: object
        if mask < 0:
            seen = self._met_number(prices)
            if seen is None:
                seen = self._numbers.get(prices)
            if seen is None:
                return None
        else:
            read = self._readers.get(i)
            if read is None:
                return None
            seen = read(prices)
        return self._ran.get((i, seen))

    def spent(self) -> bool:
        """Whether the budget is spent: benefit runs and the bounds worked
        out on a node's prices, which cost about a run each."""
        return self.runs + self.bounds_worked >= self.budget

    def taken(self, i: int, prices: Prices, outcome: Outcome) -> Prices:
        """The prices once candidate ``i`` took ``outcome`` off ``prices``:
        kept, as its outcome there is always the same, so the search's first
        path, which mostly retraces the seed's, makes none of them again."""
        key = (self.number(prices), i)
        after = self._after.get(key)
        if after is None:
            after = self._after[key] = apply(prices, outcome.allocation)
        return after

    # -- the search ----------------------------------------------------------

    def solve(self, mask: int, prices: Prices, dirty: int, need: int, depth: int) -> _Found | None:
        """The best set of ``mask`` on ``prices`` that saves at least ``need``
        (None if none does); ``dirty`` are the lines benefits taken so far
        changed.

        The answer depends on ``mask`` and ``prices`` only (``dirty`` saves
        runs, never changes an outcome), so it is kept: a set found is the
        best of all (the search skips only sets that cannot reach what it
        has), and "none" means none saves ``need``. Different paths often
        meet the same state (a benefit that gave nothing, or one that took
        off where no open benefit reads), which then costs a look-up.
        """
        key = (mask, self.number(prices))
        known = self._solved.get(key)
        if known is not None:
            found, sought = known
            if found is not None:
                return found if found.saved >= need else None
            if need >= sought:
                return None
        found = self._solve(mask, prices, dirty, need, depth)
        self._solved[key] = (found, need)
        return found

    def _solve(self, mask: int, prices: Prices, dirty: int, need: int, depth: int) -> _Found | None:
        """:meth:`solve` without the look-up."""
        if self.split_groups and mask & (mask - 1):
            parts = self.components(mask)
            if len(parts) > 1:
                tops = [self.room(part, (part & -part).bit_length() - 1, 1 << 62) for part in parts]
                total = sum(tops)
                if total < need:
                    return None
                found: list[_Found] = []
                for part, top in zip(parts, tops, strict=True):
                    best = self.search(part, prices, dirty, need - (total - top), depth)
                    if best is None:
                        return None
                    found.append(best)
                picked = tuple(sorted(pair for f in found for pair in f.picked))
                return _Found(sum(f.saved for f in found), picked, None)
        return self.search(mask, prices, dirty, need, depth)

    def search(self, mask: int, prices: Prices, dirty: int, need: int, depth: int) -> _Found | None:
        """Take or leave each candidate of ``mask`` in execution order: taking
        hands what may follow to :meth:`solve`, leaving goes round the loop."""
        compatible, lines, amounts = self.compatible, self.lines, self.amounts
        standalone = self.facts.standalone
        best: _Found | None = _Found(0, (), _key(self.facts, ())) if need <= 0 else None
        target = max(need, 0)  # a set must save at least this to count
        start = 0
        while True:
            rest = mask >> start
            if rest == 0:
                return best
            self.steps += 1
            if self.steps > self.budget * STEPS_PER_RUN or self.spent():
                # nodes without runs count too, more cheaply; and once the runs
                # are spent, a walk on without them (every unrun benefit giving
                # nothing) found no better set on any bounded bench cart while
                # taking 60-75 % of the steps of the 10,000-live searches
                self.exact = False
                return best
            i = start + ((rest & -rest).bit_length() - 1)
            open_ = mask >> i << i
            if self.room(open_, i, target) < target:
                return best  # neither taking nor leaving any of them can do it
            loose = open_ & self.refinable
            if (
                loose
                and self.runs >= _LATE
                and loose.bit_count() <= _LOOSE  # (checked here: most nodes stop at it)
                and self.refined_room(open_, i, prices, target) < target
            ):
                self.refined_prunes += 1
                return best  # nor with the loose bounds worked out on these prices
            after = (mask & compatible[i]) >> (i + 1) << (i + 1)
            if amounts[i] + self.room(after, i + 1, target - amounts[i]) < target:
                start = i + 1
                continue
            outcome: Outcome | Miss
            if not lines[i] & dirty:
                outcome = standalone[i]  # nothing it reads has changed
            elif depth >= DEPTH:
                self.exact = False
                outcome = Miss("budget")
            else:
                outcome = self.outcome(i, prices, counted=True)
            if isinstance(outcome, Outcome) and outcome.amount > 0:
                gave = outcome.amount
                if after and gave + self.room(after, i + 1, target - gave) < target:
                    rest_found = None  # it gave less than its bound: the rest cannot make up
                elif after:
                    rest_found = self.solve(
                        after,
                        self.taken(i, prices, outcome),
                        dirty | lines[i],
                        target - outcome.amount,
                        depth + 1,
                    )
                else:
                    rest_found = _Found(0, (), None) if outcome.amount >= target else None
                saved = -1 if rest_found is None else rest_found.saved + outcome.amount
                if rest_found is not None and (best is None or saved >= best.saved):
                    # the rest all come after i, in order: the set stays sorted
                    picked = ((i, outcome), *rest_found.picked)
                    if best is None or saved > best.saved:
                        best = _Found(saved, picked, None)  # it wins on the amount
                        target = saved
                    else:
                        key = _key(self.facts, picked)
                        if key < _key_of(self.facts, best):
                            best = _Found(saved, picked, key)
                            target = saved
                needs = self.left_needs(i, mask, gave)
                if not needs:
                    return best  # every set leaving it out does worse
                mask = mask & ((2 << i) - 1) | needs  # the others do worse with i
            start = i + 1

    def seed(self, base: Prices) -> _Found:
        """A good set found cheaply, so that the search starts with a target:
        the candidate saving the most alone, with every candidate that
        combines with it and still gives something, in execution order."""
        facts = self.facts
        saves, coupon, priority, ids = facts.alone, facts.coupon, facts.priority, facts.id
        top = -1
        for i in positions(self.alive):
            if top < 0 or (-saves[i], coupon[i], priority[i], ids[i]) < (
                -saves[top],
                coupon[top],
                priority[top],
                ids[top],
            ):
                top = i
        if top < 0:
            return _Found(0, (), _key(facts, ()))
        alone = _Found(saves[top], ((top, facts.standalone[top]),), None)
        around = self.greedy(base, self.compatible[top] | 1 << top, counted=True)
        if around.saved != alone.saved:  # (the keys compare amounts first)
            return around if around.saved > alone.saved else alone
        return around if _key_of(self.facts, around) < _key_of(self.facts, alone) else alone

    def rivals(self, base: Prices, found: _Found, runs: int) -> _Found:
        """``found``, or a better set reached from it by moves that each cost
        a greedy pass, for at most ``runs`` more runs.

        A search stopped by its budget has weighed the sets of the first
        choices it made in execution order, and hardly any of the others:
        at 100 lines it often took a small promotion early (all of its
        budget spent under it) where an incompatible bigger one after it
        would have given more, or kept one whose discount pushed a larger
        one after it below its threshold. Two moves, the likelier first:

        - *swap in* a candidate the set shuts out (one that cannot be
          combined with a member), the largest bound first: the greedy set
          of it, the members it combines with and what they all combine
          with (the set's other choices kept); failing that, of it and
          every candidate it combines with;
        - *leave out* a member ahead of one the set could hold but that
          gave nothing there, on a shared line, where what that one could
          give is more than what the member gave: the greedy set of the
          same candidates without the member.

        The best set seen stays, so the answer never saves less than what
        the search found; it is still reported as bounded.
        """
        cands, gains, compatible, alive, lines = (
            self.cands,
            self.gains,
            self.compatible,
            self.alive,
            self.lines,
        )
        self.budget = self.runs + self.bounds_worked + runs
        best = found
        n = len(cands)
        # swaps keeping the members by candidate, swaps with all it combines
        # with by candidate + n, leave-outs by -1 - member
        tried: set[int] = set()
        while not self.spent():
            held = 0
            open_ = alive  # those every member combines with
            for i, _ in best.picked:
                held |= 1 << i
                open_ &= compatible[i]
            shut = alive & ~open_ & ~held
            moves: list[tuple[int, int, int, int]] = []
            for x in positions(shut):
                within = alive & compatible[x]
                if gains[x] + self.room(within, 0, 1 << 62) <= best.saved:
                    continue
                if x not in tried:  # the members it combines with, and what they all do
                    kept = held & within
                    rest = within
                    for h in positions(kept):
                        rest &= compatible[h]
                    moves.append((2, gains[x], x, kept | rest | 1 << x))
                if x + n not in tried:  # everything it combines with
                    moves.append((1, gains[x], x + n, within | 1 << x))
            # (the few that gave nothing, largest first: the first after a
            # member on one of its lines is what leaving it out could win)
            idle = sorted(positions(open_), key=gains.__getitem__, reverse=True)
            for h, out in best.picked:
                if -1 - h in tried:
                    continue
                for f in idle:
                    if gains[f] <= out.amount:
                        break
                    if f > h and lines[f] & lines[h]:
                        moves.append((0, gains[f] - out.amount, -1 - h, (open_ | held) & ~(1 << h)))
                        break
            if not moves:
                break
            moves.sort(reverse=True)
            for _, _, key, within in moves:
                if self.spent():
                    break
                tried.add(key)
                around = self.greedy(base, within, counted=True)
                if around.saved > best.saved or (
                    around.saved == best.saved
                    and _key_of(self.facts, around) < _key_of(self.facts, best)
                ):
                    best = around
                    break  # moves from the new best
            else:
                break
        return best

    def settled(self, seed: _Found) -> bool:
        """Whether ``seed`` is the answer without a search: it holds every
        open candidate and saves what their bounds add up to.

        Any other set leaves out one of them, each giving something in the
        seed (so its bound is above zero), and saves at most its own bounds
        added up: less. The search would walk that one path, every run on
        it already made for the seed, and find the same set, so the answer,
        the runs and exactness are those of the search; the common case of
        a few promotions that all apply and stack then costs no search. Kept
        to paths the search walks within its depth and step limits.
        """
        taken = len(seed.picked)
        if (
            not self.exact
            or taken != self.alive.bit_count()
            or taken > DEPTH
            or 2 * taken > self.budget * STEPS_PER_RUN
        ):
            return False
        return seed.saved >= sum(self.gains[i] for i, _ in seed.picked)

    def greedy(self, base: Prices, within: int = -1, *, counted: bool = False) -> _Found:
        """Every candidate of ``within`` in execution order that still
        combines and gives (its runs ``counted`` in the budget if asked)."""
        picked: list[tuple[int, Outcome]] = []
        prices, mask, dirty = base, self.alive & within, 0
        for i in positions(mask):
            if not mask >> i & 1:
                continue
            outcome: Outcome | Miss
            if not self.lines[i] & dirty:
                outcome = self.facts.standalone[i]
            else:
                outcome = self.outcome(i, prices, counted=counted)
                if outcome is _OVER_BUDGET:
                    break
            if isinstance(outcome, Outcome) and outcome.amount > 0:
                picked.append((i, outcome))
                prices = self.taken(i, prices, outcome)
                mask &= self.compatible[i]
                dirty |= self.lines[i]
        return _Found(sum(out.amount for _, out in picked), tuple(picked), None, prices)


def select(
    cands: Sequence[Candidate],
    compatible: Sequence[int],
    base: Prices,
    budget: int = BUDGET,
    *,
    split: bool = True,
) -> Selection:
    """Best set of ``cands`` (in execution order); ``compatible[i]`` is the bit
    mask of candidates that may be combined with candidate ``i``.

    ``split=False`` searches every candidate together (the undivided search
    the tests compare the decomposed one with).
    """
    search = _Search(cands, compatible, budget, split, len(base))
    seed = search.seed(base)
    if search.settled(seed):
        best = seed
    else:
        search.group()
        found = search.solve(search.alive, base, 0, seed.saved, 0)
        # the same set found again keeps the seed's record: it has the prices
        best = seed
        if found is not None and _key_of(search.facts, found) < _key_of(search.facts, seed):
            best = found
        if not search.exact:
            greedy = search.greedy(base)
            if _key_of(search.facts, greedy) < _key_of(search.facts, best):
                best = greedy
            best = search.rivals(base, best, max(budget // _RIVAL_SHARE, 1))
    prices = best.prices
    if prices is None:
        prices = base
        for _, out in best.picked:
            prices = apply(prices, out.allocation)
    return Selection(best.picked, prices, search.exact, search.runs, search.ran_on)
