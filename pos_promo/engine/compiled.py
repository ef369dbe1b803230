"""Campaigns compiled for one store: everything a cart check needs, precomputed.

Compiling resolves the store-specific rule, cap and application order once,
turns slots into minute ranges and scopes into sets, so that checking a
campaign against a cart is a handful of set look-ups.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import msgspec

from pos_promo.codec import load_zone
from pos_promo.engine.clock import Slot, clock_minutes, wall_end, wall_start
from pos_promo.engine.promotion_facts import PromotionFacts
from pos_promo.engine.sharing import Rules, resolve
from pos_promo.model.base import CampaignBase, StoreScope
from pos_promo.model.campaign import (
    ApplicationOrder,
    ItemsFree,
    ItemsSave,
    Limits,
    Participants,
    SpendAndSave,
    SpendSave,
    SpendSaveRule,
)
from pos_promo.model.cart import StoreContext
from pos_promo.model.common import ChildRule, ItemScope, Sharing

__all__ = [
    "FREE",
    "ITEMS",
    "MONEY",
    "AudienceFacts",
    "Compiled",
    "child_bits",
    "compile_audience",
    "compile_campaign",
    "compile_slots",
    "most_saved",
    "period_instants",
    "scope_includes",
    "store_in_scope",
    "tier_table",
]


class AudienceFacts(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Who and when, for a campaign of any other kind (a coupon template, a
    cumulative gift), as one store sees it: what the audience checks read.

    A frozen struct, not a dataclass: the same value semantics (equal and
    hashed field by field, immutable), at a fraction of the cost to define
    when a till starts and to build for each campaign it compiles.
    Untracked by the garbage collector (``gc=False``): a till holds one per
    campaign it can run, tens of thousands, that every full collection
    walked (81 -> 43 ms at 50,000 live); it holds the campaign and values
    made from it, none of which can lead back to it."""

    campaign: CampaignBase
    id: str
    kind: str
    in_store: bool
    start: dt.datetime  # the period as the campaign says it: store-local wall clock
    end: dt.datetime
    # the period as instants (UTC), by the clock module's rule: from the first
    # time the store's clock shows its start to the last time it shows its end
    start_at: dt.datetime
    end_at: dt.datetime
    slots: tuple[Slot, ...]
    wraps: bool
    dates: frozenset[dt.date]
    participants: Participants
    limits: Limits


class Compiled(AudienceFacts, frozen=True, kw_only=True, gc=False):
    """A Spend & Save campaign as one store sees it: its audience facts plus
    the rule, cap and order resolved for the store."""

    campaign: SpendAndSave
    priority: int
    items: ItemScope
    rule: SpendSaveRule
    max_discount: int | None
    application_order: ApplicationOrder
    sides: ChildRule
    modifiers: ChildRule
    auto_apply: bool
    sharing: Sharing
    # the numbers and names read on every evaluation, as a class compiled
    # code reads without a generic look-up (see promotion_facts)
    facts: PromotionFacts
    # its stacking rules when it names no sharing plan (a plan's settings
    # arrive with each evaluation, so those are resolved then)
    rules: Rules | None = None

    @property
    def store_wide(self) -> bool:
        """Whether the campaign's items are every item: then no line needs a scope check."""
        return self.items.all_items


def store_in_scope(campaign: CampaignBase, store: StoreContext) -> bool:
    """Listed store, or any organisation node above it, or all stores."""
    return scope_includes(campaign.stores, store)


def scope_includes(scope: StoreScope, store: StoreContext) -> bool:
    """:func:`store_in_scope` on the scope alone (a till opening reads only
    the scope of a cached campaign to tell whether to decode it whole)."""
    if scope == "all":
        return True
    return store.id in scope.store_ids or not scope.org_ids.isdisjoint(store.org_ids)


def period_instants(campaign: CampaignBase, store: StoreContext) -> tuple[dt.datetime, dt.datetime]:
    """The campaign's period as instants in the store's zone: from the first time
    its clock shows the start to the last time it shows the end (an end in a
    repeated hour is its second pass), so the period is one stretch of time."""
    zone = load_zone(store.timezone)
    return wall_start(campaign.period.start, zone), wall_end(campaign.period.end, zone)


def compile_slots(campaign: CampaignBase) -> tuple[Slot, ...]:
    """The campaign's time slots as minute ranges."""
    return tuple(
        Slot(slot.weekdays, clock_minutes(slot.start), clock_minutes(slot.end))
        for slot in campaign.time_slots
    )


