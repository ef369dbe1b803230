"""Every benefit that qualifies for a cart on its own, of every family.

An :class:`Offer` is what the stacking search and the report need to know
about one benefit: its family and place in the execution order, its
stacking rules, what it gives alone, how to run it on other prices, and the
most it could give after others. Gathering them is where the audience,
wallet and threshold checks happen; whatever fails a check is explained.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence

from msgspec import Struct

from pos_promo.engine.audience import Context, check_audience
from pos_promo.engine.compiled import Compiled, compile_audience
from pos_promo.engine.coupons import check_coupon, coupon_bound, coupon_steady, run_coupon
from pos_promo.engine.index import CampaignIndex
from pos_promo.engine.members import member_discount, member_price
from pos_promo.engine.outcome import Miss, Outcome
from pos_promo.engine.qualifying import explain_blocked, explain_miss, qualifying, unknown_plan
from pos_promo.engine.sharing import (
    DEFAULTS,
    FAMILY_RANK,
    Family,
    Rules,
    allows,
    coupon_order,
    promotion_order,
    resolve,
)
from pos_promo.engine.spend_and_save import (
    fills_units,
    frees_alike,
    mains_in_scope,
    node_bound,
    run,
    steady_amount,
    upper_bound,
)
from pos_promo.engine.units import CartView, Prices
from pos_promo.model.common import Sharing
from pos_promo.model.coupon import Coupon, ExecutionOrder
from pos_promo.model.result import NotApplied

__all__ = [
    "Beaten",
    "Offer",
    "bundle_lines",
    "contenders",
    "gather",
]

_LAST = 1 << 30  # place of a benefit the published order does not list


class Offer(Struct, frozen=True, gc=False):
    """One qualifying benefit, ready for the stacking search.

    A struct, not a frozen dataclass: one is made per qualifying benefit
    per evaluation, and a frozen dataclass sets each of its sixteen fields
    through ``object.__setattr__`` (a few microseconds an offer)."""

    id: str
    kind: str
    family: Family
    name: str
    version: int
    priority: int
    rules: Rules
    standalone: Outcome
    run: Callable[[Prices], Outcome | Miss]
    # the most it can give after benefits before it that take off at most the
    # amount it is given
    bound: Callable[[int], int]
    place: tuple[int, int, int, str, str]  # execution order
    template_id: str | None = None
    lines: int = -1  # bit mask of the cart lines it reads or changes (-1: all)
    # what it surely gives after benefits before it that take off at most the
    # amount it is given on its lines (0: not known)
    steady: Callable[[int], int] | None = None
    # whether it takes its amount off units one by one, each part whole
    fills: Callable[[], bool] | None = None
    # whether it loses at most what its lines went down by, after benefits
    # before it that take off at most the amount it is given (see selection)
    alike: Callable[[int], bool] | None = None
    # the most it can give on prices at or below the given ones after others
    # that take off at most the amount given (see selection)
    node_bound: Callable[[Prices], Callable[[int], int]] | None = None
    # whether ``bound`` reads the amount it is given (most promotions, whose
    # tiers save more as they rise and which free nothing, give at most
    # their stand-alone amount after anything): when not, it is not added up
    bound_reads_before: bool = True

    @property
    def sharing_key(self) -> str:
        """The id sharing lists use: the template for a coupon."""
        return self.template_id or self.id


def _fixed(amount: int, _before: int) -> int:
    """A member benefit's bound: it runs first, so it gives what it gives alone."""
    return amount


def _always() -> bool:
    return True


def _unless_before(amount: int, before: int) -> int:
    """Member discount's steady amount: what it gives alone when nothing
    before it touches its lines, else not known (member price changes the
    lines it applies to)."""
    return amount if before <= 0 else 0


