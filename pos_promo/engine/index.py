"""The campaign set compiled once for a store, indexed by item and category.

Evaluation cost follows the campaigns that can touch a cart, not the whole
set: campaigns of other stores are not even compiled, and a cart looks up
only its own items and categories plus the store-wide ones. A sync that
changes a few campaigns updates the index for those (:meth:`updated`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, MutableMapping
from collections.abc import Set as AbstractSet
from operator import attrgetter

import msgspec
from msgspec import field

from pos_promo.engine.compiled import Compiled, compile_campaign, store_in_scope
from pos_promo.engine.masks import items_lines, positions
from pos_promo.model.base import CampaignBase
from pos_promo.model.campaign import Campaign, SpendAndSave
from pos_promo.model.cart import Cart, StoreContext
from pos_promo.model.coupon import CouponTemplate

__all__ = ["CampaignIndex", "Listing", "audience_class", "build_index"]


class Listing(msgspec.Struct, frozen=True, gc=False):
    """The campaigns filed under one item or category, as a look-up reads them.

    With tens of thousands live, a cart's items and categories reach
    thousands of listed campaigns (12,478 entries for a 30-line cart at
    50,000 live); walking them one by one in Python took 10-14 ms. Kept as a
    dict (whose keys serve as a set of ids), a listing is merged into what
    the cart reaches by dict and set operations that run in C, and only the
    campaigns listed under two reached keys or leaving out an item the cart
    holds are walked (5-7 ms; the index holds ~5 MB more). Untracked
    (``gc=False``): it holds only dicts of ids, frozensets of ids and
    compiled campaigns, none of which can lead back to it.
    """

    found: dict[str, Compiled]  # every campaign listed, by id (its keys serve as a set)
    leaving: dict[str, frozenset[str]]  # item id -> the listed campaigns that leave it out

    @classmethod
    def of(cls, listed: Iterable[Compiled]) -> Listing:
        """The listing of the campaigns filed under one key (made once per
        key when the index is built, and again for a key a sync touched)."""
        found = {c.id: c for c in listed}
        leaving: dict[str, set[str]] = {}
        for c in found.values():
            for item in c.items.excluded_item_ids:
                leaving.setdefault(item, set()).add(c.id)
        return cls(found, {k: frozenset(v) for k, v in leaving.items()})


class CampaignIndex(msgspec.Struct, frozen=True):
    """Compiled campaigns of one store, with look-ups by id, item and category.

    Only campaigns whose store scope includes the store are compiled;
    the others are kept as they came (``elsewhere``) and compiled only when
    a cart names one or :func:`~pos_promo.engine.evaluate.explain` asks.
    An index is never changed: :meth:`updated` makes the next one. A frozen
    struct: a dataclass costs a till's start a millisecond to define.
    """

    store: StoreContext
    by_id: dict[str, Compiled]
    by_item: dict[str, list[Compiled]] = field(default_factory=dict)
    by_category: dict[str, list[Compiled]] = field(default_factory=dict)
    store_wide: list[Compiled] = field(default_factory=list)
    # coupon templates by id, and every other kind (cumulative gifts...) by kind
    templates: dict[str, CouponTemplate] = field(default_factory=dict)
    others: dict[str, list[CampaignBase]] = field(default_factory=dict)
    # Spend & Save campaigns of other stores, not compiled (a till's are decoded
    # only when asked for: see pos_promo.store.campaigns.OutOfScope)
    elsewhere: MutableMapping[str, SpendAndSave] = field(default_factory=dict)
    # each audience class's number by its facts (see audience_class): the
    # number is filed on the compiled campaign (``PromotionFacts.audience``), and
    # kept here so that campaigns a sync adds join their class
    audience_classes: dict[tuple[object, ...], int] = field(default_factory=dict)
    # by_item, by_category and store_wide as the look-up reads them (see
    # Listing): worked out from those once the index is filed (_list)
    item_listings: dict[str, Listing] = field(default_factory=dict)
    category_listings: dict[str, Listing] = field(default_factory=dict)
    store_wide_ids: dict[str, Compiled] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.by_id) + len(self.elsewhere)

    def compiled(self, campaign_id: str) -> Compiled | None:
        """The campaign compiled for this store, whichever store it is for."""
        found = self.by_id.get(campaign_id)
        if found is not None:
            return found
        raw = self.elsewhere.get(campaign_id)
        return None if raw is None else compile_campaign(raw, self.store)

    def knows(self, campaign_id: str) -> bool:
        """Whether a Spend & Save campaign ``campaign_id`` is in the set."""
        return campaign_id in self.by_id or campaign_id in self.elsewhere

    def considered(self, cart: Cart) -> list[Compiled]:
        """Campaigns that could touch the cart's items, plus those the cart names.

        Sorted by execution order (priority high to low, then id), so the
        answer does not depend on the order of lines or campaigns.
        """
        return self.lookup(cart)[0]

    def lookup(
        self, cart: Cart, *, ordered: bool = True
    ) -> tuple[list[Compiled], dict[str, tuple[int, ...]]]:
        """:meth:`considered`, and what the look-ups already tell about each one.
        (``ordered=False``: in no particular order, for a caller that orders
        what it makes of them itself.)

        The second value maps the id of a campaign found through the cart's
        items or categories to its eligible main lines (rising line index,
        excluded items left out; one tuple shared by all that reach the same
        lines): what :func:`~pos_promo.engine.spend_and_save.eligible_mains`
        would return for it. Store-wide and named campaigns are not in it.
        """
        found = self.store_wide_ids.copy()
        # the main lines by item and by category, as bit masks: each campaign
        # listed under one is then met once, not once per line
        # (no walk when every campaign is store-wide: none is listed under one)
        item_lines: dict[str, int] = {}
        category_lines: dict[str, int] = {}
        if self.item_listings or self.category_listings:
            for index, line in enumerate(cart.lines):
                if line.role != "main":
                    continue
                bit = 1 << index
                item_lines[line.item_id] = item_lines.get(line.item_id, 0) | bit
                for category in line.category_ids:
                    category_lines[category] = category_lines.get(category, 0) | bit
        reached: list[tuple[Listing, int]] = []
        for listings, masks in (
            (self.item_listings, item_lines),
            (self.category_listings, category_lines),
        ):
            for name, mask in masks.items():
                listing = listings.get(name)
                if listing is not None:
                    reached.append((listing, mask))
                    found.update(listing.found)
        hits = _main_lines(reached, item_lines)
        for wanted in cart.requested_promotions:
            named = self.compiled(wanted)
            if named is not None:
                found[named.id] = named
        if not ordered:
            return list(found.values()), hits
        # execution order: priority high to low, then id (ids are unique here,
        # and a reversed sort keeps equal priorities in id order)
        in_order = sorted(found.values(), key=_ID)
        in_order.sort(key=_PRIORITY, reverse=True)
        return in_order, hits

    def updated(self, campaigns: Iterable[Campaign]) -> CampaignIndex:
        """The index with ``campaigns`` added or put in place of the cached
        ones with their ids: the work follows the campaigns that changed,
        not the whole set (the look-up lists they were or are in are copied,
        the rest shared with this index, which stays as it was)."""
        changed = list(campaigns)
        ids = {c.id for c in changed}
        by_id, elsewhere = dict(self.by_id), copy.copy(self.elsewhere)
        by_item, by_category = dict(self.by_item), dict(self.by_category)
        templates = dict(self.templates)
        store_wide = self.store_wide
        for cid in ids:
            elsewhere.pop(cid, None)
            templates.pop(cid, None)
            old = by_id.pop(cid, None)
            if old is None:
                continue
            scope = old.items
            if scope.all_items:
                store_wide = [c for c in store_wide if c.id != cid]
                continue
            for key in scope.item_ids:
                _drop(by_item, key, cid)
            for key in scope.category_ids:
                _drop(by_category, key, cid)
        others = {
            kind: [c for c in listed if c.id not in ids] for kind, listed in self.others.items()
        }
        index = CampaignIndex(
            self.store,
            by_id,
            by_item,
            by_category,
            list(store_wide),
            templates,
            {kind: listed for kind, listed in others.items() if listed},
            elsewhere,
            dict(self.audience_classes),
        )
        index.item_listings.update(self.item_listings)
        index.category_listings.update(self.category_listings)
        index.store_wide_ids.update(self.store_wide_ids)
        items: set[str] = set()
        categories: set[str] = set()
        for cid in ids:
            index.store_wide_ids.pop(cid, None)
            old = self.by_id.get(cid)
            if old is not None:
                items.update(old.items.item_ids)
                categories.update(old.items.category_ids)
        for campaign in changed:
            _add(index, campaign, shared=True)
            new = index.by_id.get(campaign.id)
            if new is not None:
                items.update(new.items.item_ids)
                categories.update(new.items.category_ids)
        _list(index, items, categories)
        return index


def _drop(table: dict[str, list[Compiled]], key: str, campaign_id: str) -> None:
    kept = [c for c in table.get(key, ()) if c.id != campaign_id]
    if kept:
        table[key] = kept
    else:
        table.pop(key, None)


_ID = attrgetter("id")
_PRIORITY = attrgetter("priority")


def _add(index: CampaignIndex, campaign: Campaign, *, shared: bool) -> None:
    """File one campaign in ``index``; ``shared``: its look-up lists may be
    another index's too, so they are copied, not appended to."""
    if isinstance(campaign, CouponTemplate):
        index.templates[campaign.id] = campaign
        return
    if not isinstance(campaign, SpendAndSave):
        kind = type(campaign).__struct_config__.tag
        index.others.setdefault(str(kind), []).append(campaign)
        return
    if not store_in_scope(campaign, index.store):
        index.elsewhere[campaign.id] = campaign
        return
    compiled = compile_campaign(campaign, index.store)
    facts = audience_class(compiled)
    if facts is not None:
        classes = index.audience_classes
        number = classes.get(facts)
        if number is None:
            number = classes[facts] = len(classes)
        # set before anything reads it: the look-up reads the class off the
        # campaign it already holds, not out of a dict of every id (a probe
        # of a table of 50,000 per campaign reached)
        compiled.facts.audience = number
    index.by_id[compiled.id] = compiled
    if campaign.status == "archived":
        return
    scope = compiled.items
    if scope.all_items:
        index.store_wide.append(compiled)
        return
    for table, keys in ((index.by_item, scope.item_ids), (index.by_category, scope.category_ids)):
        for key in keys:
            if shared:
                table[key] = [*table.get(key, ()), compiled]
            else:
                table.setdefault(key, []).append(compiled)


