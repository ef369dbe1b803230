"""Spend & Save (SPEC §4): which tier a cart meets and where its discount falls.

Units are ordered by the application order, and the discount fills them one
at a time, each up to its bundle's discountable price; inside a bundle whose
children share the discount, a unit's part is prorated over main and
children by price (largest remainder, main first).
"""

from __future__ import annotations

import functools
import heapq
import itertools
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence

from pos_promo.engine.compiled import FREE, MONEY, Compiled
from pos_promo.engine.outcome import Miss, Outcome
from pos_promo.engine.run_parts import Fill as _Fill
from pos_promo.engine.run_parts import Rows as _Rows
from pos_promo.engine.run_parts import Tier as _Tier
from pos_promo.engine.run_parts import Unit as _Unit
from pos_promo.engine.units import CartView, Prices, UnitRef, spread
from pos_promo.model.campaign import ItemsFree, ItemsSave, SpendSave
from pos_promo.model.common import ChildRule, ItemScope

__all__ = [
    "base_saving",
    "eligible_mains",
    "fills_units",
    "frees_alike",
    "kept_totals",
    "mains_in_scope",
    "node_bound",
    "run",
    "steady_amount",
    "upper_bound",
    "zero_cost",
    "zeroable",
]


def eligible_mains(campaign: Compiled, view: CartView) -> list[int]:
    """Main lines in the campaign's item scope (children follow their main)."""
    return mains_in_scope(campaign.items, view)


def mains_in_scope(scope: ItemScope, view: CartView) -> list[int]:
    """Main lines an item scope selects, by line index (children follow their main)."""
    if scope.all_items and not scope.excluded_item_ids:
        return list(view.mains)
    found = []
    for index in view.mains:
        line = view.lines[index]
        if line.item_id in scope.excluded_item_ids:
            continue
        if (
            scope.all_items
            or line.item_id in scope.item_ids
            or not scope.category_ids.isdisjoint(line.category_ids)
        ):
            found.append(index)
    return found


def _unit(
    ref: UnitRef,
    prices: Prices,
    carried: tuple[tuple[UnitRef, bool], ...],
    sides: ChildRule,
    modifiers: ChildRule,
) -> _Unit:
    main, k = ref
    net = prices[main][k]
    counted = discountable = net
    if not carried:
        return _Unit(ref, counted, (ref,), discountable)
    shared: list[UnitRef] = [ref]
    for (child, j), side in carried:
        rule = sides if side else modifiers
        child_net = prices[child][j]
        if rule.counts_toward_threshold:
            counted += child_net
        if rule.shares_discount:
            shared.append((child, j))
            discountable += child_net
    return _Unit(ref, counted, tuple(shared), discountable)


_Layout = tuple[tuple[UnitRef, tuple[UnitRef, ...], tuple[UnitRef, ...]], ...]


def _layout(campaign: Compiled, view: CartView, mains: Sequence[int]) -> _Layout:
    """Each eligible main unit in application order, with the child units
    that count toward its threshold and those that share its discount.

    Only prices change between runs of one promotion on one cart, so the
    shape is worked out once per evaluation (kept in the view's memo).
    """
    bits = campaign.facts.child_bits
    high = campaign.application_order == "high_to_low"
    key = _lines_key("layout", view, mains, high, bits)
    layout: _Layout | None = view.memo.get(key)
    if layout is not None:
        return layout
    order = view.unit_order(high, bits & 10)
    eligible = set(mains)
    sides, modifiers = campaign.sides, campaign.modifiers
    found = []
    for ref in order:
        if ref[0] not in eligible:
            continue
        counted: list[UnitRef] = []
        shared: list[UnitRef] = [ref]
        for child, side in view.carried(*ref):
            rule = sides if side else modifiers
            if rule.counts_toward_threshold:
                counted.append(child)
            if rule.shares_discount:
                shared.append(child)
        found.append((ref, tuple(counted), tuple(shared)))
    layout = view.memo[key] = tuple(found)
    return layout


def _units(campaign: Compiled, view: CartView, prices: Prices, mains: Sequence[int]) -> list[_Unit]:
    """The bundle units of ``mains`` on ``prices``, in the campaign's
    application order."""
    units = []
    for ref, counted, shared in _layout(campaign, view, mains):
        net = prices[ref[0]][ref[1]]
        if len(shared) == 1 and not counted:
            units.append(_Unit(ref, net, shared, net))
            continue
        units.append(
            _Unit(
                ref,
                net + sum(prices[c][j] for c, j in counted),
                shared,
                sum(prices[c][j] for c, j in shared),
            )
        )
    return units


_Line = tuple[int, int, int]  # counted, discountable, items


def _run_base(campaign: Compiled, view: CartView, mains: Sequence[int]) -> Outcome | Miss:
    """:func:`run` on the cart's own prices, from per-line totals.

    Every unit of a main line has the same price and carries the same
    children there, so thresholds and room add up line by line; the units
    are walked in application order only when the discount is read (as
    any run fills it, "get Y free" its first free units). Needs unique line ids
    (``view.unique_ids``), so that ordering the lines orders the units.
    """
    facts = campaign.facts
    bits = facts.child_bits
    picked: _Tier | Miss | None = view.base_tiers.get(facts.id)
    if picked is None:
        picked = _base_tier(campaign, view, mains, bits)
    if not isinstance(picked, _Tier):  # a Miss (see run_parts.Tier)
        return picked
    only_items = facts.measure != MONEY
    later = _Fill(
        _fill_on, picked.amount, campaign, view, view.base, mains, only_items, picked.free
    )
    return Outcome(picked.amount, picked.tier, picked.capped, later=later)


def _base_tier(campaign: Compiled, view: CartView, mains: Sequence[int], bits: int) -> _Tier | Miss:
    """The tier met on the cart's own prices, from per-line totals (see
    :func:`_run_base`)."""
    counted, room, items, item_room = _kept_totals(campaign, view, mains, bits)
    free_worth = _NO_FREE
    if campaign.facts.measure == FREE:
        free_worth = functools.partial(_first_worth, campaign, view, mains, bits)
    return _pick_tier(campaign, counted, room, items, item_room, free_worth)


