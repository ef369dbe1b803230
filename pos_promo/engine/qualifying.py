"""The promotions a cart reaches that give something on their own; the others
explained.

This is the pass every evaluation makes over every Spend & Save campaign
that could touch the cart: hundreds with many live, most of them stopped by
the audience checks or below their first tier, and about half the time of
an evaluation that needs little search (a 30-line cart with a thousand
live). It is compiled with the search (see ``pos_promo.native``) and reads
each campaign's :class:`~pos_promo.engine.promotion_facts.PromotionFacts`:
compiled, a read of the compiled campaign struct's own fields is a generic
look-up, and compiling the loop as it was read them no faster than Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pos_promo.engine.audience import Blocked, Context, check_audience
from pos_promo.engine.compiled import MONEY, Compiled
from pos_promo.engine.index import CampaignIndex
from pos_promo.engine.masks import items_lines, positions
from pos_promo.engine.outcome import Miss
from pos_promo.engine.spend_and_save import base_saving, eligible_mains, kept_totals
from pos_promo.engine.units import CartView
from pos_promo.model.common import Sharing
from pos_promo.model.result import NotApplied

__all__ = [
    "NO_ITEMS",
    "Qualifying",
    "explain_blocked",
    "explain_miss",
    "qualifying",
    "unknown_plan",
]

NO_ITEMS = Miss("no_eligible_items")
_UNKNOWN = Blocked("unknown")  # a class whose verdict is not worked out yet (see qualifying)


def explain_miss(benefit_id: str, kind: str, miss: Miss, name: str = "") -> NotApplied:
    """A miss as facts a cashier's sentence needs: how far off, in money or items."""
    return NotApplied(
        benefit_id,
        kind,
        miss.reason,  # type: ignore[arg-type]
        needed=miss.needed,
        reached=miss.reached,
        name=name,
        params={"measure": "items"} if miss.measure != "money" else {},
    )


def explain_blocked(benefit_id: str, kind: str, blocked: Blocked, name: str) -> NotApplied:
    """A benefit the audience checks stopped, with the verdict's facts."""
    return NotApplied(
        benefit_id,
        kind,
        blocked.reason,  # type: ignore[arg-type]
        name=name,
        params=dict(blocked.params),  # its own: one verdict may explain many (see qualifying)
        slots=blocked.slots,
    )


def unknown_plan(plan: str, plans: Mapping[str, Sharing]) -> Blocked | None:
    """Block a benefit whose sharing plan this till does not know: guessing how it stacks could
    give a discount HQ never allowed."""
    if plan in plans:
        return None
    return Blocked("sharing_plan_unknown", {"plan": plan})


class Qualifying:
    """The promotions that give something on their own, column by column
    (the k-th promotion, its main lines, what it gives alone): thousands
    of them make four lists, not thousands of objects to allocate and
    for the garbage collector to walk."""

    def __init__(self) -> None:
        self.compiled: list[Compiled] = []
        self.mains: list[Sequence[int]] = []
        self.saves: list[int] = []
        # the most each can give on prices at or below the cart's own, known
        # without working out its exact bound (-1: not known)
        self.most: list[int] = []