def _members(ctx: Context, view: CartView, out: list[Offer]) -> None:
    member = ctx.cart.member
    if member is None:
        return
    base = view.base
    alone = member_price(view, base)
    if isinstance(alone, Outcome):
        out.append(
            Offer(
                "member_price",
                "member_price",
                "member_price",
                "Member price",
                1,
                0,
                DEFAULTS["member_price"],
                alone,
                functools.partial(member_price, view),
                functools.partial(_fixed, alone.amount),
                (FAMILY_RANK["member_price"], 0, 0, "", ""),
                lines=_member_price_lines(view),
                steady=functools.partial(_fixed, alone.amount),  # nothing runs before it
                fills=_always,  # each unit down to its member price
            )
        )
    rate = member.discount_rate_bp
    if rate:
        alone = member_discount(view, base, rate)
        if isinstance(alone, Outcome):
            out.append(
                Offer(
                    "member_discount",
                    "member_discount",
                    "member_discount",
                    f"Member discount {rate / 100:g} %",
                    1,
                    0,
                    DEFAULTS["member_discount"],
                    alone,
                    functools.partial(member_discount, view, rate_bp=rate),
                    functools.partial(_fixed, alone.amount),
                    (FAMILY_RANK["member_discount"], 0, 0, "", ""),
                    # only member price can run before it and change it
                    steady=functools.partial(_unless_before, alone.amount),
                )
            )


def _promotion_offer(
    c: Compiled,
    view: CartView,
    mains: Sequence[int],
    plans: Mapping[str, Sharing],
    places: Mapping[str, int],
) -> Offer:
    rules = _rules(c, plans)
    alone = run(c, view, view.base, mains=mains)
    assert isinstance(alone, Outcome)  # it qualified
    amount = alone.amount
    return Offer(
        c.id,
        c.kind,
        "promotion",
        c.campaign.name,
        c.campaign.version,
        c.priority,
        rules,
        alone,
        _Run(c, view, mains, amount),
        _Bound(c, view, mains, amount),
        (FAMILY_RANK["promotion"], places.get(c.id, _LAST), -c.priority, c.id, ""),
        lines=bundle_lines(view, mains),
        steady=_Steady(c, view, mains, amount),
        fills=_Fills(c, view, mains, amount),
        alike=_Alike(c, view, mains, amount),
        node_bound=_NodeBound(c, view, mains, amount),
        bound_reads_before=c.facts.reads_before,
    )


class _Promotion(Struct, frozen=True, gc=False):
    """One promotion on this cart, as the stacking search asks about it: each
    question a small callable of its own (run, bound, steady, fills, alike,
    node bound), not bound methods or partials.

    Untracked by the garbage collector (``gc=False``): thousands are alive
    while a cart with thousands of live promotions is searched, and tracked
    objects alive that long are what the collector walks again and again
    (each full collection walks every tracked object of the process). They
    hold only the compiled campaign, the cart view, the lines and a number,
    none of which can lead back to them, so no cycle can form through one
    (``tests/test_no_cycles.py`` also checks that repeated evaluations leave
    no memory behind)."""

    campaign: Compiled
    view: CartView
    mains: Sequence[int]
    alone: int


class _Run(_Promotion, frozen=True, gc=False):
    def __call__(self, prices: Prices) -> Outcome | Miss:
        return run(self.campaign, self.view, prices, mains=self.mains)


class _Bound(_Promotion, frozen=True, gc=False):
    def __call__(self, before: int) -> int:
        return upper_bound(self.campaign, self.view, self.mains, self.alone, before)


class _Steady(_Promotion, frozen=True, gc=False):
    def __call__(self, before: int) -> int:
        return steady_amount(self.campaign, self.view, self.mains, self.alone, before)


class _Fills(_Promotion, frozen=True, gc=False):
    def __call__(self) -> bool:
        return fills_units(self.campaign, self.view, self.mains)


class _Alike(_Promotion, frozen=True, gc=False):
    def __call__(self, before: int) -> bool:
        return frees_alike(self.campaign, self.view, self.mains, before)


class _NodeBound(_Promotion, frozen=True, gc=False):
    def __call__(self, prices: Prices) -> Callable[[int], int]:
        return node_bound(self.campaign, self.view, self.mains, prices)


