"""What the local store records and reports: payments, orders, refunds, metrics.

These are the answers of :class:`pos_promo.embedded.Engine` beyond an
evaluation result. Money is integer minor units everywhere; amounts that
go back to the customer are positive numbers on a refund record.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from msgspec import Struct

from pos_promo.model.cart import Cart
from pos_promo.model.common import Id, Money
from pos_promo.model.gift import AccrualChange, RevokedGrant
from pos_promo.model.receipt import Receipt
from pos_promo.model.result import BenefitShare, EvaluationResult

__all__ = [
    "TENDERS",
    "CampaignMetrics",
    "CampaignRow",
    "ImportReport",
    "OrderRecord",
    "OrderStatus",
    "OutboxCounts",
    "Payment",
    "RefundLine",
    "RefundRecord",
    "Tender",
]

OrderStatus = Literal["committed", "partially_refunded", "refunded"]


Tender = Literal["cash", "card", "prepaid_balance", "points", "voucher", "other"]
"""How part of an order was paid. ``prepaid_balance`` and ``points`` are the
member's assets, which a cumulative gift may refuse to accrue on; anything
a POS has that is none of these is ``other``."""

TENDERS: tuple[Tender, ...] = ("cash", "card", "prepaid_balance", "points", "voucher", "other")


class Payment(Struct, frozen=True, forbid_unknown_fields=False):
    """One tender of the order and what it paid; an unknown tender is refused."""

    tender: Tender
    amount: Money


class RefundLine(Struct, frozen=True):
    """Units of one line given back: what the customer gets and the discount reversed."""

    line_id: Id
    units: int
    amount: Money
    discount: Money


class RefundRecord(Struct, frozen=True):
    """One refund of an order. ``benefits`` is the discount reversed per campaign;
    ``accruals`` what it took from cumulative gift totals, ``revoked`` the
    grants those totals no longer reach."""

    refund_id: Id
    order_id: Id
    seq: int
    lines: tuple[RefundLine, ...]
    amount: Money
    discount: Money
    benefits: tuple[BenefitShare, ...]
    order_fully_refunded: bool
    at: dt.datetime | None = None
    accruals: tuple[AccrualChange, ...] = ()
    revoked: tuple[RevokedGrant, ...] = ()


class OrderRecord(Struct, frozen=True):
    """A committed order as stored: the first result, its receipt, and its refunds.

    ``cart`` is the cart as committed (item names, quantities, prices,
    member, coupons): with ``refunds`` and ``remaining_units`` it is all a
    reprint or a refund slip needs, long after the POS forgot the order.
    """

    order_id: Id
    status: OrderStatus
    result: EvaluationResult
    receipt: Receipt
    payments: tuple[Payment, ...]
    refunds: tuple[RefundRecord, ...]
    remaining_units: dict[Id, int]
    cart: Cart


class CampaignRow(Struct, frozen=True):
    """A cached campaign's lifecycle facts (the payload is shown separately)."""

    id: Id
    kind: str
    version: int
    status: str
    name: str
    imported_at: dt.datetime | None = None


class ImportReport(Struct, frozen=True):
    """What one import did to the cache, campaign ids per outcome (each sorted).

    Coupon templates are campaigns here. ``plans_changed`` lists the sharing
    plans added or replaced; ``execution_order`` is the version of the
    execution order this import put in force (``None``: it did not change it).
    ``unknown_fields`` are the JSON paths of fields no wire type knows:
    ignored (a newer HQ may send them) but listed, since a misspelt limit
    would otherwise be dropped without a word.
    """

    added: tuple[Id, ...] = ()
    replaced: tuple[Id, ...] = ()
    unchanged: tuple[Id, ...] = ()
    ignored_older: tuple[Id, ...] = ()
    ignored_archived: tuple[Id, ...] = ()
    plans_changed: tuple[Id, ...] = ()
    execution_order: int | None = None
    unknown_fields: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(
            self.added or self.replaced or self.plans_changed or self.execution_order is not None
        )


class CampaignMetrics(Struct, frozen=True):
    """A campaign's performance at this till, net of refunds.

    ``orders`` counts orders it gave a discount to, minus the fully refunded
    ones; ``participations`` the participations still standing (an order
    gives one back only when fully refunded, so it equals ``orders``);
    ``members`` the distinct identified members among them; ``discount_net``
    is ``discount_given - discount_refunded``.
    """

    campaign_id: Id
    name: str
    orders: int
    orders_refunded: int
    participations: int
    members: int
    discount_given: Money
    discount_refunded: Money
    discount_net: Money


class OutboxCounts(Struct, frozen=True):
    """Events waiting for HQ and events HQ has acknowledged."""

    pending: int
    sent: int