def _first_worth(
    campaign: Compiled, view: CartView, mains: Sequence[int], bits: int, first: int
) -> int:
    """What the first ``first`` priced units in application order can take,
    on the cart's own prices: the same for every "buy X get Y free" on the
    same lines with the same settings and order, so worked out once, from
    the lines' kept totals (the units of a line are alike, and sit together
    in application order), without making a unit."""
    key = ("first worth", bits, campaign.application_order, first, tuple(mains))
    worth: int | None = view.memo.get(key)
    if worth is not None:
        return worth
    ranks = view.ranks(campaign.application_order == "high_to_low", bits & 10)
    stats: dict[int, _Line] = view.memo["lines"]  # kept by _kept_totals for these lines
    relevant = view.relevant
    worth, left = 0, first
    for main in sorted(mains, key=ranks.__getitem__):
        _, room, items = stats[main * 16 + (bits & relevant[main])]
        if not items:  # no priced unit
            continue
        take = items if items < left else left
        worth += room // items * take
        left -= take
        if not left:
            break
    view.memo[key] = worth
    return worth


def _no_free(first: int) -> int:
    raise AssertionError("only a free-items rule asks what its free units are worth")


_NO_FREE: Callable[[int], int] = _no_free


def base_saving(
    campaign: Compiled,
    view: CartView,
    mains: Sequence[int],
    totals: tuple[int, int, int, int] | None = None,
) -> int | Miss:
    """What :func:`run` gives on the cart's own prices, the amount only: no
    outcome (and no way of filling it in) is made, for the many promotions
    whose amount is all that is read. ``totals``: those of
    :func:`kept_totals` for it, when the caller has them (promotions on the
    same lines with the same side settings share them)."""
    if not view.unique_ids:
        verdict = run(campaign, view, view.base, mains=mains)
        return verdict if isinstance(verdict, Miss) else verdict.amount
    facts = campaign.facts
    if totals is None:
        totals = _kept_totals(campaign, view, mains, facts.child_bits)
    # (thousands a cart with many live: the tier picked straight away, unless
    # "get Y free" asks what its first free units are worth)
    if facts.measure == FREE:
        picked = _tier_met(campaign, totals, _first_worth, view, mains, facts.child_bits)
    else:
        money, room, items, item_room = totals  # (by name: see _tier_met)
        picked = _pick_tier(campaign, money, room, items, item_room, _NO_FREE)
    if not isinstance(picked, _Tier):  # a Miss (see run_parts.Tier)
        return picked
    view.base_tiers[facts.id] = picked  # the offer's run on these prices reads it
    return picked.amount


def kept_totals(
    campaign: Compiled, view: CartView, mains: Sequence[int], bits: int
) -> tuple[int, int, int, int]:
    """The cart's own threshold and room totals of ``mains`` for a promotion
    whose side and modifier settings are ``bits`` (see ``child_bits``):
    money counted, room, priced items, their room. The same for every
    promotion on those lines with those settings (needs unique line ids)."""
    return _kept_totals(campaign, view, mains, bits)


def _kept_totals(
    campaign: Compiled, view: CartView, mains: Sequence[int], bits: int
) -> tuple[int, int, int, int]:
    """The totals of :func:`_pick_tier` on the cart's own prices, added up
    from per-line totals kept in the view's memo (needs unique line ids)."""
    memo = view.memo
    stats: dict[int, _Line] | None = memo.get("lines")
    if stats is None:
        stats = memo["lines"] = {}
    every = len(mains) == len(view.mains)  # store-wide: the same totals for many campaigns
    totals: tuple[int, int, int, int] | None = memo.get(("totals", bits)) if every else None
    if totals is not None:
        return totals
    relevant = view.relevant
    counted = room = items = item_room = 0
    for main in mains:
        key = main * 16 + (bits & relevant[main])
        stat = stats.get(key)
        if stat is None:
            stat = stats[key] = _line(view, main, campaign.sides, campaign.modifiers)
        counted += stat[0]
        room += stat[1]
        if stat[2]:
            items += stat[2]
            item_room += stat[1]
    totals = counted, room, items, item_room
    if every:
        memo["totals", bits] = totals
    return totals


def _line(view: CartView, main: int, sides: ChildRule, modifiers: ChildRule) -> _Line:
    """A main line's totals on the cart's own prices: every unit of it has
    the same price and carries children at the same prices, so one unit's
    worth times the quantity (its units: :func:`_line_units`, when asked)."""
    line = view.lines[main]
    price = line.unit_price
    quantity = len(view.base[main])
    items = quantity if price > 0 else 0
    if not view.relevant[main]:  # no child: each unit counts and takes its own price
        total = price * quantity
        return total, total, items
    counted = discountable = price
    lines, per_unit = view.lines, view.per_unit
    for child in view.children[main]:
        rule = sides if lines[child].role == "side" else modifiers
        worth = lines[child].unit_price * per_unit[child]
        if rule.counts_toward_threshold:
            counted += worth
        if rule.shares_discount:
            discountable += worth
    return counted * quantity, discountable * quantity, items


def _line_units(view: CartView, main: int, sides: ChildRule, modifiers: ChildRule) -> list[_Unit]:
    """A main line's units on the cart's own prices (see :func:`_line`)."""
    base = view.base
    if view.relevant[main]:
        return [
            _unit((main, k), base, _carried_of(view, main, k), sides, modifiers)
            for k in range(len(base[main]))
        ]
    return [_Unit((main, k), net, ((main, k),), net) for k, net in enumerate(base[main])]


def _ordered(
    campaign: Compiled, view: CartView, mains: Sequence[int], bits: int, only_items: bool
) -> list[_Unit]:
    """The units of ``mains`` (those with a price only, if ``only_items``) in
    the campaign's application order; their lines are in the memo already."""
    high = campaign.application_order == "high_to_low"
    # the same list for every promotion on the same lines with these settings
    memo_key = _lines_key("ordered", view, mains, bits, high, only_items)
    known: list[_Unit] | None = view.memo.get(memo_key)
    if known is not None:
        return known
    if len(mains) > 1:
        mains = sorted(mains, key=view.ranks(high, bits & 10).__getitem__)
    stats: dict[int, _Line] = view.memo["lines"]
    units: dict[int, list[_Unit]] | None = view.memo.get("line units")
    if units is None:
        units = view.memo["line units"] = {}
    relevant = view.relevant
    found: list[_Unit] = []
    for main in mains:
        key = main * 16 + (bits & relevant[main])
        if stats[key][2] or not only_items:
            kept = units.get(key)
            if kept is None:
                kept = units[key] = _line_units(view, main, campaign.sides, campaign.modifiers)
            found.extend(kept)
    view.memo[memo_key] = found
    return found


