"""``Engine``: the object a POS embeds to evaluate, commit and refund offline.

It owns one SQLite connection to the till's database, and keeps the
compiled campaign index in memory. The index is rebuilt only when the
cache changed: after this engine's own import, or when another process
(the sync daemon) committed one, which ``PRAGMA data_version`` reveals
cheaply and the cache version counter confirms. Every read-then-write runs
under ``BEGIN IMMEDIATE``; see :mod:`pos_promo.store.connection`.

The engine never reads the clock: an evaluation's instant is the ``at``
argument or the cart's own ``at``. Instants for bookkeeping (import, sent,
refund times) are optional arguments the edge (CLI, daemon) passes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import msgspec

from pos_promo.codec import load_zone
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
from pos_promo.engine.accrual import compile_activities
from pos_promo.engine.audience import Context
from pos_promo.engine.clock import LocalMoment, local_moment
from pos_promo.engine.evaluate import evaluate, explain
from pos_promo.engine.gift_orders import OrderGift, order_gifts
from pos_promo.engine.index import CampaignIndex, build_index
from pos_promo.errors import (
    InvalidCart,
    InvalidPayment,
    InvalidRefund,
    InvalidStore,
    StoreError,
    StoreMismatch,
)
from pos_promo.gift_codec import check_gift_templates
from pos_promo.model.campaign import Campaign, SpendAndSave
from pos_promo.model.cart import Cart, MemberCounts, StoreContext
from pos_promo.model.catalog import Catalog
from pos_promo.model.common import Sharing
from pos_promo.model.coupon import Coupon, ExecutionOrder, SharingPlan
from pos_promo.model.gift import CumulativeGift
from pos_promo.model.member import ActivityMetrics, MemberGifts
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
from pos_promo.store import (
    documents,
    gift_coupons,
    gift_ledger,
    gifts,
    members,
    meta,
    orders,
    outbox,
    refunds,
)
from pos_promo.store import wallet as wallet_store
from pos_promo.store.connection import Durability, connect, immediate
from pos_promo.store.counts import member_counts
from pos_promo.store.gift_coupons import EventRow
from pos_promo.store.gift_report import gift_metrics, member_gifts
from pos_promo.store.metrics import campaign_metrics
from pos_promo.store.receipts import build_receipt
from pos_promo.store.schema import MIGRATIONS
from pos_promo.unknown import unknown_fields

__all__ = ["DEFAULT_DURABILITY", "Engine"]

DEFAULT_DURABILITY: Durability = "full"
"""A till loses power without warning; ``full`` fsyncs every commit so a
committed order survives it. See docs/store.md for the measured cost."""


class Engine:
    """One till's engine over its SQLite database. Use :meth:`open`."""

    def __init__(self, conn: sqlite3.Connection, path: str, store: StoreContext) -> None:
        self._conn = conn
        self.path = path
        self.store = store
        self._index: CampaignIndex = build_index((), store)
        self._plans: dict[str, Sharing] = {}
        self._plan_versions: dict[str, int] = {}
        self._order: ExecutionOrder | None = None
        self._gifts = gifts.GiftSetup(store, load_zone(store.timezone))
        self._data_version = -1
        self._cache_version = -1

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
            with _wrapped(name):
                MIGRATIONS.apply(conn)
                recorded = meta.recorded_store(conn)
                if store is None:
                    if recorded is None:
                        raise InvalidStore(
                            "store", "is required the first time a database is opened"
                        )
                    store = recorded
                else:
                    store = accept_store(store)
                    if recorded is not None and recorded.id != store.id:
                        raise StoreMismatch(recorded.id, store.id)
                    if recorded != store:
                        with immediate(conn):
                            meta.record_store(conn, store)
            engine = cls(conn, name, store)
            with _wrapped(name):
                engine._refresh()
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

    def _refresh(self) -> None:
        """Update the index if another connection changed the cache since last look."""
        data_version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if data_version == self._data_version:
            return
        self._data_version = data_version
        # one read transaction: campaigns, plans and the execution order all from
        # one snapshot, so a publication the daemon swaps in is seen whole or not
        own = not self._conn.in_transaction
        if own:
            self._conn.execute("BEGIN")
        try:
            version = meta.cache_version(self._conn)
            if version != self._cache_version:
                self._catch_up(version)
        finally:
            if own:
                self._conn.execute("COMMIT")

    def _catch_up(self, version: int) -> None:
        """Bring the index to cache ``version``: update it for the Spend & Save
        campaigns written since the index's own version, or rebuild it all
        when anything else changed (coupon templates, gift activities and
        sharing plans feed the gift set-up, which is built as a whole)."""
        if self._cache_version < 0:
            self._rebuild(version)
            return
        changed = cache.changed_since(self._conn, self._cache_version)
        plans = documents.load_plans(self._conn)
        same_plans = {pid: plan.version for pid, plan in plans.items()} == self._plan_versions
        if not same_plans or not all(isinstance(c, SpendAndSave) for c in changed):
            self._rebuild(version)
            return
        self._index = self._index.updated(changed)
        self._order = documents.load_execution_order(self._conn)
        self._cache_version = version

    def _rebuild(self, version: int) -> None:
        """Reload campaigns (coupon templates included), sharing plans and the
        execution order: one cache version covers all three."""
        campaigns = cache.load_campaigns(self._conn)
        self._index = build_index(campaigns, self.store)
        plans = documents.load_plans(self._conn)
        self._plans = {pid: plan.sharing for pid, plan in plans.items()}
        self._plan_versions = {pid: plan.version for pid, plan in plans.items()}
        self._order = documents.load_execution_order(self._conn)
        self._gifts = gifts.GiftSetup(
            self.store,
            load_zone(self.store.timezone),
            compile_activities(campaigns, self.store, self._plans),
            {c.id: c for c in campaigns if isinstance(c, CumulativeGift)},
            self._index.templates,
            self._plans,
        )
        self._cache_version = version

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
        unknown = _unknown(payload, Catalog, list[Campaign])
        campaigns = (*catalog.campaigns, *catalog.coupon_templates)
        docs: list[SharingPlan | ExecutionOrder] = [*catalog.sharing_plans]
        if catalog.execution_order is not None:
            docs.append(catalog.execution_order)
        with _wrapped(self.path), immediate(self._conn):
            _check_gift_templates(self._conn, payload, catalog)
            report = cache.apply_import(self._conn, campaigns, at)
            changed = documents.apply_documents(self._conn, docs, at)
            if changed:
                report = msgspec.structs.replace(
                    report,
                    plans_changed=tuple(
                        sorted(i for t, i in changed if t == documents.SHARING_PLAN)
                    ),
                    execution_order=catalog.execution_order.version
                    if catalog.execution_order is not None
                    and (documents.EXECUTION_ORDER, documents.EXECUTION_ORDER_ID) in changed
                    else None,
                )
            if report.changed:
                self._catch_up(meta.cache_version(self._conn))
        if unknown:
            report = msgspec.structs.replace(report, unknown_fields=unknown)
        return report

    def campaigns(self) -> list[CampaignRow]:
        """Every cached campaign and coupon template: id, kind, version, status, name."""
        with _wrapped(self.path):
            return cache.campaign_rows(self._conn)

    def campaign(self, campaign_id: str) -> Campaign:
        """One cached campaign in full; :class:`UnknownCampaign` if the cache has none."""
        with _wrapped(self.path):
            return cache.get_campaign(self._conn, campaign_id)

    @property
    def index(self) -> CampaignIndex:
        """The compiled index, fresh as of this call."""
        with _wrapped(self.path):
            self._refresh()
        return self._index

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
        unknown = _unknown(coupons, list[Coupon], list[Coupon])
        with _wrapped(self.path), immediate(self._conn):
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
        with _wrapped(self.path):
            return members.knows_member(self._conn, member_id)

    def wallet(self, member_id: str) -> list[WalletEntry]:
        """Every coupon the wallet holds for ``member_id``, whatever its status."""
        with _wrapped(self.path):
            return wallet_store.member_wallet(self._conn, member_id)

    # -- evaluate, commit, refund ----------------------------------------------

    def _counts(self, cart: Cart, now: LocalMoment) -> MemberCounts | None:
        """The member's participation counts as this till knows them on ``now``'s day."""
        member = cart.member
        return None if member is None else member_counts(self._conn, member.id, now.day)

    def _evaluate(
        self, cart: Cart, instant: dt.datetime, now: LocalMoment, counts: MemberCounts | None = None
    ) -> tuple[EvaluationResult, dict[str, Coupon], MemberCounts | None]:
        """Evaluate against the cache, the counts and the wallet as this connection
        sees them now (``now``: ``instant`` on the store's clock, whose day the
        daily counts are for; ``counts``, when given, instead of the
        database's); the wallet entries of the presented coupons and the counts
        used come back for the receipt."""
        self._refresh()
        presented = wallet_store.presented(self._conn, cart.coupons) if cart.coupons else {}
        if counts is None:
            counts = self._counts(cart, now)
        result = evaluate(
            cart,
            self._index,
            at=instant,
            counts=counts,
            plans=self._plans,
            wallet=presented,
            order=self._order,
        )
        return result, presented, counts

    def _order_gifts(
        self,
        cart: Cart,
        result: EvaluationResult,
        payments: Sequence[Payment],
        now: LocalMoment,
        *,
        grant: bool,
    ) -> tuple[OrderGift, ...]:
        """The engine's decision for each live gift activity, from the member's
        standing as this connection reads it."""
        member = cart.member
        standings = gift_ledger.standing(self._conn, member.id) if member is not None else {}
        return order_gifts(
            self._gifts.activities,
            Context(cart, self.store, now, {}),
            result,
            payments,
            standings,
            self._gifts.templates,
            self._gifts.zone,
            grant=grant,
        )

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
        instant = _instant(cart, at)
        counts = None if counts is None else accept_counts(counts)
        with _wrapped(self.path):
            if gift_coupons.has_due(self._conn, instant):
                with immediate(self._conn):
                    gifts.release(self._conn, self.store.id, instant)
            now = local_moment(instant, self._gifts.zone)
            result = self._evaluate(cart, instant, now, counts)[0]
            if not self._gifts.activities:
                return result
            decided = self._order_gifts(cart, result, (), now, grant=False)
            return msgspec.structs.replace(result, accruals=tuple(d.preview for d in decided))

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
        instant = _instant(cart, at)
        counts = None if counts is None else accept_counts(counts)
        with _wrapped(self.path):
            if gift_coupons.has_due(self._conn, instant):  # the wallet evaluate would see
                with immediate(self._conn):
                    gifts.release(self._conn, self.store.id, instant)
            now = local_moment(instant, self._gifts.zone)
            self._refresh()
            presented = wallet_store.presented(self._conn, cart.coupons) if cart.coupons else {}
            return explain(
                cart,
                self._index,
                campaign_id,
                at=instant,
                counts=counts if counts is not None else self._counts(cart, now),
                plans=self._plans,
                wallet=presented,
                order=self._order,
            )

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
        instant = _instant(cart, at)
        paid = () if payments is None else accept_payments(payments)
        conn = self._conn
        with _wrapped(self.path), immediate(conn):
            first = orders.find_result(conn, cart.order_id)
            if first is not None:
                return msgspec.structs.replace(first, repeat=True)
            # coupons due by now are the member's to use in this very order
            if gift_coupons.has_due(conn, instant):
                gifts.release(conn, self.store.id, instant)
            now = local_moment(instant, self._gifts.zone)
            result, presented, counts = self._evaluate(cart, instant, now)
            if payments is not None:
                _check_total(paid, result.total)
            gift_events: list[EventRow] = []
            if self._gifts.activities:  # the engine decides, the store records
                decided = self._order_gifts(cart, result, paid, now, grant=True)
                gift_events = gifts.record_commit(conn, self.store.id, cart, result, decided)
                result = msgspec.structs.replace(result, accruals=tuple(d.preview for d in decided))
            receipt = build_receipt(
                cart,
                result,
                self._index,
                now.day,
                presented,
                self._order,
                self._plan_versions,
                counts,
            )
            orders.record_order(conn, cart, result, receipt, paid)
            if gift_events:
                outbox.add_events(conn, gift_events)
        return result

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
        with _wrapped(self.path), immediate(self._conn):
            self._refresh()
            record = refunds.record_refund(self._conn, self.store, order_id, lines, refund_id, at)
            return gifts.settle_refund(self._conn, self._gifts, record)

    def order(self, order_id: str) -> OrderRecord:
        """A committed order: its first result, receipt, cart, payments and refunds.

        Everything a reprint or a refund slip needs; :class:`UnknownOrder`
        if this database committed no such order.
        """
        with _wrapped(self.path):
            return orders.load_order(self._conn, order_id)

    # -- cumulative gifts --------------------------------------------------------

    def release_gifts(self, now: dt.datetime) -> tuple[str, ...]:
        """Issue the scheduled gift coupons due at ``now``; the ids released.

        Idempotent: a coupon is released once, whoever asks first (the
        daemon's ``release_gifts`` job, a commit, an evaluation). The engine
        never reads the clock, so ``now`` is the caller's.
        """
        now = accept_instant(now, "now")
        with _wrapped(self.path), immediate(self._conn):
            return gifts.release(self._conn, self.store.id, now)

    def member(self, member_id: str) -> MemberGifts:
        """One member's cumulative gift totals, grants and wallet as this till knows them."""
        with _wrapped(self.path):
            self._refresh()
            return member_gifts(self._conn, member_id, self._gifts.every, self.store.currency)

    def gift_report(self) -> list[ActivityMetrics]:
        """Per activity at this till: members, accrued total, grants, coupons."""
        with _wrapped(self.path):
            self._refresh()
            return gift_metrics(self._conn, self._gifts.every)

    # -- reporting and the outbox ----------------------------------------------

    def report(self) -> list[CampaignMetrics]:
        """Per campaign at this till: orders, members, discount given and refunded, net."""
        with _wrapped(self.path):
            return campaign_metrics(self._conn)

    def outbox_counts(self) -> OutboxCounts:
        """How many events wait for HQ, and how many HQ holds (``pos-promo outbox``).

        Reading and acknowledging events is the sync daemon's business
        (:mod:`pos_promo.sync.outbox`), not the till's.
        """
        with _wrapped(self.path):
            return outbox.outbox_counts(self._conn)