def audience_class(c: Compiled) -> tuple[object, ...] | None:
    """Everything :func:`~pos_promo.engine.audience.check_audience` reads of
    a campaign without participation limits (status, period, calendar,
    store, channels, service types, participants), or ``None`` for one with
    limits (their counts are the member's for that campaign alone).

    Campaigns with equal facts get the same verdict, reason and facts for
    any cart: with thousands live, many share a period and audience, and a
    cart's evaluation checks each such class once, not each campaign."""
    if c.limits.per_member_total is not None or c.limits.per_member_daily is not None:
        return None
    campaign = c.campaign
    return (
        campaign.status,
        c.start,
        c.end,
        c.start_at,
        c.end_at,
        c.slots,
        c.wraps,
        c.dates,
        campaign.time_slots,
        c.in_store,
        campaign.channels,
        campaign.service_types,
        c.participants,
    )


def build_index(
    campaigns: Iterable[Campaign],
    store: StoreContext,
    elsewhere: MutableMapping[str, SpendAndSave] | None = None,
) -> CampaignIndex:
    """Compile the campaigns of ``store``; keep the rest for when they are asked
    for, in ``elsewhere`` when given (Spend & Save campaigns of other stores
    the caller has already set apart)."""
    index = CampaignIndex(store, {}, elsewhere={} if elsewhere is None else elsewhere)
    for campaign in campaigns:
        _add(index, campaign, shared=False)
    _list(index, index.by_item.keys(), index.by_category.keys())
    return index