def _rules(c: Compiled, plans: Mapping[str, Sharing]) -> Rules:
    """The promotion's stacking rules: resolved once when it names no plan."""
    rules = c.rules
    if rules is None:
        plan = plans.get(c.campaign.sharing_plan) if c.campaign.sharing_plan else None
        rules = resolve("promotion", c.sharing, plan)
    return rules


def bundle_lines(view: CartView, mains: Sequence[int]) -> int:
    """The lines of ``mains`` and of their sides and modifiers, as a bit mask:
    all a promotion or coupon on those mains reads or changes."""
    masks: dict[int, int] | None = view.memo.get("bundle lines")
    if masks is None:
        masks = view.memo["bundle lines"] = {}
        every = 0
        for main, kids in view.children.items():
            bits = 1 << main
            for child in kids:
                bits |= 1 << child
            masks[main] = bits
            every |= bits
        masks[-1] = every  # every main's (store-wide promotions, most coupons)
    if len(mains) == len(view.mains):
        return masks[-1]
    found = 0
    for main in mains:
        found |= masks[main]
    return found


def _member_price_lines(view: CartView) -> int:
    """The lines member price changes: those with a member price below the price."""
    found = 0
    for index, line in enumerate(view.lines):
        if line.member_unit_price is not None and line.member_unit_price < line.unit_price:
            found |= 1 << index
    return found


def _coupons(
    ctx: Context,
    view: CartView,
    index: CampaignIndex,
    at: dt.datetime,
    plans: Mapping[str, Sharing],
    wallet: Mapping[str, Coupon],
    order: ExecutionOrder | None,
    out: list[Offer],
    not_applied: list[NotApplied],
) -> None:
    cart, base = ctx.cart, view.base
    places = coupon_order(order)
    seen: set[str] = set()
    for coupon_id in cart.coupons:
        if coupon_id in seen:
            not_applied.append(NotApplied(coupon_id, "coupon", "coupon_invalid", cause="duplicate"))
            continue
        seen.add(coupon_id)
        coupon = wallet.get(coupon_id)
        template = index.templates.get(coupon.template_id) if coupon else None
        invalid = check_coupon(coupon_id, coupon, cart, at, template is not None)
        if invalid is not None:
            not_applied.append(
                NotApplied(
                    coupon_id,
                    "coupon",
                    "coupon_invalid",
                    cause=invalid.cause,
                    name=template.name if template else "",
                    params=invalid.params,
                )
            )
            continue
        assert template is not None
        compiled = compile_audience(template, index.store, "coupon")
        blocked = check_audience(compiled, ctx)
        if blocked is None and template.sharing_plan is not None:
            blocked = unknown_plan(template.sharing_plan, plans)
        if blocked is not None:
            not_applied.append(explain_blocked(coupon_id, "coupon", blocked, template.name))
            continue
        mains = mains_in_scope(template.items, view)
        alone = run_coupon(template, view, base, mains=mains)
        if not isinstance(alone, Outcome):
            not_applied.append(explain_miss(coupon_id, "coupon", alone, template.name))
            continue
        plan = plans.get(template.sharing_plan) if template.sharing_plan else None
        out.append(
            Offer(
                coupon_id,
                "coupon",
                "coupon",
                template.name,
                template.version,
                template.priority,
                resolve("coupon", template.sharing, plan),
                alone,
                functools.partial(run_coupon, template, view, mains=mains),
                functools.partial(coupon_bound, template, view, mains, alone.amount),
                (
                    FAMILY_RANK["coupon"],
                    places.get(template.id, _LAST),
                    -template.priority,
                    template.id,
                    coupon_id,
                ),
                template.id,
                bundle_lines(view, mains),
                functools.partial(coupon_steady, template, view, mains, alone.amount),
            )
        )


def gather(
    ctx: Context,
    view: CartView,
    index: CampaignIndex,
    at: dt.datetime,
    plans: Mapping[str, Sharing],
    wallet: Mapping[str, Coupon],
    order: ExecutionOrder | None,
    not_applied: list[NotApplied],
) -> list[Offer]:
    """Every benefit that qualifies alone, in execution order; the rest
    explained: :func:`contenders` leaving none out (what the tests weigh
    every set of)."""
    return contenders(ctx, view, index, at, plans, wallet, order, not_applied, prune=False)[0]


