"""A refund at the till: the store reads the sale, the engine decides, the store records.

Steps, inside the caller's ``BEGIN IMMEDIATE`` transaction:

1. a retried ``refund_id`` returns the first record and writes nothing;
2. the store reads the order as sold and as its refunds left it;
3. the engine checks the request and decides the record: re-evaluated
   with the versions the receipt names when the till kept them all (and
   every earlier refund re-evaluated too), else the earlier release's
   arithmetic (:mod:`pos_promo.engine.refund_orders`);
4. the store writes it with its give-backs and events, then the gift side
   is settled (:mod:`pos_promo.till.gifts`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping

from pos_promo.engine.refund_orders import (
    KeptVersions,
    RefundKey,
    reevaluated_refund,
    requested_units,
    reversed_refund,
)
from pos_promo.model.cart import StoreContext
from pos_promo.model.order import RefundRecord
from pos_promo.model.receipt import Receipt
from pos_promo.store import refunds
from pos_promo.store.versions import kept_campaigns, kept_order, kept_plans
from pos_promo.till.cache import GiftSetup
from pos_promo.till.gifts import settle_refund_gifts

__all__ = ["refund_order"]


def refund_order(
    conn: sqlite3.Connection,
    store: StoreContext,
    setup: GiftSetup,
    order_id: str,
    lines: Mapping[str, int] | None,
    refund_id: str | None = None,
    at: dt.datetime | None = None,
) -> RefundRecord:
    """Refund some (``{line_id: units}``) or all (``None``) units of an order.

    With ``refund_id`` the refund is idempotent: asking again with the same
    id returns the first record and writes nothing.
    """
    if refund_id is not None:
        first = refunds.find_refund(conn, order_id, refund_id)
        if first is not None:
            return first
    sale = refunds.load_sale(conn, order_id)
    seq = len(sale.earlier) + 1
    key = RefundKey(
        refund_id or refunds.refund_id_for(conn, sale.store_id, order_id, seq), order_id, seq, at
    )
    remaining = sale.remaining
    asked = requested_units(order_id, lines, remaining)
    receipt = sale.receipt
    record = None
    if all(r.reevaluated for r in sale.earlier):
        versions = _kept_versions(conn, receipt)
        if versions is not None:
            record = reevaluated_refund(
                store,
                sale.cart,
                receipt,
                sale.earlier[-1].kept if sale.earlier else receipt.lines,
                asked,
                sale.total - sum(r.amount for r in sale.earlier),
                versions,
                key,
            )
    if record is None:
        record = reversed_refund(receipt, sale.refunded, asked, remaining, key)
    back = {line.line_id: line.units for line in record.lines}
    record = refunds.write_refund(
        conn, sale.store_id, sale.member_id, receipt.inputs.local_date, record, back
    )
    return settle_refund_gifts(conn, setup, record)


def _kept_versions(conn: sqlite3.Connection, receipt: Receipt) -> KeptVersions | None:
    """The versions the receipt names, as kept; ``None`` if any one is not:
    an order of an earlier release (which kept only the newest version of
    each campaign) cannot be re-evaluated."""
    campaigns, missing = kept_campaigns(
        conn, [(ref.id, ref.version) for ref in receipt.campaigns if ref.applied]
    )
    inputs = receipt.inputs
    plans, missing_plans = kept_plans(conn, inputs.sharing_plans or ())
    order = None
    if inputs.execution_order_version is not None:
        order = kept_order(conn, inputs.execution_order_version)
        if order is None:
            return None
    if missing or missing_plans:
        return None
    return KeptVersions(tuple(campaigns), plans, order)
