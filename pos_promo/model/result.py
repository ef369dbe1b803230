"""What an evaluation returns (SPEC §8): nothing in it is ever written back."""

import datetime as dt
from typing import Literal

from msgspec import Struct

from pos_promo.model.base import TimeSlot
from pos_promo.model.common import Id, OrderMoney

__all__ = [
    "AccrualPreview",
    "Applied",
    "BenefitShare",
    "EvaluationResult",
    "GiftPreview",
    "LineResult",
    "NotApplied",
    "Params",
    "Reason",
]

Reason = Literal[
    "inactive",
    "not_started",
    "ended",
    "outside_time_slot",
    "date_not_allowed",
    "store_not_eligible",
    "channel_not_eligible",
    "service_type_not_eligible",
    "member_required",
    "member_not_eligible",
    "no_eligible_items",
    "threshold_not_met",
    "total_limit_reached",
    "daily_limit_reached",
    "not_shareable",
    "not_best",
    "nothing_to_discount",
    "min_spend_not_met",
    "coupon_invalid",
    "manual_only",
    "sharing_plan_unknown",
    "unknown_campaign",
]


Params = dict[str, str | int]
"""The facts behind a reason code (limits, amounts, local times as ISO text),
from which the edge words the sentence in the store's language."""


class BenefitShare(Struct, gc=False, frozen=True):
    """How much one benefit took off one line."""

    benefit_id: Id
    amount: OrderMoney


class LineResult(Struct, gc=False, frozen=True):
    """A cart line after every applied benefit.

    ``unit_discounts`` holds each unit's discount in unit order, so a refund
    of some units reverses exactly what those units were given.
    """

    line_id: Id
    item_id: Id
    quantity: int
    subtotal: OrderMoney
    discount: OrderMoney
    net: OrderMoney
    benefits: tuple[BenefitShare, ...] = ()
    unit_discounts: tuple[int, ...] = ()


class Applied(Struct, gc=False, frozen=True):
    """A benefit that went into the order. ``tier`` is 1-based where the kind has tiers."""

    id: Id
    kind: str
    name: str
    amount: OrderMoney
    version: int = 1
    tier: int | None = None
    capped: bool = False
    template_id: Id | None = None


class NotApplied(Struct, gc=False, frozen=True):
    """A campaign or coupon considered and left out, with a code a POS can translate.

    The engine gives the code and its facts (``params``, ``needed`` and
    ``reached``, ``slots``, the ``name`` a person knows it by); ``message``
    is empty until the edge words it in the store's language
    (:func:`pos_promo.localise`, :func:`pos_promo.render_receipt`).
    """

    id: Id
    kind: str
    reason: Reason
    message: str = ""
    lost_to: Id | None = None
    needed: int | None = None
    reached: int | None = None
    cause: str | None = None
    name: str = ""
    params: Params = {}
    slots: tuple[TimeSlot, ...] = ()


class GiftPreview(Struct, gc=False, frozen=True):
    """Coupons of one template an order would trigger (over all its ordinals),
    with the template's ``name`` a cashier reads."""

    template_id: Id
    quantity: int
    name: str = ""


class AccrualPreview(Struct, gc=False, frozen=True):
    """What the order would add to one cumulative gift activity (SPEC §6, §8).

    ``total`` is the member's total before the order (HQ-confirmed plus this
    till's unconfirmed entries), ``reaches`` the total after it, ``next``
    the threshold it heads for now. ``triggers`` are the ordinals the commit
    would grant, ``gifts`` their coupons. ``reason`` and ``params`` say why
    the order adds nothing, with the codes of :data:`Reason` (``params``
    holds ``given`` when a once-only gift was already earned). ``progress``
    (``"$180.00 of $200.00"``) and ``message`` are empty until the edge words
    them in the store's language (:func:`pos_promo.localise`). A preview assumes
    the order is paid with tenders that accrue; the commit prorates by the
    real payments.
    """

    activity_id: Id
    name: str
    measure: Literal["spend", "count"]
    adds: int
    total: int
    reaches: int
    next: int
    progress: str = ""
    triggers: tuple[int, ...] = ()
    gifts: tuple[GiftPreview, ...] = ()
    reason: Reason | None = None
    message: str = ""
    params: Params = {}


class EvaluationResult(Struct, gc=False, frozen=True):
    """The whole answer for one cart; ``selection`` is ``bounded`` when the
    stacking search hit its budget and fell back to the best set found.
    ``accruals`` previews each cumulative gift activity the cart touches
    (filled by :class:`pos_promo.embedded.Engine`, which knows the member's
    totals). ``repeat`` is true only on what :meth:`Engine.commit
    <pos_promo.embedded.Engine.commit>` returns for an order id committed
    before: the first commit's result, unchanged, with nothing written
    (whatever the retried cart or payments said)."""

    order_id: Id
    store_id: Id
    at: dt.datetime
    currency: str
    subtotal: OrderMoney
    total_discount: OrderMoney
    total: OrderMoney
    lines: tuple[LineResult, ...]
    applied: tuple[Applied, ...]
    not_applied: tuple[NotApplied, ...]
    selection: Literal["exact", "bounded"] = "exact"
    accruals: tuple[AccrualPreview, ...] = ()
    repeat: bool = False