@contextlib.contextmanager
def _wrapped(path: str) -> Iterator[None]:
    """Driver errors surface as :class:`StoreError`, with the driver's error as cause."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(path, f"database error: {exc}") from exc


def _instant(cart: Cart, at: dt.datetime | None) -> dt.datetime:
    instant = at or cart.at
    if instant is None:
        raise InvalidCart("$.at", "is required: the engine never reads the clock, pass the instant")
    return accept_instant(instant, "$.at", InvalidCart)


def _unknown(payload: object, as_object: Any, as_list: Any) -> tuple[str, ...]:
    """Unknown fields of a JSON payload (a struct has none), as a list or an object."""
    if not isinstance(payload, bytes | str):
        return ()
    listed = payload.lstrip()[:1] in (b"[", "[")
    return tuple(unknown_fields(payload, as_list if listed else as_object))


def _check_gift_templates(conn: sqlite3.Connection, payload: object, catalog: Catalog) -> None:
    """A gift must name a coupon template of this payload or the cache."""
    if isinstance(payload, bytes | str):
        listed = payload.lstrip()[:1] in (b"[", "[")
    else:
        listed = not isinstance(payload, Catalog)
    pairs = [
        (f"$[{i}]" if listed else f"$.campaigns[{i}]", c) for i, c in enumerate(catalog.campaigns)
    ]
    if not any(isinstance(c, CumulativeGift) for _, c in pairs):
        return
    pairs += [(f"$.coupon_templates[{i}]", c) for i, c in enumerate(catalog.coupon_templates)]
    cached = {
        cid for (cid,) in conn.execute("SELECT id FROM campaigns WHERE kind = 'coupon_template'")
    }
    check_gift_templates(pairs, cached)


def _check_total(payments: tuple[Payment, ...], total: int) -> None:
    paid = sum(p.amount for p in payments)
    if paid != total:
        raise InvalidPayment("$.payments", f"must add up to the order total {total}", paid)
