"""Replaying an order's evaluation receipt with the same pure engine.

HQ rebuilds the campaign set the till saw from the receipt's (id, version)
pairs and its own version history, evaluates the cart the event carries at the
receipt's instant, and compares: the benefits applied and their amounts,
the order's total discount, and every line's per-unit discounts. Any
difference is returned as sentences, which HQ records as a flag.

Replay runs off the hot path: ingest stores the order and puts it on
``replay_queue`` (:func:`enqueue_replay`), and HQ's replay workers
(:class:`ReplayWorker`, one thread per HQ process) claim rows and replay
them; the outcome (``match``, ``diverged`` or ``unreplayable``) is stored on
the row in the same transaction as its ``receipt_divergence`` flags, so a
worker that dies mid-replay leaves the row to another, and no row is ever
recorded twice: on PostgreSQL workers claim rows with ``FOR UPDATE SKIP
LOCKED``; on SQLite a worker replays what it read and records it under
``BEGIN IMMEDIATE`` only if the row is still pending.

Participation limits are replayed with HQ's own counts for the member as
the order arrived (every store's participations HQ held, not yet this
order's; snapshot on the queue row at ingest), since the receipt does not
record the counts the till used. For
a till that was online these match; for one that was offline HQ may know
of more uses at other stores, and then the difference it flags is real:
the member went over a limit across stores while the tills could not see
each other. Compiled indexes are cached by campaign set, since most orders
of a day see the same versions.

Coupons replay from the receipt too: it names each presented coupon's
template and version among its campaigns, keeps the wallet entries the
till saw (owner, window, status at that instant) and the version of the
execution order in force. Stacking replays with the sharing plans at the
versions the receipt names, so a plan HQ changed after the order does not
raise a false flag; a receipt from a till that did not record them is
replayed with HQ's newest plans.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from collections.abc import Callable, Mapping

import msgspec
from pos_promo_hq.db import Connection, Database, write

from pos_promo.codec import check_cart
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import CampaignIndex, build_index
from pos_promo.engine.refunds import applied_benefits, reevaluate, settle
from pos_promo.errors import PromoError
from pos_promo.model.campaign import Campaign
from pos_promo.model.cart import MemberCounts, ParticipationCount, StoreContext
from pos_promo.model.common import Sharing
from pos_promo.model.coupon import CouponTemplate, ExecutionOrder, SharingPlan
from pos_promo.model.events import Event, OrderCommitted, OrderRefunded
from pos_promo.model.receipt import LineAllocation, PlanRef, Receipt
from pos_promo.model.result import EvaluationResult

__all__ = [
    "QueueRow",
    "ReplayCache",
    "ReplayWorker",
    "enqueue_refund_replay",
    "enqueue_replay",
    "enqueue_rows",
    "queue_row",
    "replay_backlog",
    "replay_order",
    "replay_refund",
    "work_replays",
]

log = logging.getLogger("hq")
_EVENT = msgspec.json.Decoder(Event)
_COUNTS = msgspec.json.Decoder(MemberCounts)
_COMMITTED = msgspec.json.Decoder(OrderCommitted)
_REFUNDED = msgspec.json.Decoder(OrderRefunded)

_CAMPAIGN = msgspec.json.Decoder(Campaign)
_TEMPLATE = msgspec.json.Decoder(CouponTemplate)
_PLAN = msgspec.json.Decoder(SharingPlan)
_ORDER = msgspec.json.Decoder(ExecutionOrder)


class ReplayCache:
    """Compiled indexes per (store, campaign versions), least recently used first out."""

    def __init__(self, size: int = 256) -> None:
        self.index = functools.lru_cache(maxsize=size)(self._build)

    @staticmethod
    def _build(store: StoreContext, documents: tuple[tuple[str, bytes], ...]) -> CampaignIndex:
        # a coupon template may be published without its ``kind`` tag
        return build_index(
            [
                _TEMPLATE.decode(doc) if doc_type == "coupon_template" else _CAMPAIGN.decode(doc)
                for doc_type, doc in documents
            ],
            store,
        )


def _execution_order(conn: Connection, version: int | None) -> ExecutionOrder | None:
    if version is None:
        return None
    row = conn.execute(
        "SELECT document FROM changes WHERE type = 'execution_order' AND version = ? "
        "ORDER BY seq LIMIT 1",
        (version,),
    ).fetchone()
    if row is None:
        raise LookupError(f"HQ never published execution order v{version}")
    order: ExecutionOrder = _ORDER.decode(row[0])
    return order


def _plans(conn: Connection, used: tuple[PlanRef, ...] | None) -> Mapping[str, Sharing]:
    """The sharing plans the till had, at their versions; HQ's newest plans
    for a receipt of a till that did not record them (``used`` is None)."""
    if used is not None:
        return {ref.id: _plan(conn, ref) for ref in used}
    plans: dict[str, Sharing] = {}
    for (document,) in conn.execute(
        "SELECT document FROM changes WHERE type = 'sharing_plan' ORDER BY seq"
    ):
        try:
            plan = _PLAN.decode(document)
        except msgspec.MsgspecError:
            continue
        plans[plan.id] = plan.sharing
    return plans


def _plan(conn: Connection, ref: PlanRef) -> Sharing:
    row = conn.execute(
        "SELECT document FROM changes WHERE type = 'sharing_plan' AND id = ? AND version = ? "
        "ORDER BY seq LIMIT 1",
        (ref.id, ref.version),
    ).fetchone()
    if row is None:
        raise LookupError(f"HQ never published sharing plan {ref.id!r} v{ref.version}")
    plan: SharingPlan = _PLAN.decode(row[0])
    return plan.sharing


def _counts(conn: Connection, member_id: str | None, day: dt.date) -> MemberCounts | None:
    """The member's participations HQ holds, in total and on the order's local day."""
    if member_id is None:
        return None
    rows = conn.execute(
        "SELECT c.campaign_id, c.total, COALESCE(d.count, 0) FROM participation_counts c "
        "LEFT JOIN participation_days d ON d.member_id = c.member_id "
        "AND d.campaign_id = c.campaign_id AND d.local_date = ? WHERE c.member_id = ?",
        (day.isoformat(), member_id),
    ).fetchall()
    return MemberCounts(
        {
            campaign: ParticipationCount(max(0, total), max(0, today))
            for campaign, total, today in rows
        }
    )


QueueRow = tuple[str, str, str, str | None, str]
_ENQUEUE = (
    "INSERT INTO replay_queue (event_id, store_id, order_id, counts, enqueued_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def enqueue_replay(
    conn: Connection, event_id: str, store_id: str, event: OrderCommitted, stamp: str
) -> None:
    """Queue an order's replay, with the member's counts as it arrives (inside ingest's
    write transaction)."""
    counts = _counts(conn, event.member_id, event.local_date)
    enqueue_rows(conn, [queue_row(event_id, store_id, event.order_id, counts, stamp)])


def queue_row(
    event_id: str, store_id: str, order_id: str, counts: MemberCounts | None, stamp: str
) -> QueueRow:
    """An order's row on the replay queue, with the member's counts as it arrived."""
    encoded = None if counts is None else msgspec.json.encode(counts).decode()
    return (event_id, store_id, order_id, encoded, stamp)


def enqueue_rows(conn: Connection, rows: list[QueueRow]) -> None:
    """Queue orders' replays in one pipelined statement (ingest gathers a batch's)."""
    if rows:
        conn.executemany(_ENQUEUE, rows)


def enqueue_refund_replay(
    conn: Connection, event_id: str, store_id: str, order_id: str, stamp: str
) -> None:
    """Queue a refund's replay (:func:`replay_refund`; inside ingest's write transaction)."""
    conn.execute(
        "INSERT INTO replay_queue (event_id, store_id, order_id, counts, enqueued_at) "
        "VALUES (?, ?, ?, NULL, ?) ON CONFLICT DO NOTHING",
        (event_id, store_id, order_id, stamp),
    )


def replay_order(
    conn: Connection,
    event: OrderCommitted,
    store: StoreContext,
    cache: ReplayCache,
    counts: MemberCounts | None = None,
) -> list[str]:
    """The differences between the till's receipt and HQ's replay (empty: none)."""
    if event.cart is None:
        return ["cannot replay: the event came without its cart"]
    receipt = event.receipt
    documents = []
    for ref in receipt.campaigns:
        row = conn.execute(
            "SELECT type, document FROM changes WHERE type IN ('campaign', 'coupon_template') "
            "AND id = ? AND version = ?",
            (ref.id, ref.version),
        ).fetchone()
        if row is None:
            return [f"cannot replay: HQ never published campaign {ref.id!r} v{ref.version}"]
        documents.append((row[0], row[1].encode()))
    context = msgspec.structs.replace(store, timezone=receipt.inputs.timezone)
    try:
        check_cart(event.cart)
        cart = event.cart
        index = cache.index(context, tuple(documents))
        result = evaluate(
            cart,
            index,
            at=receipt.inputs.at,
            counts=counts,
            plans=_plans(conn, receipt.inputs.sharing_plans),
            wallet={coupon.id: coupon for coupon in receipt.inputs.wallet},
            order=_execution_order(conn, receipt.inputs.execution_order_version),
        )
    except (PromoError, msgspec.MsgspecError, LookupError) as exc:
        return [f"cannot replay: {exc}"]
    found: list[str] = []
    till_applied: dict[str, int] = {}
    for line in receipt.lines:
        for share in line.benefits:
            till_applied[share.benefit_id] = till_applied.get(share.benefit_id, 0) + share.amount
    hq_applied = {a.id: a.amount for a in result.applied}
    for benefit in sorted(till_applied.keys() | hq_applied.keys()):
        till, ours = till_applied.get(benefit, 0), hq_applied.get(benefit, 0)
        if till != ours:
            found.append(f"{benefit}: till gave {till}, replay gives {ours}")
    if result.total_discount != event.total_discount:
        found.append(f"total discount: till {event.total_discount}, replay {result.total_discount}")
    replayed = {line.line_id: line.unit_discounts for line in result.lines}
    for line in receipt.lines:
        if replayed.get(line.line_id, ()) != line.unit_discounts:
            found.append(
                f"line {line.line_id}: till units {list(line.unit_discounts)}, "
                f"replay {list(replayed.get(line.line_id, ()))}"
            )
    return found


def replay_backlog(conn: Connection) -> int:
    """How many queued orders wait for their replay."""
    row = conn.execute("SELECT COUNT(*) FROM replay_queue WHERE status = 'pending'").fetchone()
    return int(row[0])


_Outcome = tuple[str, list[str]]


def _replay_row(
    conn: Connection,
    row: tuple[str, str, str, str | None],
    stores: Mapping[str, StoreContext],
    cache: ReplayCache,
) -> _Outcome:
    event_id, store_id, _, counts = row
    payload = conn.execute("SELECT payload FROM events WHERE id = ?", (event_id,)).fetchone()
    try:
        event = _EVENT.decode(payload[0]) if payload else None
        member = None if counts is None else _COUNTS.decode(counts)
    except msgspec.MsgspecError as exc:
        return "unreplayable", [f"cannot replay: {exc}"]
    if not isinstance(event, OrderCommitted | OrderRefunded):
        return "unreplayable", ["cannot replay: HQ does not hold the order's event"]
    store = stores.get(store_id, StoreContext(store_id))
    try:
        if isinstance(event, OrderRefunded):
            found = replay_refund(conn, event, store, cache)
        else:
            found = replay_order(conn, event, store, cache, member)
    except Exception as exc:  # a replay bug must not wedge the queue: record it
        log.exception("replay of event %s failed", event_id)
        return "unreplayable", [f"cannot replay: {type(exc).__name__}: {exc}"]
    if any(f.startswith("cannot replay") for f in found):
        return "unreplayable", found
    return ("diverged" if found else "match"), found


def _record(conn: Connection, row: tuple[str, str, str, str | None], outcome: _Outcome) -> None:
    event_id, store_id, order_id, _ = row
    status, found = outcome
    stamp = dt.datetime.now(dt.UTC).isoformat()
    conn.execute(
        "UPDATE replay_queue SET status = 'done', outcome = ?, detail = ?, replayed_at = ? "
        "WHERE event_id = ?",
        (status, "\n".join(found), stamp, event_id),
    )
    for difference in found:
        conn.execute(
            "INSERT INTO flags (kind, store_id, order_id, subject, detail, at) "
            "VALUES ('receipt_divergence', ?, ?, ?, ?, ?)",
            (store_id, order_id, event_id, difference, stamp),
        )


_PENDING = (
    "SELECT event_id, store_id, order_id, counts FROM replay_queue "
    "WHERE status = 'pending' ORDER BY event_id LIMIT ?"
)


def work_replays(
    db: Database, stores: Mapping[str, StoreContext], cache: ReplayCache, limit: int = 20
) -> int:
    """Replay up to ``limit`` queued orders; how many this worker recorded."""
    done = 0
    with db.connection() as conn:
        if conn.dialect == "postgresql":
            with write(conn):  # claimed rows stay locked until their outcome commits
                rows = conn.execute(_PENDING + conn.skip_locked(), (limit,)).fetchall()
                for row in rows:
                    _record(conn, row, _replay_row(conn, row, stores, cache))
                return len(rows)
        rows = conn.execute(_PENDING, (limit,)).fetchall()
        outcomes = [_replay_row(conn, row, stores, cache) for row in rows]  # no write lock held
        with write(conn):
            for row, outcome in zip(rows, outcomes, strict=True):
                still = conn.execute(
                    "SELECT 1 FROM replay_queue WHERE event_id = ? AND status = 'pending'",
                    (row[0],),
                ).fetchone()
                if still:
                    _record(conn, row, outcome)
                    done += 1
    return done


class ReplayWorker:
    """One HQ process's replay thread: works the queue until stopped.

    :meth:`wake` (called after an ingest queued orders) starts a round at
    once; otherwise the worker looks every ``interval`` seconds, which is
    how it picks up orders another HQ process queued.
    """

    def __init__(
        self,
        db: Database,
        stores: Mapping[str, StoreContext],
        interval: float = 0.5,
        cache: ReplayCache | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.db, self.stores, self.interval = db, stores, interval
        self.cache = cache or ReplayCache()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hq-replay", daemon=True)
        self._on_error = on_error

    def start(self) -> ReplayWorker:
        """Start the worker thread; returns the worker so HQ can start and keep it in one
        expression."""
        self._thread.start()
        return self

    def wake(self) -> None:
        """Ask for a replay run now instead of at the next interval (ingest queued orders)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current replay and wait up to ``timeout`` seconds, so shutdown never
        leaves a replay half-written."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                worked = work_replays(self.db, self.stores, self.cache)
            except Exception as exc:  # the database went away for a moment: try again later
                log.warning("replay round failed: %s", exc)
                if self._on_error is not None:
                    self._on_error(exc)
                worked = 0
            if worked == 0:
                self._wake.wait(self.interval)
                self._wake.clear()