def _list(index: CampaignIndex, items: Iterable[str], categories: Iterable[str]) -> None:
    """The listings of ``items`` and ``categories`` made again from the index's
    lists (dropped where none is left), and ``store_wide_ids`` made again
    when the store-wide campaigns it holds are not those of ``store_wide``
    (a sync dropped them from it: see :meth:`CampaignIndex.updated`)."""
    for listings, table, keys in (
        (index.item_listings, index.by_item, items),
        (index.category_listings, index.by_category, categories),
    ):
        for key in keys:
            listed = table.get(key)
            if listed:
                listings[key] = Listing.of(listed)
            else:
                listings.pop(key, None)
    found = index.store_wide_ids
    if len(found) != len(index.store_wide):
        found.clear()
        found.update({c.id: c for c in index.store_wide})


def _main_lines(
    reached: list[tuple[Listing, int]], item_lines: dict[str, int]
) -> dict[str, tuple[int, ...]]:
    """Each campaign the cart's items and categories reach (``reached``: each
    listing with the main lines its key reaches, as a bit mask), mapped to
    its main lines, excluded items left out: one tuple per set of lines,
    shared by the campaigns that reach it.

    A campaign listed under one reached key alone that leaves no item out
    (most of them) keeps that key's lines: those are filed a listing at a
    time by set and dict operations that run in C. Only the others (listed
    under two reached keys, or leaving items out) are added up one by one.
    """
    tuples: dict[int, tuple[int, ...]] = {}
    masks: dict[str, int] = {}  # the lines of those added up one by one, as bit masks
    # each listing's campaigns that keep every line its key reaches, with those lines
    kept: list[tuple[AbstractSet[str], int]] = []
    for listing, mask in reached:
        leaving = listing.leaving
        if leaving.keys().isdisjoint(item_lines):  # (mostly) none leaves out an item in the cart
            kept.append((listing.found.keys(), mask))
            continue
        odd: set[str] = set()
        for item in leaving.keys() & item_lines.keys():
            odd |= leaving[item]
        kept.append((listing.found.keys() - odd, mask))
        for key in odd:
            c = listing.found[key]
            lines = mask & ~items_lines(c.items.excluded_item_ids, item_lines)
            if lines:
                masks[key] = masks.get(key, 0) | lines
    hits: dict[str, tuple[int, ...]] = {}
    for listed, mask in kept:
        fresh = listed
        if not hits.keys().isdisjoint(listed):  # some met under a key before: lines added up
            both = listed & hits.keys()
            for key in both:
                if key not in masks:  # its lines so far: those it was given
                    masks[key] = sum(1 << line for line in hits[key])
                masks[key] |= mask
            fresh = listed - both
        hits.update(dict.fromkeys(fresh, _tuple_of(mask, tuples)))
    for key, mask in masks.items():
        hits[key] = _tuple_of(mask, tuples)
    return hits


def _tuple_of(mask: int, tuples: dict[int, tuple[int, ...]]) -> tuple[int, ...]:
    """The lines of ``mask``, one tuple per mask (kept in ``tuples``)."""
    found = tuples.get(mask)
    if found is None:
        found = tuples[mask] = tuple(positions(mask))
    return found