def run(
    campaign: Compiled, view: CartView, prices: Prices, *, mains: Sequence[int]
) -> Outcome | Miss:
    """The promotion on ``prices`` for its eligible ``mains`` (best tier, capped)."""
    if view.unique_ids and prices is view.base:
        return _run_base(campaign, view, mains)
    picked: _Tier | Miss
    only_items = campaign.facts.measure != MONEY
    if not only_items:  # (a money threshold reads no item counts)
        money, room = _money_on(campaign, view, prices, mains)
        picked = _pick_tier(campaign, money, room, 0, 0, _NO_FREE)
    else:
        sums = _totals_on(campaign, view, prices, mains)
        # most runs in the stacking search only compete on the amount, so the
        # units are put in order only when "get Y free" asks and when filled
        picked = _tier_met(campaign, sums, _first_priced_worth, view, mains, prices)
    if not isinstance(picked, _Tier):  # a Miss (see run_parts.Tier)
        return picked
    return Outcome(
        picked.amount,
        picked.tier,
        picked.capped,
        later=_Fill(
            _fill_on, picked.amount, campaign, view, prices, mains, only_items, picked.free
        ),
    )


def _money_on(
    campaign: Compiled, view: CartView, prices: Prices, mains: Sequence[int]
) -> tuple[int, int]:
    """The money threshold and room totals on ``prices`` (see :func:`_totals_on`).

    With unique line ids and each child's units its share of its main's (as
    every door checks), every unit of a line counts alike, so both totals
    are what the rows of the lines it counts and discounts add up to, in C
    (:class:`_Rows`): the promotion on every main line whose sides and
    modifiers count and share (the store-wide ones the search runs most,
    on every node's prices) adds up the whole cart."""
    if view.unique_ids and prices is not view.base:
        rows = _rows(campaign, view, mains)
        if rows is not None:
            if rows.whole:
                total = _cart_total(view, prices)
                return total, total
            money = _lines_total(rows.counted, view, prices)
            return money, money if rows.alike else _lines_total(rows.shared, view, prices)
    money, room, _, _ = _totals_on(campaign, view, prices, mains)
    return money, room


def _cart_total(view: CartView, prices: Prices) -> int:
    """Every unit of ``prices`` added up: the cart's own total less what the
    rows a benefit changed lost (a row no benefit touched is the cart's own
    row object: prices share the rows they did not change), kept by the
    prices object.

    The search runs one store-wide promotion after another on a node's
    prices, each reading the whole cart, and comes back to a node's prices
    again and again: at 100 lines the benefits taken at a node have changed
    15 of the 100 rows at the median (30 at the 90th percentile). Kept by
    identity, not by value (hashing prices hashes every row again), with
    the object held beside its total so that its identity cannot pass to
    another while the cart is evaluated."""
    memo = view.memo
    totals: dict[int, tuple[Prices, int]] | None = memo.get("cart totals")
    if totals is None:
        totals = memo["cart totals"] = {}
    kept = totals.get(id(prices))
    if kept is not None and kept[0] is prices:
        return kept[1]
    base = view.base
    sums = _base_row_sums(view)
    total: int = memo["base total"]
    for k in range(len(prices)):
        row = prices[k]
        if row is not base[k]:
            total += _row_total(row) - sums[k]
    totals[id(prices)] = (prices, total)
    return total


def _base_row_sums(view: CartView) -> tuple[int, ...]:
    """Each line's units added up on the cart's own prices (and, in the memo
    beside them, the cart's own total), worked out once per evaluation."""
    memo = view.memo
    sums: tuple[int, ...] | None = memo.get("base row sums")
    if sums is None:
        sums = memo["base row sums"] = tuple(map(sum, view.base))
        memo["base total"] = sum(sums)
    return sums


def _lines_total(lines: tuple[int, ...], view: CartView, prices: Prices) -> int:
    """The units of ``lines`` added up on ``prices``: a row no benefit
    changed is the cart's own row object (prices share the rows they did
    not change), whose total is kept, so only the changed rows are added
    up (deep in a search, most of a promotion's rows are its own; the rows
    made and summed one by one, ~130 instructions each compiled, were most
    of a run on 100 lines)."""
    base, sums = view.base, _base_row_sums(view)
    total = 0
    for line in lines:
        row = prices[line]
        total += sums[line] if row is base[line] else _row_total(row)
    return total


def _row_total(row: tuple[int, ...]) -> int:
    """A row's units added up, over a generator, which compiled code turns
    into a loop: ``sum()`` of the tuple itself is a generic call of ~600
    instructions, for a row of one to three units."""
    return sum(net for net in row)


def _carried(view: CartView) -> bool:
    """Whether each child line's units are its share of its main's (every
    door checks it: a child's quantity is a multiple of its main's), so
    that every child unit rides on one main unit."""
    carried: bool | None = view.memo.get("carried")
    if carried is None:
        base, per_unit = view.base, view.per_unit
        carried = view.memo["carried"] = all(
            len(base[child]) == len(base[main]) * per_unit[child]
            for main, kids in view.children.items()
            for child in kids
        )
    return carried


def _reads_whole_cart(campaign: Compiled, view: CartView, mains: Sequence[int]) -> bool:
    """Whether the units ``campaign`` counts and discounts on ``mains`` are all the
    cart's units: every main line, with children whose settings it counts
    and shares, each child unit carried by one main unit."""
    if len(mains) != len(view.mains) or not _carried(view):
        return False
    present: int | None = view.memo.get("children present")
    if present is None:  # sides 3, modifiers 12 (see view_cart)
        present = 0
        for main in view.mains:
            present |= view.relevant[main]
        view.memo["children present"] = present
    return campaign.facts.child_bits & present == present


def _rows(campaign: Compiled, view: CartView, mains: Sequence[int]) -> _Rows | None:
    """:class:`_Rows` for ``campaign`` on ``mains``, or ``None`` when they
    would not be valid (line ids not unique, or a cart no door checked).

    Asked at every run, so kept by the identity of ``mains`` (the tuple the
    look-up shares among promotions on the same lines, alive in the memo
    beside it: an id reused by another object is told apart), not by a
    tuple of its lines made and hashed at each run."""
    bits = campaign.facts.child_bits
    key = ("rows", id(mains), bits)
    kept: tuple[Sequence[int], _Rows | None] | None = view.memo.get(key)
    if kept is not None and kept[0] is mains:
        return kept[1]
    found = _make_rows(campaign, view, mains, bits) if view.unique_ids and _carried(view) else None
    view.memo[key] = (mains, found)
    return found


def _make_rows(campaign: Compiled, view: CartView, mains: Sequence[int], bits: int) -> _Rows:
    """The rows of :class:`_Rows` worked out for ``mains`` at ``bits`` (see :func:`_rows`)."""
    lines, base = view.lines, view.base
    counted: list[int] = []
    shared: list[int] = []
    units = 0
    for main in mains:
        counted.append(main)
        shared.append(main)
        units += len(base[main])
        for child in view.children[main]:
            side = lines[child].role == "side"
            if bits & (1 if side else 4):
                counted.append(child)
            if bits & (2 if side else 8):
                shared.append(child)
    return _Rows(
        tuple(counted),
        tuple(shared),
        tuple(mains),
        units,
        _reads_whole_cart(campaign, view, mains),
        counted == shared,
        bits & 10,
    )


