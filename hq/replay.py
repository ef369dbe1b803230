"""Replaying an order's evaluation receipt with the same pure engine.

HQ rebuilds the campaign set the till saw from the receipt's (id, version)
pairs and its own version history, evaluates the cart the event carries at the
receipt's instant, and compares: the benefits applied and their amounts,
the order's total discount, and every line's per-unit discounts. Any
difference is returned as sentences, which HQ records as a flag.

Participation limits are replayed with HQ's own counts for the member as
the order arrives (every store's participations HQ holds, not yet this
order's), since the receipt does not record the counts the till used. For
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

import functools
import sqlite3
from collections.abc import Mapping

import msgspec

from pos_promo.codec import check_cart
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.index import CampaignIndex, build_index
from pos_promo.errors import PromoError
from pos_promo.model.campaign import Campaign
from pos_promo.model.cart import MemberCounts, ParticipationCount, StoreContext
from pos_promo.model.common import Sharing
from pos_promo.model.coupon import CouponTemplate, ExecutionOrder, SharingPlan
from pos_promo.model.events import OrderCommitted
from pos_promo.model.receipt import PlanRef

__all__ = ["ReplayCache", "replay_order"]

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


def _execution_order(conn: sqlite3.Connection, version: int | None) -> ExecutionOrder | None:
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


def _plans(conn: sqlite3.Connection, used: tuple[PlanRef, ...] | None) -> Mapping[str, Sharing]:
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


def _plan(conn: sqlite3.Connection, ref: PlanRef) -> Sharing:
    row = conn.execute(
        "SELECT document FROM changes WHERE type = 'sharing_plan' AND id = ? AND version = ? "
        "ORDER BY seq LIMIT 1",
        (ref.id, ref.version),
    ).fetchone()
    if row is None:
        raise LookupError(f"HQ never published sharing plan {ref.id!r} v{ref.version}")
    plan: SharingPlan = _PLAN.decode(row[0])
    return plan.sharing


def _counts(conn: sqlite3.Connection, event: OrderCommitted) -> MemberCounts | None:
    """The member's participations HQ holds, in total and on the order's local day."""
    if event.member_id is None:
        return None
    day = event.local_date.isoformat()
    found = {}
    for campaign, total in conn.execute(
        "SELECT campaign_id, total FROM participation_counts WHERE member_id = ?",
        (event.member_id,),
    ):
        today = conn.execute(
            "SELECT count FROM participation_days WHERE member_id = ? AND campaign_id = ? "
            "AND local_date = ?",
            (event.member_id, campaign, day),
        ).fetchone()
        found[campaign] = ParticipationCount(max(0, total), max(0, today[0] if today else 0))
    return MemberCounts(found)


def replay_order(
    conn: sqlite3.Connection,
    event: OrderCommitted,
    store: StoreContext,
    cache: ReplayCache,
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
            counts=_counts(conn, event),
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
