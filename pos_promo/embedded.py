"""``Engine``: the object a POS embeds to evaluate, commit and refund offline.

This module is the till's face and holds no logic of its own: each method
accepts its input through the doors (:mod:`pos_promo.doors`, one
validation for every entry point), opens the transaction, and hands over
to the orchestration in :mod:`pos_promo.till` (read via the store, compute
via the engine, record via the store).

It owns one SQLite connection to the till's database, and keeps the
compiled campaign index in memory (:mod:`pos_promo.till.cache`), rebuilt
only when the cache changed. Every read-then-write runs under ``BEGIN
IMMEDIATE``; see :mod:`pos_promo.store.connection`.

The engine never reads the clock: an evaluation's instant is the ``at``
argument or the cart's own ``at``. Instants for bookkeeping (import, sent,
refund times) are optional arguments the edge (CLI, daemon) passes.

What only imports, refunds, reports and cumulative gifts use is imported
inside those methods: a till restarting to sell pays only for opening, evaluating and
committing (``tests/store/test_store_lean_start.py``).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import msgspec

from pos_promo.doors import (
    accept_campaigns,
    accept_cart,
    accept_counts,
    accept_coupons,
    accept_instant,
    accept_payments,
    accept_refund,
    accept_store,
)
from pos_promo.engine.index import CampaignIndex
from pos_promo.errors import InvalidRefund, InvalidStore, StoreMismatch
from pos_promo.model.campaign import Campaign
from pos_promo.model.cart import Cart, MemberCounts, StoreContext
from pos_promo.model.catalog import Catalog
from pos_promo.model.coupon import Coupon
from pos_promo.model.order import (
    CampaignMetrics,
    CampaignRow,
    ImportReport,
    OrderRecord,
    OutboxCounts,
    Payment,
    RefundRecord,
)
from pos_promo.model.result import Applied, EvaluationResult, NotApplied
from pos_promo.model.wallet import WalletEntry, WalletReport
from pos_promo.store import campaigns as cache
from pos_promo.store import meta, orders, outbox
from pos_promo.store import wallet as wallet_store
from pos_promo.store.connection import Durability, connect, immediate
from pos_promo.store.schema import MIGRATIONS
from pos_promo.till.cache import CampaignCache
from pos_promo.till.checks import cart_instant, payload_unknowns, wrapped
from pos_promo.till.sales import commit_order, evaluate_cart, explain_campaign

if TYPE_CHECKING:  # a path is any str or PathLike: pathlib itself is not needed to open
    from pathlib import Path

    from pos_promo.model.member import ActivityMetrics, MemberGifts  # the reports' own

__all__ = ["DEFAULT_DURABILITY", "Engine"]

DEFAULT_DURABILITY: Durability = "full"
"""A till loses power without warning; ``full`` fsyncs every commit so a
committed order survives it. See docs/store.md for the measured cost."""


class Engine:
    """One till's engine over its SQLite database. Use :meth:`open`."""

    def __init__(self, conn: sqlite3.Connection, path: str, store: StoreContext, till: str) -> None:
        self._conn = conn
        self.path = path
        self.store = store
        # the database's identity, drawn once by a migration and never
        # changed: read at open, not by every commit (its event ids mix it in)
        self._till = till
        self._cache = CampaignCache(store)

    # -- opening and closing ---------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | Path,
        store: StoreContext | None = None,
        *,
        durability: Durability = DEFAULT_DURABILITY,
    ) -> Engine:
        """Open (creating or migrating) the database at ``path`` for ``store``.

        The first open records the store; later opens may omit it, and must
        not name another store (one database per till). A changed time zone
        or organisation list for the same store id is recorded.
        """
        name = str(path)
        conn = connect(name, durability)
        try:
            with wrapped(name):
                MIGRATIONS.apply(conn)
                recorded = meta.recorded_store(conn)
                if store is None:
                    if recorded is None:
                        raise InvalidStore(
                            "store", "is required the first time a database is opened"
                        )
                    store = recorded
                else:
                    # The very store recorded was checked when it was recorded:
                    # checking its locale again would import Babel (~12 ms) at
                    # every start of a till that names its store each time.
                    store = recorded if store == recorded else accept_store(store)
                    if recorded is not None and recorded.id != store.id:
                        raise StoreMismatch(recorded.id, store.id)
                    if recorded != store:
                        with immediate(conn):
                            meta.record_store(conn, store)
                till = meta.till_identity(conn)
            engine = cls(conn, name, store, till)
            with wrapped(name):
                engine._cache.refresh(conn)
        except BaseException:
            conn.close()
            raise
        return engine

    def close(self) -> None:
        """Close the database connection (a ``with`` block does it for you)."""
        self._conn.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the campaign cache ----------------------------------------------------

    def import_campaigns(
        self,
        payload: bytes | str | Sequence[Campaign] | Catalog,
        *,
        at: dt.datetime | None = None,
    ) -> ImportReport:
        """Import a campaign list (the payload HQ serves) or a catalog, atomically.

        A catalog (:class:`~pos_promo.model.catalog.Catalog`) adds coupon
        templates, sharing plans and the execution order. The whole payload
        is checked first: one invalid document refuses it with its JSON path
        and leaves the cache unchanged.
        """
        catalog = accept_campaigns(payload)
        at = None if at is None else accept_instant(at, "at")
        unknown = payload_unknowns(payload, Catalog, list[Campaign])
        from pos_promo.till.catalog import import_catalog

        with wrapped(self.path):
            report = import_catalog(self._conn, self._cache, payload, catalog, at)
        if unknown:
            report = msgspec.structs.replace(report, unknown_fields=unknown)
        return report

    def campaigns(self) -> list[CampaignRow]:
        """Every cached campaign and coupon template: id, kind, version, status, name."""
        with wrapped(self.path):
            return cache.campaign_rows(self._conn)

    def campaign(self, campaign_id: str) -> Campaign:
        """One cached campaign in full; :class:`UnknownCampaign` if the cache has none."""
        with wrapped(self.path):
            return cache.get_campaign(self._conn, campaign_id)

    @property
    def index(self) -> CampaignIndex:
        """The compiled index, fresh as of this call."""
        with wrapped(self.path):
            self._cache.refresh(self._conn)
        return self._cache.index

    # -- the wallet --------------------------------------------------------------

    def add_coupons(
        self,
        coupons: Sequence[Coupon] | bytes | str,
        *,
        source: str = "hq",
        at: dt.datetime | None = None,
    ) -> WalletReport:
        """Add coupons to the wallet, or take newer state for ones it holds.

        For a POS that gets wallets from its own member service; the sync
        daemon does the same from HQ's member state. A coupon whose local
        redemption (or restoration) HQ has not confirmed keeps its local
        status (see :mod:`pos_promo.store.wallet`). The batch is checked
        whole first; ``source`` is recorded for new coupons.
        """
        batch = accept_coupons(coupons)
        at = None if at is None else accept_instant(at, "at")
        unknown = payload_unknowns(coupons, list[Coupon], list[Coupon])
        with wrapped(self.path), immediate(self._conn):
            report = wallet_store.upsert_coupons(self._conn, batch, source=source, at=at)
        if unknown:
            report = msgspec.structs.replace(report, unknown_fields=unknown)
        return report

    def knows_member(self, member_id: str) -> bool:
        """Whether this till holds anything about ``member_id``: an order, a
        participation, counts from HQ, a coupon or a gift row.

        :meth:`wallet` and :meth:`member` answer empty for a member the
        till does not know (a new member has nothing yet); the command line
        uses this to call an unknown id an error (most often a typo).
        """
        from pos_promo.store import members

        with wrapped(self.path):
            return members.knows_member(self._conn, member_id)

    def wallet(self, member_id: str) -> list[WalletEntry]:
        """Every coupon the wallet holds for ``member_id``, whatever its status."""
        with wrapped(self.path):
            return wallet_store.member_wallet(self._conn, member_id)

    # -- evaluate, commit, refund ----------------------------------------------

    def evaluate(
        self,
        cart: Cart | bytes | str,
        at: dt.datetime | None = None,
        *,
        counts: MemberCounts | None = None,
    ) -> EvaluationResult:
        """What the cart would get now, and what it would add to each cumulative gift.

        Changes nothing about the order. Gift coupons already due at the
        cart's instant are released first (what the daemon's job does), so
        the wallet is current even while the daemon is down. ``counts``
        (the member's participations) replace the database's, to ask "what
        if" (``pos-promo --db ... evaluate --counts FILE``).
        """
        cart = accept_cart(cart)
        instant = cart_instant(cart, at)
        counts = None if counts is None else accept_counts(counts)
        with wrapped(self.path):
            return evaluate_cart(self._conn, self._cache, cart, instant, counts)

    def explain(
        self,
        cart: Cart | bytes | str,
        campaign_id: str,
        at: dt.datetime | None = None,
        *,
        counts: MemberCounts | None = None,
    ) -> Applied | NotApplied:
        """One campaign's verdict for the cart, exactly as :meth:`evaluate` gives it.

        Same counts (this till's, or ``counts``), wallet, sharing plans,
        execution order and instant as an evaluation at this till now:
        "applies, $12.00" only if evaluate applies it, ``daily_limit_reached``
        if the member's counts say so. For a campaign the cart cannot touch,
        why (SPEC §8); :class:`UnknownCampaign` if the cache holds no such id.
        """
        cart = accept_cart(cart)
        instant = cart_instant(cart, at)
        counts = None if counts is None else accept_counts(counts)
        with wrapped(self.path):
            return explain_campaign(self._conn, self._cache, cart, campaign_id, instant, counts)

    def commit(
        self,
        cart: Cart | bytes | str,
        payments: Sequence[Payment] | Sequence[Mapping[str, Any]] | None = None,
        at: dt.datetime | None = None,
    ) -> EvaluationResult:
        """Evaluate and record the order in one transaction; idempotent on ``order_id``.

        Committing an order id that was already committed returns the
        first result, marked ``repeat=True``, and writes nothing, whatever
        this cart and these payments say. The
        evaluation runs inside the write transaction, against the wallet as
        it is then: of two tills presenting one coupon, the second sees it
        redeemed and commits its order without it.
        """
        cart = accept_cart(cart)
        instant = cart_instant(cart, at)
        paid = None if payments is None else accept_payments(payments)
        with wrapped(self.path), immediate(self._conn):
            return commit_order(self._conn, self._cache, cart, instant, paid, self._till)

    def refund(
        self,
        order_id: str,
        lines: Mapping[str, int] | None = None,
        *,
        refund_id: str | None = None,
        at: dt.datetime | None = None,
    ) -> RefundRecord:
        """Give back a whole order (``lines=None``) or ``{line_id: units}`` of it.

        The kept units are re-evaluated with the order's own receipt (same
        versions, instant, member facts and counts; only the benefits the
        order applied, which may change tier, shrink or drop out): the money
        back is what was paid so far minus what the kept units now cost,
        never below zero. A side or modifier goes back with its main unit.
        A promotion that no longer applies gives its participation back and
        a coupon the kept units no longer use returns to the wallet; a full
        refund gives back all of them. See docs/store.md, "Refunds". Pass
        ``refund_id`` to make a retried refund safe.
        """
        order_id, lines, refund_id = accept_refund(order_id, lines, refund_id)
        at = None if at is None else accept_instant(at, "at", InvalidRefund)
        from pos_promo.till.refunds import refund_order

        with wrapped(self.path), immediate(self._conn):
            self._cache.refresh(self._conn)
            return refund_order(
                self._conn, self.store, self._cache.gifts, order_id, lines, refund_id, at
            )

    def order(self, order_id: str) -> OrderRecord:
        """A committed order: its first result, receipt, cart, payments and refunds.

        Everything a reprint or a refund slip needs; :class:`UnknownOrder`
        if this database committed no such order.
        """
        with wrapped(self.path):
            return orders.load_order(self._conn, order_id)

    # -- cumulative gifts --------------------------------------------------------

    def release_gifts(self, now: dt.datetime) -> tuple[str, ...]:
        """Issue the scheduled gift coupons due at ``now``; the ids released.

        Idempotent: a coupon is released once, whoever asks first (the
        daemon's ``release_gifts`` job, a commit, an evaluation). The engine
        never reads the clock, so ``now`` is the caller's.
        """
        from pos_promo.store import gifts

        now = accept_instant(now, "now")
        with wrapped(self.path), immediate(self._conn):
            return gifts.release(self._conn, self.store.id, now)

    def member(self, member_id: str) -> MemberGifts:
        """One member's cumulative gift totals, grants and wallet as this till knows them."""
        from pos_promo.till.reports import member_gifts

        with wrapped(self.path):
            self._cache.refresh(self._conn)
            return member_gifts(self._conn, member_id, self._cache.gifts.every, self.store.currency)

    def gift_report(self) -> list[ActivityMetrics]:
        """Per activity at this till: members, accrued total, grants, coupons."""
        from pos_promo.till.reports import gift_metrics

        with wrapped(self.path):
            self._cache.refresh(self._conn)
            return gift_metrics(self._conn, self._cache.gifts.every)

    # -- reporting and the outbox ----------------------------------------------

    def report(self) -> list[CampaignMetrics]:
        """Per campaign at this till: orders, members, discount given and refunded, net."""
        from pos_promo.store.metrics import campaign_metrics

        with wrapped(self.path):
            return campaign_metrics(self._conn)

    def outbox_counts(self) -> OutboxCounts:
        """How many events wait for HQ, and how many HQ holds (``pos-promo outbox``).

        Reading and acknowledging events is the sync daemon's business
        (:mod:`pos_promo.sync.outbox`), not the till's.
        """
        with wrapped(self.path):
            return outbox.outbox_counts(self._conn)