def _bundles(
    rows: _Rows, view: CartView, mains: Sequence[int]
) -> tuple[tuple[int, tuple[int, ...] | None], ...]:
    """``rows.bundles`` for the rows of ``mains``, worked out when first asked."""
    found = rows.bundles
    if found is None:
        shares = rows.shares
        found = rows.bundles = tuple(
            (main, _sharing_children(view, main, shares))
            for main in mains
            if view.relevant[main] & shares
        )
    return found


def _sharing_children(view: CartView, main: int, shares: int) -> tuple[int, ...] | None:
    """The children of ``main`` that share a discount whose side and modifier
    bits are ``shares``, when each has one unit per main unit (unit ``k``
    of the main carries unit ``k`` of each: the same place in their rows);
    ``None`` when one has more (see :meth:`CartView.child_units`)."""
    lines, base = view.lines, view.base
    kids = tuple(
        child for child in view.children[main] if shares & (2 if lines[child].role == "side" else 8)
    )
    return kids if all(len(base[child]) == len(base[main]) for child in kids) else None


def _totals_on(
    campaign: Compiled, view: CartView, prices: Prices, mains: Sequence[int]
) -> tuple[int, int, int, int]:
    """The threshold and room totals of :func:`_pick_tier` on ``prices``: kept
    for the cart's own, added up row by row where :class:`_Rows` holds,
    unit by unit otherwise."""
    if prices is view.base:
        return _base_totals(campaign, view, mains)
    rows = _rows(campaign, view, mains)
    if rows is not None:
        return _sums_by_rows(rows, view, prices, mains)
    return _sums_by_unit(_layout(campaign, view, mains), prices)


def _sums_by_rows(
    rows: _Rows, view: CartView, prices: Prices, mains: Sequence[int]
) -> tuple[int, int, int, int]:
    """:func:`_sums_by_unit` from the rows of the lines read (see :class:`_Rows`).

    Money and room are what the counted and sharing rows add up to. The
    priced items are the main units not at zero; their room is the room
    less what the children riding on the main units at zero share (a main
    brought to zero by a benefit before, its side still priced): only the
    lines holding such a unit are looked at one by one, deep in a search
    most of them (8 in 10 of the sharing lines a run reads at 10,000 live).

    Kept by the rows and the prices objects: promotions on the same lines
    with the same settings share their rows, and the search runs one after
    another on a node's prices (at 10,000 live, 225 distinct among 538
    asked on one cart). Held beside the key, so that neither identity can
    pass to another object while the cart is evaluated."""
    kept_sums: dict[tuple[int, int], tuple[_Rows, Prices, tuple[int, int, int, int]]] | None = (
        view.memo.get("sums by rows")
    )
    if kept_sums is None:
        kept_sums = view.memo["sums by rows"] = {}
    key = (id(rows), id(prices))
    kept = kept_sums.get(key)
    if kept is not None and kept[0] is rows and kept[1] is prices:
        return kept[2]
    found = _added_up(rows, view, prices, mains)
    kept_sums[key] = (rows, prices, found)
    return found


def _added_up(
    rows: _Rows, view: CartView, prices: Prices, mains: Sequence[int]
) -> tuple[int, int, int, int]:
    """:func:`_sums_by_rows`, worked out."""
    if rows.whole:
        money = room = _cart_total(view, prices)
    else:
        money = _lines_total(rows.counted, view, prices)
        room = money if rows.alike else _lines_total(rows.shared, view, prices)
    zeros = 0
    base = view.base
    for main in rows.mains:
        row = prices[main]
        # a line's own units are alike: none at zero unless its price is
        if row is not base[main] or (row and not row[0]):
            zeros += sum(1 for net in row if not net)
    if not zeros:
        return money, room, rows.units, room
    lost = 0
    shares = rows.shares
    for main, kids in _bundles(rows, view, mains):
        row = prices[main]
        if 0 not in row:
            continue
        if kids is not None:  # one unit of each per main unit: the same places in their rows
            # (sums over generators, which compile to loops; see _row_total)
            if _priced(row):
                for child in kids:
                    theirs = prices[child]
                    lost += sum(theirs[k] for k in range(len(row)) if not row[k])
            else:  # every unit at zero (a line of one, mostly): its children's rows whole
                for child in kids:
                    lost += _row_total(prices[child])
            continue
        for k, net in enumerate(row):
            if not net:
                for (child, j), side in _carried_of(view, main, k):
                    if shares & (2 if side else 8):
                        lost += prices[child][j]
    return money, room, rows.units - zeros, room - lost


def _sums_by_unit(layout: _Layout, prices: Prices) -> tuple[int, int, int, int]:
    """Threshold and room totals on ``prices`` (see :func:`_pick_tier`), unit by unit."""
    reached_money = room = items = item_room = 0
    for ref, counted, shared in layout:
        net = prices[ref[0]][ref[1]]
        if len(shared) == 1 and not counted:
            counts = worth = net
        else:
            counts = net + sum(prices[c][j] for c, j in counted)
            worth = sum(prices[c][j] for c, j in shared)
        reached_money += counts
        room += worth
        if net > 0:
            items += 1
            item_room += worth
    return reached_money, room, items, item_room


def _carried_of(view: CartView, main: int, unit: int) -> tuple[tuple[UnitRef, bool], ...]:
    """``view.carried(main, unit)``, read off the view's memo when kept there:
    compiled, this module calls a method of the (not compiled) view at about
    a microsecond a call, and the walks over units (a free's bound on a
    node's prices, a fill, the first priced worths) ask for every unit."""
    found = view.carried_memo.get(main << 32 | unit)
    return view.carried(main, unit) if found is None else found


def _untouched(
    prices: Prices,
    main: int,
    base: Prices,
    relevant: Sequence[int],
    children: Mapping[int, tuple[int, ...]],
) -> bool:
    """Whether ``main`` and its children still have the cart's own prices
    (``base``, ``relevant`` and ``children``: the view's, read once by the
    caller: compiled, each read of a view's field is a generic attribute
    look-up). Prices share the rows of lines no benefit touched, so this is
    an identity check, not a comparison of every unit."""
    if prices[main] is not base[main]:
        return False
    if relevant[main]:
        for child in children[main]:
            if prices[child] is not base[child]:
                return False
    return True


