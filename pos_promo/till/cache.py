"""The compiled campaign cache a till evaluates against, kept fresh cheaply.

The index, the sharing plans, the execution order and the gift set-up are
compiled from the store's campaign cache and kept in memory. They are
rebuilt only when the cache changed: after this engine's own import, or
when another process (the sync daemon) committed one, which ``PRAGMA
data_version`` reveals cheaply and the cache version counter confirms. A
change to Spend & Save campaigns alone updates the index in place.

The gift rules (:mod:`pos_promo.engine.accrual`) are imported only when the
cache holds a cumulative gift: a till without one never loads them.
"""

from __future__ import annotations

import sqlite3
import zoneinfo
from collections.abc import Mapping
from typing import TYPE_CHECKING

import msgspec

from pos_promo.codec import load_zone
from pos_promo.engine.compiled import scope_includes
from pos_promo.engine.index import CampaignIndex, build_index
from pos_promo.model.campaign import SpendAndSave
from pos_promo.model.cart import StoreContext
from pos_promo.model.common import Sharing
from pos_promo.model.coupon import CouponTemplate, ExecutionOrder
from pos_promo.model.gift import CumulativeGift
from pos_promo.store import campaigns as cache
from pos_promo.store import documents, meta

if TYPE_CHECKING:
    from pos_promo.engine.accrual import CompiledActivity

__all__ = ["CampaignCache", "GiftSetup"]


class GiftSetup(msgspec.Struct, frozen=True):
    """What the gift rules need from the campaign cache, compiled with the index.

    ``activities`` are the store's live ones (archived and other stores'
    left out); ``every`` holds every cached activity by id, whatever its
    status, for refunds of orders an activity has since left.
    """

    store: StoreContext
    zone: zoneinfo.ZoneInfo
    activities: tuple[CompiledActivity, ...] = ()
    every: Mapping[str, CumulativeGift] = msgspec.field(default_factory=dict)
    templates: Mapping[str, CouponTemplate] = msgspec.field(default_factory=dict)
    plans: Mapping[str, Sharing] = msgspec.field(default_factory=dict)


class CampaignCache:
    """One till's compiled view of its campaign cache (see the module docstring).

    Not thread-safe, like the connection it reads through: one per
    :class:`~pos_promo.embedded.Engine`.
    """

    def __init__(self, store: StoreContext) -> None:
        self.store = store
        self.index: CampaignIndex = build_index((), store)
        self.plans: dict[str, Sharing] = {}
        self.plan_versions: dict[str, int] = {}
        self.order: ExecutionOrder | None = None
        self.gifts = GiftSetup(store, load_zone(store.timezone))
        self._data_version = -1
        self._cache_version = -1

    def refresh(self, conn: sqlite3.Connection) -> None:
        """Update the index if another connection changed the cache since last look."""
        data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        if data_version == self._data_version:
            return
        self._data_version = data_version
        # one read transaction: campaigns, plans and the execution order all from
        # one snapshot, so a publication the daemon swaps in is seen whole or not
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")
        try:
            version = meta.cache_version(conn)
            if version != self._cache_version:
                self.catch_up(conn, version)
        finally:
            if own:
                conn.execute("COMMIT")

    def catch_up(self, conn: sqlite3.Connection, version: int) -> None:
        """Bring the index to cache ``version``: update it for the Spend & Save
        campaigns written since the index's own version, or rebuild it all
        when anything else changed (coupon templates, gift activities and
        sharing plans feed the gift set-up, which is built as a whole)."""
        if self._cache_version < 0:
            self._rebuild(conn, version)
            return
        changed = cache.changed_since(conn, self._cache_version)
        plans = documents.load_plans(conn)
        same_plans = {pid: plan.version for pid, plan in plans.items()} == self.plan_versions
        if not same_plans or not all(isinstance(c, SpendAndSave) for c in changed):
            self._rebuild(conn, version)
            return
        self.index = self.index.updated(changed)
        self.order = documents.load_execution_order(conn)
        self._cache_version = version

    def _rebuild(self, conn: sqlite3.Connection, version: int) -> None:
        """Reload campaigns (coupon templates included), sharing plans and the
        execution order: one cache version covers all three."""
        store = self.store
        campaigns, elsewhere = cache.load_split(conn, lambda scope: scope_includes(scope, store))
        self.index = build_index(campaigns, self.store, elsewhere)
        plans = documents.load_plans(conn)
        self.plans = {pid: plan.sharing for pid, plan in plans.items()}
        self.plan_versions = {pid: plan.version for pid, plan in plans.items()}
        self.order = documents.load_execution_order(conn)
        every = {c.id: c for c in campaigns if isinstance(c, CumulativeGift)}
        activities: tuple[CompiledActivity, ...] = ()
        if every:  # else there is no activity to compile
            from pos_promo.engine.accrual import compile_activities

            activities = compile_activities(campaigns, self.store, self.plans)
        self.gifts = GiftSetup(
            self.store,
            load_zone(self.store.timezone),
            activities,
            every,
            self.index.templates,
            self.plans,
        )
        self._cache_version = version