def replay_refund(
    conn: Connection, event: OrderRefunded, store: StoreContext, cache: ReplayCache
) -> list[str]:
    """The differences between a till's refund and HQ's re-evaluation of it.

    HQ re-runs the refund as the till did (docs/store.md, "Refund"): the
    units held before it (the order less the earlier refunds' units)
    evaluated with the order's receipt and only its applied benefits, then
    the units kept; and compares the money back, the kept units' cost and
    the discount taken back per benefit. A refund the till did not
    re-evaluate (an order of an earlier release) is not replayed.
    """
    record = event.refund
    if not record.reevaluated:
        return []
    row = conn.execute(
        "SELECT e.payload FROM orders AS o JOIN events AS e ON e.id = o.event_id "
        "WHERE o.store_id = ? AND o.order_id = ? ORDER BY o.copy LIMIT 1",
        (event.store_id, record.order_id),
    ).fetchone()
    if row is None:
        return ["cannot replay refund: HQ holds no order.committed event for its order"]
    order = _COMMITTED.decode(row[0])
    if order.cart is None:
        return ["cannot replay refund: the order came without its cart"]
    earlier = sorted(
        (
            _REFUNDED.decode(payload).refund
            for (payload,) in conn.execute(
                "SELECT payload FROM events WHERE store_id = ? AND kind = 'order.refunded' "
                "AND order_id = ?",
                (event.store_id, record.order_id),
            )
        ),
        key=lambda r: r.seq,
    )
    earlier = [r for r in earlier if r.seq < record.seq]
    receipt, inputs = order.receipt, order.receipt.inputs
    applied = applied_benefits(receipt)
    refs = tuple(ref for ref in receipt.campaigns if ref.applied)
    try:
        documents = [_document(conn, ref.id, ref.version) for ref in refs]
        index = cache.index(
            msgspec.structs.replace(store, timezone=inputs.timezone), tuple(documents)
        )

        def run(quantities: dict[str, int]) -> EvaluationResult | None:
            assert order.cart is not None
            return reevaluate(
                order.cart,
                quantities,
                applied,
                index,
                at=inputs.at,
                counts=inputs.counts,
                plans=_plans(conn, inputs.sharing_plans),
                wallet={coupon.id: coupon for coupon in inputs.wallet},
                order=_execution_order(conn, inputs.execution_order_version),
            )

        held = {line.line_id: line.quantity for line in receipt.lines}
        for past in earlier:
            for line in past.lines:
                held[line.line_id] -= line.units
        lines: tuple[LineAllocation, ...] = receipt.lines
        if earlier:
            lines = _held(receipt, held, run(held))
        back = {line.line_id: line.units for line in record.lines}
        kept = {line_id: units - back.get(line_id, 0) for line_id, units in held.items()}
        paid = order.total - sum(r.amount for r in earlier)
        done = settle(lines, back, paid, run(kept))
    except (PromoError, msgspec.MsgspecError, LookupError, KeyError) as exc:
        return [f"cannot replay refund: {exc}"]
    found = []
    for name, till, ours in (
        ("money back", record.amount, done.amount),
        ("kept cost", record.kept_cost, done.kept_cost),
        ("shortfall", record.shortfall, done.shortfall),
    ):
        if till != ours:
            found.append(f"refund {record.refund_id} {name}: till {till}, replay {ours}")
    till_back = {b.benefit_id: b.amount for b in record.benefits}
    hq_back = {b.benefit_id: b.amount for b in done.benefits}
    for benefit in sorted(till_back.keys() | hq_back.keys()):
        if till_back.get(benefit, 0) != hq_back.get(benefit, 0):
            found.append(
                f"refund {record.refund_id} {benefit}: till took back "
                f"{till_back.get(benefit, 0)}, replay {hq_back.get(benefit, 0)}"
            )
    return found


def _document(conn: Connection, campaign_id: str, version: int) -> tuple[str, bytes]:
    row = conn.execute(
        "SELECT type, document FROM changes WHERE type IN ('campaign', 'coupon_template') "
        "AND id = ? AND version = ?",
        (campaign_id, version),
    ).fetchone()
    if row is None:
        raise LookupError(f"HQ never published campaign {campaign_id!r} v{version}")
    return row[0], row[1].encode()


def _held(
    receipt: Receipt, held: dict[str, int], result: EvaluationResult | None
) -> tuple[LineAllocation, ...]:
    """Every line at the units held, with their discounts under ``result``."""
    now = {line.line_id: line for line in result.lines} if result is not None else {}
    return tuple(
        LineAllocation(
            line.line_id,
            line.item_id,
            held[line.line_id],
            line.unit_price,
            now[line.line_id].unit_discounts if line.line_id in now else (),
            now[line.line_id].benefits if line.line_id in now else (),
        )
        for line in receipt.lines
    )