def _first_priced_worth(
    campaign: Compiled, view: CartView, mains: Sequence[int], prices: Prices, first: int
) -> int:
    """What the first ``first`` units whose main is above zero can take.

    Walked line by line in application order, as :func:`_fill_on` walks
    them (the units of one main line keep their unit order), each bundle's
    sharing children looked up only when reached: "get Y free" asks about
    its first few units, not the layout of all of them."""
    worth = found = 0
    shares = campaign.facts.child_bits & 10  # side shares 2, modifier shares 8
    relevant = view.relevant
    for main in _in_application_order(campaign, view, mains, shares):
        for k, net in enumerate(prices[main]):
            if found == first:
                return worth
            if net > 0:
                found += 1
                worth += net
                if shares & relevant[main]:
                    for (child, j), side in _carried_of(view, main, k):
                        if shares & (2 if side else 8):
                            worth += prices[child][j]
    return worth


def _priced(row: tuple[int, ...]) -> bool:
    """Whether any unit of ``row`` is above zero. Over a generator, which
    compiled code turns into a loop: ``any()`` of the tuple itself is a
    generic call, and a fill asks it of every line it walks."""
    return any(net for net in row)


def _fill_on(
    amount: int,
    campaign: Compiled,
    view: CartView,
    prices: Prices,
    mains: Sequence[int],
    only_items: bool,
    free: int | None,
) -> dict[UnitRef, int]:
    """Fill ``amount`` unit by unit in application order, each up to what its
    bundle can take: over every unit for a money threshold, over units whose
    main is above zero for item counts, over the first ``free`` of those for
    "get Y free". Stops as soon as the amount is placed.

    A discount is usually placed on the first bundle or two, so the units
    are walked in order as they come (the units of one main line are
    alike, in unit order), each bundle's sharing children looked up only
    when the walk reaches it, not laid out for every unit first."""
    allocation: dict[UnitRef, int] = {}
    left, used = amount, 0
    bits = campaign.facts.child_bits
    shares = bits & 10  # side shares 2, modifier shares 8
    relevant, lines, children = view.relevant, view.lines, view.children
    for main in _in_application_order(campaign, view, mains, shares):
        row = prices[main]
        if not _priced(row):
            # every bundle of the line at zero takes nothing: deep in a
            # search, most lines a fill walks past (benefits before took them)
            if only_items or not shares & relevant[main]:
                continue  # (a unit at zero counts for no free unit either)
            for kid in children[main]:
                if shares & (2 if lines[kid].role == "side" else 8) and _priced(prices[kid]):
                    break  # a child sharing the discount is still priced
            else:
                continue
        for k, net in enumerate(row):
            if left == 0:
                return allocation
            if only_items:
                if net <= 0:
                    continue
                if free is not None:
                    if used == free:
                        return allocation
                    used += 1
            shared = [(main, k)]
            if shares & relevant[main]:
                for child, side in _carried_of(view, main, k):
                    if shares & (2 if side else 8):
                        shared.append(child)
            if len(shared) == 1:
                take = min(left, net)
                if take > 0:
                    allocation[main, k] = take
                    left -= take
                continue
            weights = [prices[c][j] for c, j in shared]
            worth = 0
            for weight in weights:
                worth += weight
            take = min(left, worth)
            if take > 0:
                left -= take
                allocation.update(spread(take, shared, weights))
    return allocation


def _in_application_order(
    campaign: Compiled, view: CartView, mains: Sequence[int], shares: int
) -> list[int]:
    """``mains`` in the campaign's application order (``shares``: which
    children's prices rank a bundle, see ``CartView.ranks``); kept once per
    cart for the store-wide promotions alike."""
    high = campaign.application_order == "high_to_low"
    key = _lines_key("application order", view, mains, high, shares)
    found: list[int] | None = view.memo.get(key)
    if found is None:
        found = view.memo[key] = sorted(mains, key=view.ranks(high, shares).__getitem__)
    return found


def _tier_met(
    campaign: Compiled,
    totals: tuple[int, int, int, int],
    worth: Callable[..., int],
    *args: object,
) -> _Tier | Miss:
    """The tier ``totals`` (eligible money, its room, items, their room) meet.
    Only "get Y free" asks what its first free units are worth
    (``worth(campaign, *args, first)``), so the question is put together for
    it alone."""
    free_worth = _NO_FREE
    if campaign.facts.measure == FREE:
        free_worth = functools.partial(worth, campaign, *args)
    # (the totals unpacked by name: compiled, a call with ``*totals`` went
    # through a generic Python call, ~8,000 instructions, every run)
    money, room, items, item_room = totals
    return _pick_tier(campaign, money, room, items, item_room, free_worth)


def _pick_tier(
    campaign: Compiled,
    money: int,
    room: int,
    items: int,
    item_room: int,
    free_worth: Callable[[int], int],
) -> _Tier | Miss:
    """The highest tier the cart meets (SPEC §4), capped by the order maximum
    and by what the eligible units can absorb.

    ``money`` and ``room`` are the threshold and discountable totals of every
    eligible unit; ``items`` and ``item_room`` those of the units whose main
    is above zero; ``free_worth(n)`` what the first ``n`` of those can take.
    """
    facts = campaign.facts  # the tiers as compiled: see compiled.tier_table
    measure = facts.measure
    reached = money if measure == MONEY else items
    thresholds = facts.thresholds
    tier = len(thresholds)
    if reached < thresholds[-1]:  # (else the last is met: most promotions have one tier)
        tier = 0
        for number, threshold in enumerate(thresholds, 1):
            if reached >= threshold:
                tier = number
    if not tier:
        unit = "money" if measure == MONEY else "items"
        return Miss("threshold_not_met", thresholds[0], reached, unit)
    value = facts.values[tier - 1]
    free: int | None = None
    if measure == FREE:
        free = value
        value = absorb = free_worth(free)
    else:
        absorb = room if measure == MONEY else item_room
    amount = value if value < absorb else absorb
    cap = facts.cap
    capped = False
    if cap >= 0 and cap < amount:
        amount, capped = cap, True
    if amount == 0:
        return Miss("nothing_to_discount")
    return _Tier(amount, tier, capped, free)


