"""A minimal indexed evaluator: the floor a promotion engine cannot go under.

An index by item, category and "all items" over the same decoded campaigns,
and per cart: look up the campaigns its lines reach, add up each one's
eligible spend or item count, check the first tier's threshold, and keep
the largest saving. No audience, stacking, allocation or explanation. The
evaluate benchmark times it on the same carts in the same run, so the
ratio says how much the real engine costs above the bare look-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pos_promo.model.campaign import Campaign, ItemsFree, SpendAndSave, SpendSave
from pos_promo.model.cart import Cart

__all__ = ["MinimalIndex", "best_single"]


@dataclass
class MinimalIndex:
    by_item: dict[str, list[SpendAndSave]] = field(default_factory=dict)
    by_category: dict[str, list[SpendAndSave]] = field(default_factory=dict)
    everywhere: list[SpendAndSave] = field(default_factory=list)

    @classmethod
    def build(cls, campaigns: list[Campaign]) -> MinimalIndex:
        index = cls()
        for c in campaigns:
            if not isinstance(c, SpendAndSave):
                continue
            if c.items.all_items:
                index.everywhere.append(c)
                continue
            for item in c.items.item_ids:
                index.by_item.setdefault(item, []).append(c)
            for category in c.items.category_ids:
                index.by_category.setdefault(category, []).append(c)
        return index


def best_single(cart: Cart, index: MinimalIndex) -> int:
    """The largest first-tier saving among the campaigns the cart reaches."""
    spend: dict[int, int] = {}
    count: dict[int, int] = {}
    found: dict[int, SpendAndSave] = {}
    for line in cart.lines:
        if line.role != "main":
            continue
        reached = list(index.by_item.get(line.item_id, ()))
        for category in line.category_ids:
            reached.extend(index.by_category.get(category, ()))
        reached.extend(index.everywhere)
        seen: set[int] = set()
        for c in reached:
            key = id(c)
            if key in seen:  # through its item and its category
                continue
            seen.add(key)
            found[key] = c
            spend[key] = spend.get(key, 0) + line.unit_price * line.quantity
            count[key] = count.get(key, 0) + line.quantity
    best = 0
    for key, c in found.items():
        rule = c.rule
        if isinstance(rule, SpendSave):
            if spend[key] >= rule.tiers[0].spend:
                best = max(best, rule.tiers[0].save)
        elif isinstance(rule, ItemsFree):
            if count[key] >= rule.tiers[0].buy + rule.tiers[0].free:
                best = max(best, 1)
        elif count[key] >= rule.tiers[0].items:
            best = max(best, rule.tiers[0].save)
    return best
