"""The campaign set compiled once for a store, indexed by item and category.

Evaluation cost follows the campaigns that can touch a cart, not the whole
set: campaigns of other stores are left out when the index is built, and a
cart looks up only its own items and categories plus the store-wide ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter

from pos_promo.engine.compiled import Compiled, compile_campaign
from pos_promo.model.base import CampaignBase
from pos_promo.model.campaign import Campaign, SpendAndSave
from pos_promo.model.cart import Cart, StoreContext
from pos_promo.model.coupon import CouponTemplate

__all__ = ["CampaignIndex", "build_index"]


@dataclass(frozen=True)
class CampaignIndex:
    """Compiled campaigns of one store, with look-ups by id, item and category."""

    store: StoreContext
    by_id: dict[str, Compiled]
    by_item: dict[str, list[Compiled]] = field(default_factory=dict)
    by_category: dict[str, list[Compiled]] = field(default_factory=dict)
    store_wide: list[Compiled] = field(default_factory=list)
    # coupon templates by id, and every other kind (cumulative gifts...) by kind
    templates: dict[str, CouponTemplate] = field(default_factory=dict)
    others: dict[str, list[CampaignBase]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.by_id)

    def considered(self, cart: Cart) -> list[Compiled]:
        """Campaigns that could touch the cart's items, plus those the cart names.

        Sorted by execution order (priority high to low, then id), so the
        answer does not depend on the order of lines or campaigns.
        """
        return self.lookup(cart)[0]

    def lookup(self, cart: Cart) -> tuple[list[Compiled], dict[int, list[int]]]:
        """:meth:`considered`, and what the look-ups already tell about each one.

        The second value maps ``id(campaign)`` of a campaign found through
        the cart's items or categories to its eligible main lines (rising
        line index, excluded items left out): what
        :func:`~pos_promo.engine.spend_and_save.eligible_mains` would
        return for it. Store-wide and named campaigns are not in it.
        """
        found: dict[str, Compiled] = {c.id: c for c in self.store_wide}
        hits: dict[int, list[int]] = {}
        by_item, by_category = self.by_item, self.by_category
        for index, line in enumerate(cart.lines):
            if line.role != "main":
                continue
            item = line.item_id
            groups = [by_item.get(item, ())]
            groups.extend(by_category.get(category, ()) for category in line.category_ids)
            for group in groups:
                for c in group:
                    found[c.id] = c
                    if item not in c.items.excluded_item_ids:
                        got = hits.get(id(c))
                        if got is None:
                            hits[id(c)] = [index]
                        elif got[-1] != index:
                            got.append(index)
        for wanted in cart.requested_promotions:
            named = self.by_id.get(wanted)
            if named is not None:
                found[named.id] = named
        # execution order: priority high to low, then id (ids are unique here,
        # and a reversed sort keeps equal priorities in id order)
        ordered = sorted(found.values(), key=_ID)
        ordered.sort(key=_PRIORITY, reverse=True)
        return ordered, hits


_ID = attrgetter("id")
_PRIORITY = attrgetter("priority")


def build_index(campaigns: Iterable[Campaign], store: StoreContext) -> CampaignIndex:
    """Compile every campaign for ``store``; only in-store ones go in the look-ups."""
    index = CampaignIndex(store, {})
    for campaign in campaigns:
        if isinstance(campaign, CouponTemplate):
            index.templates[campaign.id] = campaign
            continue
        if not isinstance(campaign, SpendAndSave):
            kind = type(campaign).__struct_config__.tag
            index.others.setdefault(str(kind), []).append(campaign)
            continue
        compiled = compile_campaign(campaign, store)
        index.by_id[compiled.id] = compiled
        if not compiled.in_store or campaign.status == "archived":
            continue
        scope = compiled.items
        if scope.all_items:
            index.store_wide.append(compiled)
            continue
        for item in scope.item_ids:
            index.by_item.setdefault(item, []).append(compiled)
        for category in scope.category_ids:
            index.by_category.setdefault(category, []).append(compiled)
    return index