def upper_bound(
    campaign: Compiled, view: CartView, mains: Sequence[int], alone: int, before: int
) -> int:
    """The most the promotion can give on any prices at or below the cart's own.

    Earlier benefits only lower prices, so a promotion run after them meets
    the same tiers or fewer and has less room; but it may then fall to a
    lower tier worth more, and "buy X get Y free" may free a dearer unit once
    a cheap one reaches zero. So the bound takes, over every tier met at the
    cart's prices, the most that tier could give: its saving, or the
    ``free`` dearest units among those it can reach once the benefits before
    it, which take off at most ``before`` besides the member's benefits,
    zero the cheapest units they can pay for (see :func:`zero_cost`). The
    stacking search prunes with it.

    When a saving rule's tiers save no less as they rise (the usual set-up),
    the highest tier met is also worth the most, so the bound is ``alone``,
    the amount on the cart's own prices, and nothing needs working out.
    Otherwise only the tiers it can still fall to count: the threshold total
    after them lies between what ``before`` and the member's benefits can
    take off it (see :func:`_fallen_tiers`) and the total now.
    """
    rule = campaign.rule
    if not campaign.facts.reads_before:  # (worked out when compiled)
        return alone
    best = 0
    if type(rule) is SpendSave:
        reached, room, _, _ = _base_totals(campaign, view, mains)
        lowest = reached - before - _member_drop(view)
        best = _fallen_best(campaign, lowest, reached, room)
    elif type(rule) is ItemsSave:
        _, _, count, room = _base_totals(campaign, view, mains)
        lowest = count - bisect_right(_zero_spent(campaign, view, mains), before)
        best = _fallen_best(campaign, lowest, count, room)
    else:
        assert isinstance(rule, ItemsFree)  # (it holds: the quick case, see run_parts.Tier)
        spent = _zero_spent(campaign, view, mains)
        zeroed = bisect_right(spent, before)  # the cheapest costs it can pay for
        count = len(spent)
        for free_step in rule.tiers:
            if count >= free_step.buy + free_step.free:
                # the free units are the first ``free`` units still priced, in
                # application order: among the first zeroed + free of them
                first = min(zeroed + free_step.free, count)
                best = max(best, _largest_worths(campaign, view, mains, free_step.free, first))
    cap = campaign.max_discount
    return best if cap is None else min(best, cap)


def _fallen_tiers(thresholds: Sequence[int], lowest: int, reached: int) -> set[int]:
    """The tiers (0-based) :func:`_pick_tier` can pick for a threshold total
    anywhere from ``lowest`` to ``reached``.

    It picks the last tier whose threshold the total meets, which changes
    only where the total crosses a threshold: the total at ``lowest`` and
    at each threshold above it, up to ``reached``, meets every pick there is.
    """
    found = set()
    for total in (lowest, *(t for t in thresholds if lowest < t <= reached)):
        met = -1
        for number, threshold in enumerate(thresholds):
            if total >= threshold:
                met = number
        if met >= 0:
            found.add(met)
    return found


def _fallen_best(campaign: Compiled, lowest: int, reached: int, room: int) -> int:
    """The most a saving rule gives at any tier :func:`_fallen_tiers` finds
    between ``lowest`` and ``reached``, each at most ``room`` (uncapped)."""
    facts = campaign.facts
    values = facts.values
    best = 0
    for number in _fallen_tiers(facts.thresholds, lowest, reached):
        value = values[number] if values[number] < room else room
        best = max(best, value)
    return best


def _member_drop(view: CartView) -> int:
    """The most the member's benefits (member price, member discount) can
    take off the cart, every unit at most down to its :func:`zero_cost`: a
    bound on what they take off any promotion's threshold total, which
    ``before`` amounts leave out."""
    drop: int | None = view.memo.get("member drop")
    if drop is None:
        costs = _zero_costs(view)
        drop = view.memo["member drop"] = sum(
            (line.unit_price - costs[index]) * len(view.base[index])
            for index, line in enumerate(view.lines)
        )
    return drop


def _zero_spent(campaign: Compiled, view: CartView, mains: Sequence[int]) -> list[int]:
    """``spent[z - 1]``: the least other benefits must take off to zero ``z``
    of the promotion's priced units (the ``z`` cheapest zero costs added
    up), so that how many ``before`` can zero is one bisection."""
    key = _lines_key("zero spent", view, mains)
    spent: list[int] | None = view.memo.get(key)
    if spent is None:
        lines, zero = view.lines, _zero_costs(view)
        costs: list[int] = []
        for main in mains:
            if lines[main].unit_price > 0:
                costs.extend((zero[main],) * lines[main].quantity)
        costs.sort()
        spent = view.memo[key] = list(itertools.accumulate(costs))
    return spent


def _lines_key(name: str, view: CartView, mains: Sequence[int], *settings: object) -> object:
    """The view-memo key of what depends on ``mains`` and ``settings`` alone:
    promotions found through the same category (or store-wide ones) share
    it, whatever campaign asks."""
    if len(mains) == len(view.mains):
        return (name, *settings)
    return (name, tuple(mains), *settings)


def _largest_worths(
    campaign: Compiled, view: CartView, mains: Sequence[int], free: int, first: int
) -> int:
    """The ``free`` largest discountable worths among the promotion's first
    ``first`` priced units in application order, added up: walked from the
    lines' runs of alike units (a bound asks about the first few units)."""
    taken: list[tuple[int, int]] = []
    left = first
    for worth, units in _worth_runs(campaign, view, mains):
        if not left:
            break
        take = units if units < left else left
        taken.append((worth, take))
        left -= take
    taken.sort(reverse=True)
    total, want = 0, free
    for worth, units in taken:
        take = units if units < want else want
        total += worth * take
        want -= take
        if not want:
            break
    return total