def qualifying(
    ctx: Context,
    view: CartView,
    index: CampaignIndex,
    plans: Mapping[str, Sharing],
    not_applied: list[NotApplied],
) -> Qualifying:
    """Every promotion the cart reaches that gives something on its own, with
    its main lines and what it gives; the others explained in ``not_applied``.

    With many promotions live a cart reaches hundreds, and most stay below
    their first tier: so the threshold and room totals are added up once per
    set of main lines and side settings (promotions found through the same
    item or category share one tuple of lines, store-wide ones every line)
    and the first tier is checked against them before anything else is made.
    """
    cart = ctx.cart
    found = Qualifying()
    requested = cart.requested_promotions
    considered, hits = index.lookup(cart, ordered=False)  # explained and offered in any order
    every = view.mains
    # (id of a tuple of lines, alive in ``hits`` or the view throughout) * 16
    # + side settings -> its totals
    shared: dict[int, tuple[int, int, int, int]] | None = {} if view.unique_ids else None
    # store-wide promotions that leave items out: the cart's main lines by
    # item, as bit masks, and one tuple per set of lines they keep
    items: _ByItem | None = None
    # campaigns alike in what the audience checks read: a class's verdict
    # is worked out once
    verdicts: dict[int, Blocked | None] = {}  # by class
    for c in considered:
        f = c.facts
        group = f.audience  # (read off the campaign: no probe of a table of every id)
        blocked: Blocked | None
        if group < 0:
            blocked = check_audience(c, ctx)
        else:
            blocked = verdicts.get(group, _UNKNOWN)
            if blocked is _UNKNOWN:
                blocked = verdicts[group] = check_audience(c, ctx)
        # (a campaign's own rules are resolved when compiled unless it names a plan)
        plan = f.plan
        if blocked is None and plan is not None:
            blocked = unknown_plan(plan, plans)
        if blocked is not None:
            not_applied.append(explain_blocked(f.id, f.kind, blocked, f.name))
            continue
        mains: Sequence[int] | None = hits.get(f.id)
        kept = mains is not None
        if mains is None:  # store-wide or named: every main line, the cart's own tuple, if it can
            if not f.all_items:
                mains = eligible_mains(c, view)
            elif not f.excludes:
                mains, kept = every, True
            else:
                if items is None:
                    items = _mains_by_item(view)
                mains, kept = _store_wide_mains(c.items.excluded_item_ids, items, view), True
        if not mains:
            not_applied.append(explain_miss(f.id, f.kind, NO_ITEMS, f.name))
            continue
        totals: tuple[int, int, int, int] | None = None
        if shared is not None:
            bits = f.child_bits
            key = id(mains) * 16 + bits if kept else -1
            totals = shared.get(key)
            if totals is None:
                totals = kept_totals(c, view, mains, bits)
                if kept:
                    shared[key] = totals
            measure = f.measure
            reached = totals[0] if measure == MONEY else totals[2]
            if reached < f.floor:  # no tier met
                not_applied.append(
                    NotApplied(
                        f.id,
                        f.kind,
                        "threshold_not_met",
                        needed=f.thresholds[0],
                        reached=reached,
                        name=f.name,
                        params={} if measure == MONEY else {"measure": "items"},
                    )
                )
                continue
        saves = base_saving(c, view, mains, totals)
        if not isinstance(saves, int):  # a Miss (see run_parts.Tier)
            not_applied.append(explain_miss(f.id, f.kind, saves, f.name))
            continue
        if not f.auto_apply and f.id not in requested:
            not_applied.append(
                NotApplied(f.id, f.kind, "manual_only", name=f.name, params={"saves": saves})
            )
            continue
        found.compiled.append(c)
        found.mains.append(mains)
        found.saves.append(saves)
        most = f.most
        if most < 0 and totals is not None:
            # "buy X get Y free" frees at most every priced unit it reaches
            cap = f.cap
            most = totals[3] if cap < 0 or cap > totals[3] else cap
        found.most.append(most)
    # (not ``requested - by_id.keys()``: that walks every key of the index)
    for wanted in sorted(w for w in requested if not index.knows(w)):
        not_applied.append(NotApplied(wanted, "unknown", "unknown_campaign"))
    return found


class _ByItem:
    """The cart's main lines by item id, as bit masks, and the tuples of
    lines store-wide promotions that leave items out keep (one per set)."""

    def __init__(self, masks: dict[str, int], every: int, kept: dict[int, tuple[int, ...]]) -> None:
        self.masks = masks
        self.every = every
        self.kept = kept


def _mains_by_item(view: CartView) -> _ByItem:
    masks: dict[str, int] = {}
    every = 0
    for main in view.mains:
        item = view.lines[main].item_id
        masks[item] = masks.get(item, 0) | 1 << main
        every |= 1 << main
    return _ByItem(masks, every, {every: view.mains})


def _store_wide_mains(excluded: frozenset[str], items: _ByItem, view: CartView) -> tuple[int, ...]:
    """The main lines of a store-wide promotion that leaves ``excluded``
    items out (what :func:`eligible_mains` gives, as a tuple): the cart's
    own tuple when it holds none of them, as it mostly does; one tuple per
    set of lines otherwise, so that their totals are added up once."""
    mask = items.every & ~items_lines(excluded, items.masks)
    found = items.kept.get(mask)
    if found is None:
        found = items.kept[mask] = tuple(positions(mask))
    return found
