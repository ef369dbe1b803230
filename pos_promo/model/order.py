"""What the local store records and reports: payments, orders, refunds, metrics.

These are the answers of :class:`pos_promo.embedded.Engine` beyond an
evaluation result. Money is integer minor units everywhere; amounts that
go back to the customer are positive numbers on a refund record.
"""

import datetime as dt
from typing import Literal

from msgspec import Struct

from pos_promo.model.cart import Cart
from pos_promo.model.common import Id, Money, OrderMoney
from pos_promo.model.gift import AccrualChange, RevokedGrant
from pos_promo.model.receipt import LineAllocation, Receipt
from pos_promo.model.result import EvaluationResult

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
    "TakenBack",
    "Tender",
]

OrderStatus = Literal["committed", "partially_refunded", "refunded"]


Tender = Literal["cash", "card", "prepaid_balance", "points", "voucher", "other"]
"""How part of an order was paid. ``prepaid_balance`` and ``points`` are the
member's assets, which a cumulative gift may refuse to accrue on; anything
a POS has that is none of these is ``other``."""

TENDERS: tuple[Tender, ...] = ("cash", "card", "prepaid_balance", "points", "voucher", "other")


class Payment(Struct, gc=False, frozen=True, forbid_unknown_fields=False):
    """One tender of the order and what it paid; an unknown tender is refused."""

    tender: Tender
    amount: Money


class RefundLine(Struct, gc=False, frozen=True):
    """Units of one line given back (a side or modifier goes back with its main
    unit): what those units had been paid and the discount they had, as the
    order stood just before this refund."""

    line_id: Id
    units: int
    amount: OrderMoney
    discount: OrderMoney


class TakenBack(Struct, gc=False, frozen=True):
    """The discount one benefit took back in a refund: what it gave the units
    held before minus what it gives the kept units now. Negative in the rare
    case a benefit gives the kept units more (a percent coupon after a
    promotion that dropped out, a lower tier worth more)."""

    benefit_id: Id
    amount: int


class RefundRecord(Struct, gc=False, frozen=True):
    """One refund of an order (docs/store.md, "Refunds").

    ``amount`` is the money given back: what the customer had paid so far
    (``paid_before``) minus what the kept units cost under a re-evaluation
    with the order's own receipt (``kept_cost``), never below zero; when it
    would be, ``shortfall`` says by how much (nothing is taken from the
    customer). ``discount`` is the discount reversed in all, ``benefits``
    per benefit; ``kept_discount_lost`` the discount the kept units no
    longer get; ``dropped`` the benefits that no longer apply at all, and
    ``participations_returned`` / ``coupons_restored`` what that gave back.
    ``kept`` is the kept units' allocation after this refund, what the
    next refund starts from. ``reevaluated`` is false for an order of an
    earlier release whose campaign versions the till no longer had: then
    the refunded units' own discounts were reversed, as before.
    ``accruals`` is what it took from cumulative gift totals, ``revoked``
    the grants those totals no longer reach.
    """

    refund_id: Id
    order_id: Id
    seq: int
    lines: tuple[RefundLine, ...]
    amount: OrderMoney
    discount: int
    benefits: tuple[TakenBack, ...]
    order_fully_refunded: bool
    at: dt.datetime | None = None
    accruals: tuple[AccrualChange, ...] = ()
    revoked: tuple[RevokedGrant, ...] = ()
    paid_before: OrderMoney = 0
    kept_cost: OrderMoney = 0
    kept_discount_lost: int = 0
    shortfall: OrderMoney = 0
    dropped: tuple[Id, ...] = ()
    participations_returned: tuple[Id, ...] = ()
    coupons_restored: tuple[Id, ...] = ()
    kept: tuple[LineAllocation, ...] = ()
    reevaluated: bool = True


class OrderRecord(Struct, gc=False, frozen=True):
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


class CampaignRow(Struct, gc=False, frozen=True):
    """A cached campaign's lifecycle facts (the payload is shown separately)."""

    id: Id
    kind: str
    version: int
    status: str
    name: str
    imported_at: dt.datetime | None = None


class ImportReport(Struct, gc=False, frozen=True):
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
        """Whether the import wrote anything: only then is the cache version bumped and the index
        rebuilt."""
        return bool(
            self.added or self.replaced or self.plans_changed or self.execution_order is not None
        )


class CampaignMetrics(Struct, gc=False, frozen=True):
    """A campaign's performance at this till, net of refunds.

    ``orders`` counts orders it gave a discount to, minus those it no longer
    discounts (``orders_refunded``: fully refunded, or a partial refund left
    units that no longer earn it); ``participations`` the participations
    still standing (an order gives one back exactly then, so it equals
    ``orders``); ``members`` the distinct identified members among them;
    ``discount_net`` is ``discount_given - discount_refunded``.
    """

    campaign_id: Id
    name: str
    orders: int
    orders_refunded: int
    participations: int
    members: int
    discount_given: int
    discount_refunded: int
    discount_net: int


class OutboxCounts(Struct, gc=False, frozen=True):
    """Events waiting for HQ and events HQ has acknowledged."""

    pending: int
    sent: int