def compile_audience(
    campaign: CampaignBase, store: StoreContext, kind: str, limits: Limits | None = None
) -> AudienceFacts:
    """The audience facts of one campaign for one store, resolved once (slots, period instants in
    the store's zone, limits) so each evaluation only compares."""
    slots = compile_slots(campaign)
    start_at, end_at = period_instants(campaign, store)
    return AudienceFacts(
        campaign=campaign,
        id=campaign.id,
        kind=kind,
        in_store=store_in_scope(campaign, store),
        start=campaign.period.start,
        end=campaign.period.end,
        start_at=start_at,
        end_at=end_at,
        slots=slots,
        wraps=any(slot.wraps for slot in slots),
        dates=campaign.dates,
        participants=campaign.participants,
        limits=limits or Limits(),
    )


def compile_campaign(campaign: SpendAndSave, store: StoreContext) -> Compiled:
    """A Spend & Save campaign compiled for one store: the store rule that overrides the tiers,
    cap and application order applied, the item scope resolved."""
    rule, cap, order = campaign.rule, campaign.max_discount, campaign.application_order
    for store_rule in campaign.store_rules:
        if store.id in store_rule.store_ids:
            rule = store_rule.rule or rule
            cap = store_rule.max_discount if store_rule.max_discount is not None else cap
            order = store_rule.application_order or order
            break
    slots = compile_slots(campaign)
    in_store = store_in_scope(campaign, store)
    start_at, end_at = period_instants(campaign, store)
    rules = resolve("promotion", campaign.sharing, None) if not campaign.sharing_plan else None
    facts = PromotionFacts(
        campaign_id=campaign.id,
        kind="spend_and_save",
        name=campaign.name,
        plan=campaign.sharing_plan if rules is None else None,
        all_items=campaign.items.all_items,
        excludes=bool(campaign.items.excluded_item_ids),
        auto_apply=campaign.auto_apply,
        cap=-1 if cap is None else cap,
        child_bits=child_bits(campaign.sides, campaign.modifiers),
        most=most_saved(rule, cap),
        **tier_table(rule),
    )
    return Compiled(
        campaign=campaign,
        id=campaign.id,
        kind="spend_and_save",
        priority=campaign.priority,
        in_store=in_store,
        start=campaign.period.start,
        end=campaign.period.end,
        start_at=start_at,
        end_at=end_at,
        slots=slots,
        wraps=any(slot.wraps for slot in slots),
        dates=campaign.dates,
        participants=campaign.participants,
        limits=campaign.limits,
        items=campaign.items,
        rule=rule,
        max_discount=cap,
        application_order=order,
        sides=campaign.sides,
        modifiers=campaign.modifiers,
        auto_apply=campaign.auto_apply,
        sharing=campaign.sharing,
        facts=facts,
        rules=rules,
    )


MONEY, ITEMS, FREE = 0, 1, 2  # what a rule's thresholds count, and what its tiers give


def tier_table(rule: SpendSaveRule) -> dict[str, Any]:
    """The rule's tiers as plain numbers, so that picking the tier a cart meets
    is a loop over ints: ``measure`` (MONEY: spend and save; ITEMS: items and
    save; FREE: buy X get Y free), each tier's ``thresholds`` (spend, items,
    or X + Y) and ``values`` (the saving, or Y), and the lowest threshold
    (``floor``), below which no tier is met; and whether its bound reads
    what the benefits before it take off (``reads_before``: a free, or a
    tier saving less than the one below it), asked of every qualifying
    promotion of every cart, so worked out once here."""
    if isinstance(rule, SpendSave):
        measure = MONEY
        thresholds = tuple(step.spend for step in rule.tiers)
        values = tuple(step.save for step in rule.tiers)
    elif isinstance(rule, ItemsSave):
        measure = ITEMS
        thresholds = tuple(step.items for step in rule.tiers)
        values = tuple(step.save for step in rule.tiers)
    else:
        measure = FREE
        thresholds = tuple(step.buy + step.free for step in rule.tiers)
        values = tuple(step.free for step in rule.tiers)
    return {
        "measure": measure,
        "thresholds": thresholds,
        "values": values,
        "floor": min(thresholds),
        "reads_before": measure == FREE or any(a > b for a, b in itertools.pairwise(values)),
    }


def most_saved(rule: SpendSaveRule, cap: int | None) -> int:
    """The most a rule capped at ``cap`` gives on any cart: its largest tier
    saving, or the cap if lower; -1 for "buy X get Y free", whose saving is
    the price of what it frees."""
    if isinstance(rule, ItemsFree):
        return -1
    most = max(step.save for step in rule.tiers)
    return most if cap is None else min(most, cap)


def child_bits(sides: ChildRule, modifiers: ChildRule) -> int:
    """The four side and modifier settings as bits: side counts 1, side shares
    2, modifier counts 4, modifier shares 8."""
    return (
        sides.counts_toward_threshold
        | sides.shares_discount << 1
        | modifiers.counts_toward_threshold << 2
        | modifiers.shares_discount << 3
    )
