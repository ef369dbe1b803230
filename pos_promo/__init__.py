"""pos_promo: the promotion engine inside a restaurant POS, offline first.

Evaluate a cart against locally cached Spend & Save campaigns with no network
and no clock of its own::

    from pos_promo import StoreContext, build_index, decode_campaigns, decode_cart, evaluate

    index = build_index(decode_campaigns(campaigns_json), StoreContext("s1", "Europe/Paris"))
    result = evaluate(decode_cart(cart_json), index)

A till embeds :class:`Engine` over its own SQLite file (evaluate, commit,
refund, orders, wallet, members, reports); every error it raises is a
:class:`PromoError` and each one a caller may catch is exported here.

Wording a result for people (:func:`localise`, :func:`render_receipt`) needs
Babel and the message catalogs, some 20 ms to import that a till opening to
evaluate and commit never uses: those two names are imported on first use.
"""

from typing import TYPE_CHECKING

# first, before any engine module is imported: the compiled ones when they
# match their sources (importing it puts them on the engine's path)
import pos_promo.native  # noqa: F401
from pos_promo.codec import (
    campaign_from_obj,
    cart_from_obj,
    decode_campaigns,
    decode_cart,
    decode_member_counts,
    decode_store,
)
from pos_promo.doors import evaluate, explain
from pos_promo.embedded import Engine
from pos_promo.engine.index import CampaignIndex, build_index
from pos_promo.engine.money import format_money
from pos_promo.errors import (
    CouponConflict,
    InvalidCampaign,
    InvalidCart,
    InvalidCoupon,
    InvalidInput,
    InvalidPayment,
    InvalidRefund,
    InvalidStore,
    PromoError,
    RefundExceedsSale,
    StoreError,
    StoreMismatch,
    UnknownCampaign,
    UnknownMember,
    UnknownOrder,
    UnreadableInput,
)
from pos_promo.lazy import on_first_use
from pos_promo.model.campaign import Campaign, SpendAndSave
from pos_promo.model.cart import Cart, Line, Member, MemberCounts, ParticipationCount, StoreContext
from pos_promo.model.order import OrderRecord, Payment, RefundRecord
from pos_promo.model.result import Applied, EvaluationResult, LineResult, NotApplied

if TYPE_CHECKING:  # imported on first use: see __getattr__
    from pos_promo.i18n.localise import localise
    from pos_promo.render import render_receipt

__version__ = "0.1.0"
"""The release (PEP 440); the wheel's metadata and every command's ``--version`` read it."""

_ON_FIRST_USE = {
    "localise": "pos_promo.i18n.localise",
    "render_receipt": "pos_promo.render",
}


__getattr__ = on_first_use(__name__, _ON_FIRST_USE, globals())


__all__ = [
    "Applied",
    "Campaign",
    "CampaignIndex",
    "Cart",
    "CouponConflict",
    "Engine",
    "EvaluationResult",
    "InvalidCampaign",
    "InvalidCart",
    "InvalidCoupon",
    "InvalidInput",
    "InvalidPayment",
    "InvalidRefund",
    "InvalidStore",
    "Line",
    "LineResult",
    "Member",
    "MemberCounts",
    "NotApplied",
    "OrderRecord",
    "ParticipationCount",
    "Payment",
    "PromoError",
    "RefundExceedsSale",
    "RefundRecord",
    "SpendAndSave",
    "StoreContext",
    "StoreError",
    "StoreMismatch",
    "UnknownCampaign",
    "UnknownMember",
    "UnknownOrder",
    "UnreadableInput",
    "build_index",
    "campaign_from_obj",
    "cart_from_obj",
    "decode_campaigns",
    "decode_cart",
    "decode_member_counts",
    "decode_store",
    "evaluate",
    "explain",
    "format_money",
    "localise",
    "render_receipt",
]