class Beaten(Struct, frozen=True):
    """The qualifying promotions that cannot be in the best set, left out
    before the search, column by column: each combines with no other
    promotion and no coupon, and what it can give after the member benefits
    it combines with, with theirs, stays below what the best benefit gives
    alone. Explained as lost to the set chosen without them; kept to a few
    facts, as most of the many qualifying promotions under the default
    scheme are such."""

    compiled: list[Compiled]
    saves: list[int]  # what each gives alone
    members: list[int]  # bit mask of the member offers (by index) each combines with


def contenders(
    ctx: Context,
    view: CartView,
    index: CampaignIndex,
    at: dt.datetime,
    plans: Mapping[str, Sharing],
    wallet: Mapping[str, Coupon],
    order: ExecutionOrder | None,
    not_applied: list[NotApplied],
    *,
    prune: bool = True,
) -> tuple[list[Offer], Beaten]:
    """:func:`gather`, less the promotions that cannot be in the best set.

    Those are the ones the stacking search's pruning would drop first (see
    ``evaluate._select_among_winners``): their bound, with the bounds of all
    they combine with, is below the best stand-alone amount. Only
    promotions whose rule for promotions is ``none`` and carts without a
    qualifying coupon are considered, so that nothing left in has a bound
    or steady amount that counts a left-out one (nothing runs after them
    that they combine with). They are not made offers at all: one Offer
    and its runners per promotion is most of the cost with many live.
    ``prune=False`` leaves none out.
    """
    offers: list[Offer] = []
    _members(ctx, view, offers)
    found = qualifying(ctx, view, index, plans, not_applied)
    if ctx.cart.coupons:
        _coupons(ctx, view, index, at, plans, wallet, order, offers, not_applied)
    places = promotion_order(order)
    beaten = Beaten([], [], [])
    if not prune or any(offer.family == "coupon" for offer in offers):
        for c, mains in zip(found.compiled, found.mains, strict=True):
            offers.append(_promotion_offer(c, view, mains, plans, places))
    else:
        floor = max((*(offer.standalone.amount for offer in offers), *found.saves), default=0)
        members = list(offers)  # only member offers so far
        # the member offers' bounds added up, by the set of them (few sets)
        theirs_by: dict[int, int] = {}
        for c, mains, saves, most in zip(
            found.compiled, found.mains, found.saves, found.most, strict=True
        ):
            rules = c.rules if c.rules is not None else _rules(c, plans)
            if rules.promotions.mode == "none":
                combines, bound = 0, saves
                for k, m in enumerate(members):
                    if allows(rules, m.family, m.sharing_key) and allows(
                        m.rules, "promotion", c.id
                    ):
                        combines |= 1 << k
                if combines:
                    theirs = theirs_by.get(combines, -1)
                    if theirs < 0:
                        theirs = theirs_by[combines] = sum(
                            m.bound(0) for k, m in enumerate(members) if combines >> k & 1
                        )
                    # its bound is at most its largest saving (freeing units: all it
                    # reaches): the exact one only if needed
                    if most < 0 or most + theirs >= floor:
                        bound = upper_bound(c, view, mains, saves, 0) + theirs
                    else:
                        bound = most + theirs
                if _cannot_win(bound, floor):
                    beaten.compiled.append(c)
                    beaten.saves.append(saves)
                    beaten.members.append(combines)
                    continue
            offers.append(_promotion_offer(c, view, mains, plans, places))
    offers.sort(key=lambda offer: offer.place)
    return offers, beaten


def _cannot_win(bound: int, floor: int) -> bool:
    """Whether a promotion that, with all it combines with, saves at most
    ``bound`` is in no best set when one benefit alone saves ``floor``.
    (Tests replace it to compare with the search over every promotion.)"""
    return bound < floor
