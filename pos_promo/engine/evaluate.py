"""One cart against the campaign index: the whole answer, and nothing written.

Pure: the instant, the store, the member's counts and the sharing plans all
come in as arguments; the same inputs give the same result whatever the
order of lines or campaigns.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Callable, Mapping
from operator import attrgetter

import msgspec
from msgspec import Struct

from pos_promo.codec import load_zone
from pos_promo.engine.audience import Blocked, Context, check_audience
from pos_promo.engine.clock import LocalMoment, local_moment
from pos_promo.engine.compiled import Compiled
from pos_promo.engine.index import CampaignIndex
from pos_promo.engine.masks import positions
from pos_promo.engine.offers import Beaten, Offer, contenders
from pos_promo.engine.outcome import Miss, Outcome
from pos_promo.engine.qualifying import explain_miss, unknown_plan
from pos_promo.engine.selection import Candidate, Selection, select
from pos_promo.engine.sharing import Rules, allows
from pos_promo.engine.spend_and_save import eligible_mains, run
from pos_promo.engine.units import CartView, Prices, apply, view_cart
from pos_promo.errors import InvalidCart
from pos_promo.model.cart import Cart, MemberCounts
from pos_promo.model.common import Sharing
from pos_promo.model.coupon import Coupon, ExecutionOrder
from pos_promo.model.result import (
    Applied,
    BenefitShare,
    EvaluationResult,
    LineResult,
    NotApplied,
)

__all__ = ["assess", "evaluate", "explain", "won_on"]

NO_COUNTS = MemberCounts()
NO_ITEMS = Miss("no_eligible_items")


class _Setup(Struct, frozen=True):
    ctx: Context
    view: CartView
    plans: Mapping[str, Sharing]


def _setup(
    cart: Cart,
    index: CampaignIndex,
    at: dt.datetime | None,
    counts: MemberCounts | None,
    plans: Mapping[str, Sharing] | None,
    now: LocalMoment | None = None,
) -> _Setup:
    instant = at or cart.at
    if instant is None:
        raise InvalidCart("$.at", "is required: the engine never reads the clock, pass the instant")
    if instant.tzinfo is None:
        raise InvalidCart("$.at", "must carry a UTC offset", instant.isoformat())
    if cart.store_id != index.store.id:
        raise InvalidCart(
            "$.store_id", f"must be this engine's store {index.store.id!r}", cart.store_id
        )
    zone = load_zone(index.store.timezone)
    if now is None or now.zone is not zone or now.instant != _to_second(instant):
        now = local_moment(instant, zone)
    participations = (counts or NO_COUNTS).participations
    return _Setup(Context(cart, index.store, now, participations), view_cart(cart), plans or {})


def _to_second(instant: dt.datetime) -> dt.datetime:
    """``instant`` in UTC, truncated to the second, as :class:`LocalMoment` keeps it
    (a till's instants are mostly whole seconds already: nothing to replace)."""
    utc = instant.astimezone(dt.UTC)
    return utc.replace(microsecond=0) if utc.microsecond else utc


def assess(c: Compiled, setup: _Setup, prices: Prices) -> Blocked | Miss | Outcome:
    """One campaign on its own: blocked by audience, missing, or what it gives."""
    blocked = check_audience(c, setup.ctx)
    if blocked is None and c.campaign.sharing_plan is not None:
        blocked = unknown_plan(c.campaign.sharing_plan, setup.plans)
    if blocked is not None:
        return blocked
    mains = eligible_mains(c, setup.view)
    if not mains:
        return Miss("no_eligible_items")
    return run(c, setup.view, prices, mains=mains)


def _explained(c: Compiled, verdict: Blocked | Miss) -> NotApplied:
    if isinstance(verdict, Blocked):
        return NotApplied(
            c.id,
            c.kind,
            verdict.reason,  # type: ignore[arg-type]
            name=c.campaign.name,
            params=verdict.params,
            slots=verdict.slots,
        )
    return explain_miss(c.id, c.kind, verdict, c.campaign.name)


def evaluate(
    cart: Cart,
    index: CampaignIndex,
    *,
    at: dt.datetime | None = None,
    counts: MemberCounts | None = None,
    plans: Mapping[str, Sharing] | None = None,
    wallet: Mapping[str, Coupon] | None = None,
    order: ExecutionOrder | None = None,
    now: LocalMoment | None = None,
) -> EvaluationResult:
    """Evaluate ``cart`` at the instant ``at`` (default: ``cart.at``).

    ``counts`` are the member's participations, ``plans`` the sharing plans
    HQ published (id -> settings), ``wallet`` the wallet entries of the
    coupons the cart presents, ``order`` HQ's execution order. ``now`` is
    that instant on the store's clock when the caller has worked it out
    already (a till does, for the day of the counts); one for another
    instant or zone is ignored.
    """
    setup = _setup(cart, index, at, counts, plans, now)
    view, currency = setup.view, index.store.currency
    instant = at or cart.at
    assert instant is not None  # _setup refused a cart without one
    not_applied: list[NotApplied] = []
    offers, beaten = contenders(
        setup.ctx, view, index, instant, setup.plans, wallet or {}, order, not_applied
    )
    compatible = _compatibility(offers)
    # member offers that combine with a left-out promotion: as in the search
    # over every promotion, they are not alone
    with_beaten = 0
    for combines in beaten.members:
        with_beaten |= combines
    cands: list[Candidate] = []
    members = 0  # member benefits: counted in zero_cost, not in what is ahead
    ahead_of = _Ahead(len(view.lines))
    for i, offer in enumerate(offers):
        if offer.family in ("member_price", "member_discount"):
            members |= 1 << i
        # alone (combining with nothing, here or left out) it runs first and
        # gives exactly that
        if not compatible[i] and not with_beaten >> i & 1:
            cands.append(_candidate(offer, offer.standalone.amount, None, None))
            continue
        # what the others ahead of it on its lines can take off: after them it
        # may give more than alone, by at most that
        everyone = compatible[i] & ahead_of.touching(offer.lines)
        mine = everyone & members
        # what the others ahead take off, added up only when read: by its
        # bound when that reads it, else only if the search asks whether it
        # surely gives its amount or frees "alike" (with hundreds combining,
        # each sum walks hundreds of them)
        taken = _Later.of(ahead_of, everyone & ~members)
        bound = offer.bound(taken() if offer.bound_reads_before else 0)
        steady: Callable[[], int] | None = None
        alike: Callable[[], bool] | None = None
        if offer.steady is not None:
            steady = _SteadyAfter(offer.steady, taken, _sum_bounds(cands, mine))
        if offer.alike is not None:
            alike = _AlikeAfter(offer.alike, taken)
        cands.append(_candidate(offer, bound, steady, alike))
        ahead_of.add(i, offer.lines, cands[-1].bound)
    chosen = _select_among_winners(cands, compatible, view.base)
    _explain_left_out(offers, compatible, chosen, view, not_applied)
    if beaten.compiled:
        _explain_beaten(beaten, offers, chosen, view, not_applied)
    applied = tuple(
        Applied(
            offers[i].id,
            offers[i].kind,
            offers[i].name,
            out.amount,
            version=offers[i].version,
            tier=out.tier or None,
            capped=out.capped,
            template_id=offers[i].template_id,
        )
        for i, out in chosen.picked
    )
    lines, subtotal, discount = _line_results(
        view, chosen.prices, [(offers[i].id, out) for i, out in chosen.picked]
    )
    return EvaluationResult(
        order_id=cart.order_id,
        store_id=cart.store_id,
        at=instant,
        currency=currency,
        subtotal=subtotal,
        total_discount=discount,
        total=subtotal - discount,
        lines=lines,
        applied=applied,
        not_applied=tuple(sorted(not_applied, key=attrgetter("id"))),
        selection="exact" if chosen.exact else "bounded",
    )


def _select_among_winners(cands: list[Candidate], compatible: list[int], base: Prices) -> Selection:
    """:func:`select` over the candidates that can be in the best set.

    Any set holding a candidate is made of it and some it combines with, so
    it saves at most their bounds added up; and a set of one is always a
    valid set. A candidate whose bound, with the bounds of all it may be
    combined with, stays below the best stand-alone amount is in no best
    set, and is left out of the search (again, until none is: leaving one
    out lowers the others' sums). Under the default scheme that leaves few
    of the many promotions that exclude each other. The result is the one
    the whole search gives; the left-out ones are explained as before, from
    the chosen set.
    """
    floor = max((c.standalone.amount for c in cands), default=0)
    alive = everyone = (1 << len(cands)) - 1
    alive_total = sum(c.bound for c in cands)
    changed = True
    while changed:  # what a left-out one could add to the others goes too
        changed = False
        # bounds added up, by the set of candidates: many share the set they
        # combine with (the promotions of the default scheme, the coupons),
        # or that set with themselves (under open sharing, nearly everyone)
        sums: dict[int, int] = {}
        for i in positions(alive):
            bit = 1 << i
            theirs = compatible[i] & alive  # (none combines with itself)
            total = sums.get(theirs)
            if total is not None:
                total += cands[i].bound
            else:
                total = sums.get(theirs | bit)
                if total is None:
                    rest = alive & ~theirs  # under open sharing, it alone or a few
                    if rest.bit_count() < theirs.bit_count():
                        sums[theirs] = alive_total - _sum_bounds(cands, rest)
                    else:
                        sums[theirs] = _sum_bounds(cands, theirs)
                    total = sums[theirs | bit] = sums[theirs] + cands[i].bound
            if total < floor:
                alive &= ~(1 << i)
                alive_total -= cands[i].bound
                changed = True
    if alive == everyone:
        return select(cands, compatible, base)
    keep = positions(alive)
    renumber = {old: new for new, old in enumerate(keep)}
    kept_all = (1 << len(keep)) - 1
    sub_compatible = []
    for k, i in enumerate(keep):
        mine = compatible[i] & alive
        rest = alive & ~mine & ~(1 << i)
        mask = 0
        if rest.bit_count() < mine.bit_count():  # renumber the few it does not combine with
            for j in positions(rest):
                mask |= 1 << renumber[j]
            mask = kept_all & ~mask & ~(1 << k)
        else:
            for j in positions(mine):
                mask |= 1 << renumber[j]
        sub_compatible.append(mask)
    chosen = select([cands[i] for i in keep], sub_compatible, base)

    def known(i: int, prices: Prices) -> Outcome | Miss | None:
        k = renumber.get(i)
        return None if k is None else chosen.known(k, prices)

    return Selection(
        tuple((keep[k], out) for k, out in chosen.picked),
        chosen.prices,
        chosen.exact,
        chosen.runs,
        known,
    )


def _candidate(
    offer: Offer,
    bound: int,
    steady: Callable[[], int] | None,
    alike: Callable[[], bool] | None,
) -> Candidate:
    return Candidate(
        offer.id,
        offer.priority,
        offer.family == "coupon",
        offer.standalone,
        offer.run,
        bound,
        offer.lines,
        steady,
        offer.fills,
        alike,
        offer.node_bound,
    )


class _Ahead:
    """The candidates that combine with some other, as they are added in
    execution order: which touch each line, and their bounds added up.

    What may run ahead of a candidate on its lines is looked up line by line
    (a few mask unions), not by walking every candidate before it, and the
    sum of their bounds is the running total less the few left out, when
    those are fewer: under sharing rules open to all, ahead of the k-th open
    promotion are nearly all k - 1 before it.
    """

    def __init__(self, lines: int) -> None:
        self.every_line = (1 << lines) - 1
        self.on_line = [0] * lines
        self.on_all = 0  # those on every line
        self.seen = 0
        self.total = 0
        self.bound: dict[int, int] = {}

    def touching(self, lines: int) -> int:
        """Those added so far that share a line with ``lines``."""
        if lines < 0 or lines == self.every_line:
            return self.seen
        if not lines:
            return 0
        found = self.on_all
        for line in positions(lines):
            found |= self.on_line[line]
        return found

    def add(self, i: int, lines: int, bound: int) -> None:
        bit = 1 << i
        self.seen |= bit
        self.total += bound
        self.bound[i] = bound
        if lines < 0 or lines == self.every_line:
            self.on_all |= bit
        else:
            for line in positions(lines):
                self.on_line[line] |= bit


class _Later(Struct, gc=False):
    """The bounds of ``mask`` (candidates added to ``ahead`` so far) added
    up when first asked, as :func:`_added_up` would have added them up
    when it was made: the sum of the few in the mask, or the total then
    less the few outside it (later candidates outside it are not walked).

    Untracked by the garbage collector, like the offers' callables (see
    ``offers._Promotion``): it holds the bounds by candidate and numbers."""

    bound: dict[int, int]  # (an added candidate's bound never changes)
    mask: int
    rest: int
    total: int
    value: int = -1

    @classmethod
    def of(cls, ahead: _Ahead, mask: int) -> _Later:
        """The sum of ``mask``'s bounds, as ``ahead`` stands now."""
        return cls(ahead.bound, mask, ahead.seen & ~mask, ahead.total)

    def __call__(self) -> int:
        if self.value < 0:
            self.value = _added_up(self.bound, self.mask, self.rest, self.total)
        return self.value


def _added_up(bound: dict[int, int], mask: int, rest: int, total: int) -> int:
    """The bounds of ``mask`` added up, by walking the fewer of ``mask`` and
    ``rest`` (the others added, whose bounds with ``mask``'s make ``total``)."""
    if rest.bit_count() < mask.bit_count():
        return total - sum(bound[i] for i in positions(rest))
    return sum(bound[i] for i in positions(mask))


class _SteadyAfter(Struct, frozen=True, gc=False):
    """What a candidate surely gives after the others ``ahead`` of it and
    member benefits whose bounds add up to ``members``. (The sum, not the
    candidates: a candidate list held here would hold this candidate.)
    Untracked, as :class:`_Later`."""

    steady: Callable[[int], int]
    ahead: _Later
    members: int

    def __call__(self) -> int:
        return self.steady(self.ahead() + self.members)


class _AlikeAfter(Struct, frozen=True, gc=False):
    """Whether a candidate frees "alike" after the others ``ahead`` of it."""

    alike: Callable[[int], bool]
    ahead: _Later

    def __call__(self) -> bool:
        return self.alike(self.ahead())


def _sum_bounds(cands: list[Candidate], mask: int) -> int:
    """The bounds of the candidates in ``mask`` added up."""
    return sum(cands[i].bound for i in positions(mask))


def _explain_left_out(
    offers: list[Offer],
    compatible: list[int],
    chosen: Selection,
    view: CartView,
    not_applied: list[NotApplied],
) -> None:
    """Why each qualifying benefit is not in the chosen set: the applied one it
    cannot be combined with (and why that one won), or how it fares on the
    prices those ahead of it left, or that the best set simply does better
    without it."""
    picked = dict(chosen.picked)
    if len(picked) == len(offers):
        return  # every one applied (the prices after each are not needed)
    taken = 0
    for j in picked:
        taken |= 1 << j
    # the prices after each applied benefit, in execution order: worked out
    # only for one that combines with every applied one (most lose to one)
    order = sorted(picked)
    after: list[Prices] = []
    for i, offer in enumerate(offers):
        if i in picked:
            continue
        rivals = taken & ~compatible[i]
        if rivals:
            rival = (rivals & -rivals).bit_length() - 1  # the first in execution order
            winner = offers[rival]
            not_applied.append(
                NotApplied(
                    offer.id,
                    offer.kind,
                    "not_shareable",
                    lost_to=winner.id,
                    name=offer.name,
                    params={
                        "lost_to_name": winner.name,
                        "lost_to_kind": winner.kind,
                        "won_on": won_on(
                            winner, picked[rival].amount, offer, alone=rivals.bit_count() == 1
                        ),
                        "saves": offer.standalone.amount,
                        "winner_saves": picked[rival].amount,
                    },
                )
            )
            continue
        # the prices the benefits ahead of it in execution order left
        if not after:
            prices = view.base
            for j in order:
                prices = apply(prices, picked[j].allocation)
                after.append(prices)
        ahead = bisect_left(order, i)
        before = after[ahead - 1] if ahead else view.base
        # (the search mostly ran it there already: the seed's path is the set's)
        outcome = chosen.known(i, before)
        if outcome is None:
            outcome = offer.run(before)
        if not isinstance(outcome, Outcome):  # a Miss
            explained = explain_miss(offer.id, offer.kind, outcome, offer.name)
            params = {**explained.params, "after": "discounts_before"}
            not_applied.append(msgspec.structs.replace(explained, params=params))
        else:
            not_applied.append(NotApplied(offer.id, offer.kind, "not_best", name=offer.name))


def _explain_beaten(
    beaten: Beaten,
    offers: list[Offer],
    chosen: Selection,
    view: CartView,
    not_applied: list[NotApplied],
) -> None:
    """:func:`_explain_left_out` for the promotions left out before the
    search: each combines only with some member benefits (the first
    offers), so what it lost to is the first applied benefit that is not
    one of those; if there is none, it runs after all applied ones."""
    picked = dict(chosen.picked)
    order = sorted(picked)
    after: Prices | None = None
    lost: dict[int, tuple[Offer, int, str, str, bool]] = {}  # by the members it combines with
    for c, saves, combines in zip(beaten.compiled, beaten.saves, beaten.members, strict=True):
        rivals = lost.get(combines)
        if rivals is None:
            found = [j for j in order if not combines >> j & 1]
            if found:
                winner = offers[found[0]]
                rivals = lost[combines] = (
                    winner,
                    picked[found[0]].amount,
                    winner.name,
                    winner.kind,
                    len(found) == 1,
                )
        if rivals is not None:
            winner, winner_saves, winner_name, winner_kind, alone = rivals
            not_applied.append(
                NotApplied(
                    c.id,
                    c.kind,
                    "not_shareable",
                    lost_to=winner.id,
                    name=c.campaign.name,
                    params={
                        "lost_to_name": winner_name,
                        "lost_to_kind": winner_kind,
                        # (most lose on what they save: said without a call)
                        "won_on": "saves_more"
                        if winner_saves > saves
                        else _won_on(
                            winner, winner_saves, saves, c.priority, loser_coupon=False, alone=alone
                        ),
                        "saves": saves,
                        "winner_saves": winner_saves,
                    },
                )
            )
            continue
        if after is None:  # every applied one runs before it (member benefits run first)
            after = view.base
            for j in order:
                after = apply(after, picked[j].allocation)
        outcome = run(c, view, after, mains=eligible_mains(c, view))
        if not isinstance(outcome, Outcome):  # a Miss
            explained = explain_miss(c.id, c.kind, outcome, c.campaign.name)
            params = {**explained.params, "after": "discounts_before"}
            not_applied.append(msgspec.structs.replace(explained, params=params))
        else:
            not_applied.append(NotApplied(c.id, c.kind, "not_best", name=c.campaign.name))


def won_on(winner: Offer, winner_saves: int, loser: Offer, *, alone: bool = True) -> str:
    """Why ``winner`` was applied rather than ``loser``, which it cannot be
    combined with: the selection's own order of comparison (most saved,
    fewest coupons, higher priority, smaller id), or ``combination`` when
    the loser would have saved at least as much but the set around the
    winner saves more (the loser also excludes others that were applied, or
    it alone saves more than the winner)."""
    return _won_on(
        winner,
        winner_saves,
        loser.standalone.amount,
        loser.priority,
        loser_coupon=loser.family == "coupon",
        alone=alone,
    )


def _won_on(
    winner: Offer, winner_saves: int, saves: int, priority: int, *, loser_coupon: bool, alone: bool
) -> str:
    """:func:`won_on` from the loser's facts: what it saves alone, its
    priority, whether it is a coupon."""
    if winner_saves > saves:
        return "saves_more"
    if winner_saves < saves or not alone:
        return "combination"
    if loser_coupon and winner.family != "coupon":
        return "fewer_coupons"
    if winner.priority > priority:
        return "priority"
    return "id"


def _compatibility(offers: list[Offer]) -> list[int]:
    """For each offer, the bit mask of the others it may be combined with.

    Two combine only if neither forbids the other. Promotions whose rule for
    promotions is ``none`` (the default) combine with no promotion, so only
    the open ones are compared with each other; member benefits and coupons
    are few and compared with everything.
    """
    n = len(offers)
    masks = [0] * n

    def both(i: int, j: int) -> bool:
        a, b = offers[i], offers[j]
        return allows(a.rules, b.family, b.sharing_key) and allows(b.rules, a.family, a.sharing_key)

    promos = [i for i, offer in enumerate(offers) if offer.family == "promotion"]
    _open_promotions(offers, promos, masks)
    others = [i for i, offer in enumerate(offers) if offer.family != "promotion"]
    # promotions with equal rules let the same benefits in: asked once per rules
    every_promo = 0
    by_rules: dict[Rules, int] = {}
    for j in promos if others else ():
        every_promo |= 1 << j
        rules = offers[j].rules
        by_rules[rules] = by_rules.get(rules, 0) | 1 << j
    for x, i in enumerate(others):
        for j in others[x + 1 :]:
            if both(i, j):
                masks[i] |= 1 << j
                masks[j] |= 1 << i
        a = offers[i]
        mode = a.rules.promotions.mode
        if mode == "none" or not every_promo:
            continue
        letting_in = 0  # the promotions that let ``a`` join them
        for rules, group in by_rules.items():
            if allows(rules, a.family, a.sharing_key):
                letting_in |= group
        if mode != "all":  # and that ``a`` lets join it, asked of each only then
            for j in positions(letting_in):
                if not allows(a.rules, "promotion", offers[j].id):
                    letting_in &= ~(1 << j)
        masks[i] |= letting_in
        bit = 1 << i
        for j in positions(letting_in):
            masks[j] |= bit
    return masks


def _open_promotions(offers: list[Offer], promos: list[int], masks: list[int]) -> None:
    """Mark which open promotions (rule for promotions ``all`` or
    ``all_except``) combine with each other, in ``masks``.

    Without comparing every pair: an open promotion combines with every
    other open one except those its list names and those whose list names
    it, so the work follows the lists, not the square of the promotions.
    """
    place: dict[str, int] = {}
    every = 0
    for i in promos:
        if offers[i].rules.promotions.mode != "none":
            place[offers[i].id] = i
            every |= 1 << i
    if not every & (every - 1):
        return  # fewer than two
    named_by = dict.fromkeys(place.values(), 0)  # i -> the open ones whose list names i
    for i in place.values():
        rule = offers[i].rules.promotions
        if rule.mode == "all_except":
            for other in rule.except_ids:
                j = place.get(other)
                if j is not None:
                    named_by[j] |= 1 << i
    for i in place.values():
        rule = offers[i].rules.promotions
        mask = every & ~(1 << i) & ~named_by[i]
        if rule.mode == "all_except":
            for other in rule.except_ids:
                j = place.get(other)
                if j is not None:
                    mask &= ~(1 << j)
        masks[i] |= mask


def _line_results(
    view: CartView, prices: Prices, outcomes: list[tuple[str, Outcome]]
) -> tuple[tuple[LineResult, ...], int, int]:
    """Every line after the applied benefits, with the cart's subtotal and discount.

    A line's benefit shares are in execution order; only the lines some
    benefit touched are looked up (most lines of a big cart are not).
    """
    shares: dict[int, list[BenefitShare]] = {}
    for benefit_id, out in outcomes:
        sums: dict[int, int] = {}
        for (li, _unit), v in out.allocation.items():
            sums[li] = sums.get(li, 0) + v
        for li, amount in sums.items():
            if amount:
                shares.setdefault(li, []).append(BenefitShare(benefit_id, amount))
    base = view.base
    results = []
    cart_subtotal = cart_discount = 0
    zeros: dict[int, tuple[int, ...]] = {}  # untouched lines of one quantity share their units
    for index, line in enumerate(view.lines):
        nets = prices[index]
        quantity = line.quantity
        price = line.unit_price
        subtotal = price * quantity
        cart_subtotal += subtotal
        # untouched by every benefit, no share either: the very row, or an
        # equal one the search rebuilt (most lines of a big cart, all worked
        # out below to zeros and no share)
        if nets is base[index] or (nets == base[index] and index not in shares):
            units = zeros.get(quantity)
            if units is None:
                units = zeros[quantity] = (0,) * quantity
            results.append(
                LineResult(line.line_id, line.item_id, quantity, subtotal, 0, subtotal, (), units)
            )
            continue
        units = tuple([price - net for net in nets])
        discount = sum(units)
        cart_discount += discount
        results.append(
            LineResult(
                line.line_id,
                line.item_id,
                quantity,
                subtotal,
                discount,
                subtotal - discount,
                tuple(shares.get(index, ())),
                units,
            )
        )
    return tuple(results), cart_subtotal, cart_discount


def explain(
    cart: Cart,
    index: CampaignIndex,
    campaign_id: str,
    *,
    at: dt.datetime | None = None,
    counts: MemberCounts | None = None,
    plans: Mapping[str, Sharing] | None = None,
    wallet: Mapping[str, Coupon] | None = None,
    order: ExecutionOrder | None = None,
) -> Applied | NotApplied:
    """Why one campaign, any campaign, does or does not apply to ``cart``.

    For a campaign the cart can touch (every one :func:`evaluate` considers,
    store-wide ones and those the cart names, coupons included) the answer
    is exactly evaluate's verdict with the same counts, wallet, plans,
    execution order and instant: applied with its amount, or its reason
    (a limit reached, lost to a better combination, ...). For any other
    campaign (an item the cart does not hold, another store's, an archived
    one) it says why it cannot touch the cart, so a big campaign set does
    not make every evaluation slow (SPEC §8).
    """
    result = evaluate(cart, index, at=at, counts=counts, plans=plans, wallet=wallet, order=order)
    for applied in result.applied:
        if applied.id == campaign_id:
            return applied
    for missed in result.not_applied:
        if missed.id == campaign_id:
            return missed
    c = index.compiled(campaign_id)
    if c is None:
        from pos_promo.errors import UnknownCampaign

        raise UnknownCampaign(campaign_id)
    setup = _setup(cart, index, at, counts, plans)
    verdict = assess(c, setup, setup.view.base)
    if isinstance(verdict, Outcome):  # not met: evaluate considers all that can give
        return Applied(
            c.id,
            c.kind,
            c.campaign.name,
            verdict.amount,
            version=c.campaign.version,
            tier=verdict.tier,
            capped=verdict.capped,
        )
    return _explained(c, verdict)