def _worth_runs(campaign: Compiled, view: CartView, mains: Sequence[int]) -> list[tuple[int, int]]:
    """The discountable worths of the promotion's priced units in application
    order, as runs (worth, units): the units of one main line are alike on
    the cart's own prices, so with unique line ids a line is one run, read
    from its kept totals without making a unit. The same for every
    promotion on the same lines with the same settings and order."""
    bits = campaign.facts.child_bits
    key = _lines_key("worth runs", view, mains, bits, campaign.application_order)
    runs: list[tuple[int, int]] | None = view.memo.get(key)
    if runs is not None:
        return runs
    if not view.unique_ids:
        runs = [(unit.discountable, 1) for unit in _priced_units(campaign, view, mains)]
    else:
        _kept_totals(campaign, view, mains, bits)  # every line's totals kept
        stats: dict[int, _Line] = view.memo["lines"]
        relevant = view.relevant
        runs = []
        for main in _in_application_order(campaign, view, mains, bits & 10):
            _, room, items = stats[main * 16 + (bits & relevant[main])]
            if items:  # a priced line: each of its units takes room / items
                runs.append((room // items, items))
    view.memo[key] = runs
    return runs


def steady_amount(
    campaign: Compiled, view: CartView, mains: Sequence[int], alone: int, before: int
) -> int:
    """``alone`` if the promotion gives exactly that after any benefits that
    take off at most ``before`` on its lines, else 0 (not known).

    The lowest tier it meets stays met when the threshold is still reached
    with ``before`` less counted (fewer items: as many as ``before`` can
    zero); the amount stays when every tier from that one up to the one met
    now is worth ``alone`` once capped (tiers saving the same, or a cap
    below them all) and the room left after ``before`` still holds it. The
    stacking search takes such a promotion without weighing sets that leave
    it out, when nothing after it can be changed by it.
    """
    if before <= 0:
        return alone
    facts = campaign.facts
    measure = facts.measure  # the tiers as compiled: see compiled.tier_table
    if measure == FREE:
        return 0
    if measure == MONEY:
        reached, room, _, _ = _base_totals(campaign, view, mains)
        lowest = reached - before
    else:
        _, _, reached, room = _base_totals(campaign, view, mains)
        zeroed = bisect_right(_zero_spent(campaign, view, mains), before)
        lowest = reached - zeroed
        # a unit whose main they bring to zero leaves the room with the
        # sides and modifiers sharing its discount, which ``before`` did not
        # pay for: at most the ``zeroed`` largest such parts
        room -= _largest_shares(campaign, view, mains, zeroed)
    if room - before < alone:
        return 0  # the others may leave it less room than it gives
    # the tier it meets after them is one of those met at ``lowest`` .. ``reached``
    # (the highest of them; at least the lowest tier must stay met)
    cap = campaign.max_discount
    thresholds = facts.thresholds
    possible = [
        save if cap is None or save < cap else cap
        for threshold, save in zip(thresholds, facts.values, strict=True)
        if threshold <= reached
    ]
    floor_tier = 0
    for threshold in thresholds:
        if threshold <= lowest:
            floor_tier += 1
    if floor_tier == 0:
        return 0
    # each of them must be worth ``alone`` once capped (the room, at least
    # ``alone`` as checked, then leaves it whole), rising tiers or not
    for value in possible[floor_tier - 1 :]:
        if value != alone:
            return 0
    return alone


def _largest_shares(campaign: Compiled, view: CartView, mains: Sequence[int], count: int) -> int:
    """The ``count`` largest parts of a priced unit's room that its sides and
    modifiers sharing the discount make, added up: what the room of the
    priced items can lose besides what is taken off, when ``count`` mains
    are brought to zero. The parts are kept per lines and settings, from
    the lines' kept totals where the units of a line are alike."""
    if count <= 0:
        return 0
    bits = campaign.facts.child_bits
    key = _lines_key("shares", view, mains, bits)
    parts: list[tuple[int, int]] | None = view.memo.get(key)
    if parts is None:
        if view.unique_ids:
            _kept_totals(campaign, view, mains, bits)  # every line's totals kept
            stats: dict[int, _Line] = view.memo["lines"]
            lines, relevant = view.lines, view.relevant
            parts = []
            for main in mains:
                _, room, items = stats[main * 16 + (bits & relevant[main])]
                if items:  # each priced unit: its room less its main's price
                    parts.append((room // items - lines[main].unit_price, items))
        else:
            base = view.base
            parts = [
                (u.discountable - base[u.ref[0]][u.ref[1]], 1)
                for u in _priced_units(campaign, view, mains)
            ]
        parts.sort(reverse=True)
        view.memo[key] = parts
    total = 0
    for part, units in parts:
        if count <= 0 or part <= 0:
            break
        taken = units if units < count else count
        total += part * taken
        count -= taken
    return total


def _base_totals(
    campaign: Compiled, view: CartView, mains: Sequence[int]
) -> tuple[int, int, int, int]:
    """The threshold and room totals on the cart's own prices (see
    :func:`_pick_tier`), from the lines the stand-alone run kept; kept per
    promotion, so bounds asked again and again cost a look-up."""
    key = ("base totals", campaign.id)
    totals: tuple[int, int, int, int] | None = view.memo.get(key)
    if totals is not None:
        return totals
    if not view.unique_ids:
        totals = _sums_by_unit(_layout(campaign, view, mains), view.base)
    else:
        bits = campaign.facts.child_bits
        totals = _kept_totals(campaign, view, mains, bits)
    view.memo[key] = totals
    return totals


def _priced_units(campaign: Compiled, view: CartView, mains: Sequence[int]) -> list[_Unit]:
    """The units of ``mains`` whose main is above zero on the cart's own
    prices, in application order: the lines' kept units, put in order once
    for all store-wide promotions alike."""
    base = view.base
    if not view.unique_ids:
        return [u for u in _units(campaign, view, base, mains) if base[u.ref[0]][u.ref[1]] > 0]
    bits = campaign.facts.child_bits
    _kept_totals(campaign, view, mains, bits)  # every line's units kept
    return _ordered(campaign, view, mains, bits, True)


def zero_cost(view: CartView, line: int) -> int:
    """The least that benefits other than the member's must take off one unit
    of ``line`` to bring it to zero.

    Member price and member discount run first and never zero a unit by
    themselves; they are left out of ``before`` amounts and counted here
    instead, as if both applied: the unit at its member price, less the
    member's rate of it and a cent of rounding.
    """
    return _zero_costs(view)[line]


def _zero_costs(view: CartView) -> tuple[int, ...]:
    """:func:`zero_cost` of every line, by line index: worked out once per
    cart, as the bounds of many promotions read the same lines."""
    costs: tuple[int, ...] | None = view.memo.get("zero costs")
    if costs is None:
        member = view.cart.member
        rate = member.discount_rate_bp if member is not None else 0
        found = []
        for item in view.lines:
            price = item.unit_price
            if item.member_unit_price is not None and item.member_unit_price < price:
                price = item.member_unit_price
            if rate:
                price -= price * rate // 10_000 + 1
            found.append(price if price > 0 else 0)
        costs = view.memo["zero costs"] = tuple(found)
    return costs


def zeroable(costs: list[int], before: int) -> int:
    """How many units whose ``costs`` to zero are given, benefits taking off
    at most ``before`` can bring to zero: as many as the cheapest costs that
    add up to it."""
    spent = zeroed = 0
    for cost in sorted(costs):
        if spent + cost > before:
            break
        spent += cost
        zeroed += 1
    return zeroed


def fills_units(campaign: Compiled, view: CartView, mains: Sequence[int]) -> bool:
    """Whether its discount falls unit by unit, each unit's part whole: no
    bundle of its lines shares the discount with a side or modifier.

    Then, for one amount, prices lower before it leave no price higher after
    it (it takes off the front of the units in a fixed order, each to zero
    before the next), where a share split by weights could round a cent the
    other way. The stacking search leans on it (``selection``).
    """
    shares = campaign.facts.child_bits & 10
    if not shares:
        return True
    relevant = view.relevant
    return not any(shares & relevant[main] for main in mains)


def frees_alike(campaign: Compiled, view: CartView, mains: Sequence[int], before: int) -> bool:
    """Whether a "buy X get Y free" promotion, after benefits that take off at
    most ``before`` on its lines (besides the member's), always frees as many
    units at the same tier, and loses at most what the prices of its lines
    went down by.

    It frees the first ``free`` priced units in a fixed order, whole: when
    prices go down, a free unit either costs less (it loses that much) or
    its main is at zero already (a later unit takes its place: a gain). So
    the number of priced units must keep the same tier however many units
    ``before`` can bring to zero, no cap may cut a unit in part, and no
    unit whose main ``before`` can bring to zero may carry a side or
    modifier with a price that shares its discount: that unit would stop
    being freed with its side's price still on it, a loss beyond what its
    lines went down by.
    """
    rule = campaign.rule
    if type(rule) is not ItemsFree or campaign.max_discount is not None:
        return False
    spent = _zero_spent(campaign, view, mains)
    count = len(spent)
    fewest = count - bisect_right(spent, before)
    # the tier met is the last whose count is reached: more units meet the
    # same or a later one, so the tiers from ``fewest`` to ``count`` are one
    # when the ends are
    tier = _free_tier(rule, count)
    if tier is None or _free_tier(rule, fewest) != tier:
        return False
    if fewest == count:
        return True  # no main can reach zero
    costs = _zero_costs(view)
    if view.unique_ids:  # the units of a line are alike: one look at its kept totals
        bits = campaign.facts.child_bits
        _kept_totals(campaign, view, mains, bits)
        stats: dict[int, _Line] = view.memo["lines"]
        lines, relevant = view.lines, view.relevant
        for main in mains:
            _, room, items = stats[main * 16 + (bits & relevant[main])]
            if items and room // items > lines[main].unit_price and costs[main] <= before:
                return False
        return True
    base = view.base
    for unit in _priced_units(campaign, view, mains):
        main, k = unit.ref
        if unit.discountable > base[main][k] and costs[main] <= before:
            return False
    return True


def _free_tier(rule: ItemsFree, units: int) -> int | None:
    """The tier ``units`` priced units meet (the last met, as :func:`_pick_tier` takes it)."""
    found = None
    for number, step in enumerate(rule.tiers):
        if units >= step.buy + step.free:
            found = number
    return found


def node_bound(
    campaign: Compiled, view: CartView, mains: Sequence[int], prices: Prices
) -> Callable[[int], int]:
    """How much the promotion can give at most, on any prices at or below
    ``prices`` that benefits taking off at most ``before`` more reach (the
    member's included): a function of ``before``, its data worked out once
    for these prices."""
    rule = campaign.rule
    cap = campaign.max_discount
    if type(rule) is SpendSave:
        money, room = _money_on(campaign, view, prices, mains)
        return functools.partial(_money_bound, campaign, money, room)
    costs: list[int] = []
    worths: list[int] = []
    bits = campaign.facts.child_bits
    shares = bits & 10
    relevant, base, children = view.relevant, view.base, view.children
    stats: dict[int, _Line] | None = view.memo.get("lines")
    for main in _in_application_order(campaign, view, mains, shares):
        row = prices[main]
        if stats is not None and _untouched(prices, main, base, relevant, children):
            stat = stats.get(main * 16 + (bits & relevant[main]))
            if stat is not None:
                if stat[2]:
                    costs.extend(row)
                    worths.extend((stat[1] // stat[2],) * stat[2])
                continue
        if not shares & relevant[main]:  # each unit's worth is its own price
            priced = [net for net in row if net > 0]
            costs += priced
            worths += priced
            continue
        for k, net in enumerate(row):
            if net <= 0:
                continue
            costs.append(net)
            worth = net
            for (child, j), side in _carried_of(view, main, k):
                if shares & (2 if side else 8):
                    worth += prices[child][j]
            worths.append(worth)
    spent = list(itertools.accumulate(sorted(costs)))
    if type(rule) is ItemsSave:
        return functools.partial(_count_bound, campaign, spent, sum(worths))
    assert isinstance(rule, ItemsFree)  # (it holds: the quick case, see run_parts.Tier)
    tops: dict[int, list[int]] = {}
    for free in {step.free for step in rule.tiers}:
        if free == 1:  # the usual "get one free": the worths themselves (see _free_bound)
            tops[1] = worths
            continue
        kept: list[int] = []
        total = 0
        row_tops = [0]
        for worth in worths:
            if len(kept) < free:
                heapq.heappush(kept, worth)
                total += worth
            elif worth > kept[0]:
                total += worth - heapq.heapreplace(kept, worth)
            row_tops.append(total)
        tops[free] = row_tops
    count = len(spent)
    steps = [(step.free, tops[step.free]) for step in rule.tiers if count >= step.buy + step.free]
    return functools.partial(_free_bound, steps, spent, count, cap)


def _money_bound(campaign: Compiled, money: int, room: int, before: int) -> int:
    """A saving rule on money: the tiers the total can fall to with ``before`` off."""
    best = _fallen_best(campaign, money - before, money, room)
    cap = campaign.max_discount
    return best if cap is None else min(best, cap)


def _count_bound(campaign: Compiled, spent: list[int], room: int, before: int) -> int:
    """A saving rule on items: the tiers the count can fall to once ``before``
    zeroes the cheapest units it can pay for (``spent``: see :func:`_zero_spent`)."""
    count = len(spent)
    best = _fallen_best(campaign, count - bisect_right(spent, before), count, room)
    cap = campaign.max_discount
    return best if cap is None else min(best, cap)


def _free_bound(
    steps: list[tuple[int, list[int]]], spent: list[int], count: int, cap: int | None, before: int
) -> int:
    """A free's bound on a node's prices (see :func:`node_bound`): for each
    tier met, the ``free`` largest worths among the first ``zeroed + free``
    units, where ``tops[n]`` holds that sum for the first ``n``; for one
    free unit ``tops`` are the worths themselves, the largest of the first
    ``n`` taken when asked (a bound is read a few times per node, mostly
    over the first two or three units: a walk over them, not the running
    maxima of every unit). A loop, not ``max()`` over a slice: compiled,
    ``max()`` with a ``default`` went through a generic call with keywords,
    ~2,000 instructions each, most of this bound's cost (``max`` of two
    ints compiles to a comparison)."""
    zeroed = bisect_right(spent, before)
    best = 0
    for free, tops in steps:
        first = min(zeroed + free, count)
        if free == 1:
            for k in range(first):
                best = max(best, tops[k])
        else:
            best = max(best, tops[first])
    return best if cap is None else min(best, cap)
