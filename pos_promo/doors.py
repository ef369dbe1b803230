"""One validation per wire type, for every entry of the library.

A struct built in Python is not checked by msgspec (constructors trust their
arguments), so ``Engine.commit(Cart(...))`` used to store a negative price, a
negative payment, duplicate line ids or an empty cart that its JSON would
have been refused for. Every public entry (``Engine.evaluate``, ``commit``,
``refund``, ``import_campaigns``, ``add_coupons``, ``Engine.open``, the
package's :func:`evaluate` and :func:`explain`, the CLI) calls the function here for
its input, which sends a struct through the very decoder its JSON goes
through: encoding a struct and decoding it back costs microseconds and makes
the two doors refuse with the same ``path: rule, got value`` by
construction. Anything else (a dict, ``None``) is refused with the type that
was expected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Annotated

import msgspec
from msgspec import Meta

from pos_promo.codec import (
    ErrorType,
    check_instant,
    check_size,
    decode_campaigns,
    decode_cart,
    decode_catalog,
    decode_coupons,
    decode_member_counts,
    decode_store,
    validation_error,
)
from pos_promo.decoders import LazyDecoder
from pos_promo.engine.evaluate import evaluate as engine_evaluate
from pos_promo.engine.evaluate import explain as engine_explain
from pos_promo.engine.index import CampaignIndex
from pos_promo.errors import (
    InvalidCampaign,
    InvalidCart,
    InvalidCoupon,
    InvalidInput,
    InvalidPayment,
    InvalidRefund,
    InvalidStore,
)
from pos_promo.limits import MAX_ID_LENGTH, MAX_ORDER_AMOUNT, MAX_PAYMENTS
from pos_promo.model.campaign import Campaign
from pos_promo.model.cart import Cart, MemberCounts, StoreContext
from pos_promo.model.catalog import Catalog
from pos_promo.model.common import Sharing
from pos_promo.model.coupon import Coupon, ExecutionOrder
from pos_promo.model.order import Payment
from pos_promo.model.result import Applied, EvaluationResult, NotApplied

__all__ = [
    "accept_campaigns",
    "accept_cart",
    "accept_counts",
    "accept_coupons",
    "accept_instant",
    "accept_payments",
    "accept_refund",
    "accept_store",
    "evaluate",
    "explain",
]

_PAYMENTS = LazyDecoder[list[Payment]](Annotated[list[Payment], Meta(max_length=MAX_PAYMENTS)])


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _encoded(value: object, error: ErrorType, expected: str) -> bytes:
    """The JSON a struct (or a list of them) stands for; what cannot be JSON is refused."""
    try:
        return msgspec.json.encode(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise error("$", f"expected {expected} holding only JSON values ({exc})") from None


def accept_cart(cart: object) -> Cart:
    """A :class:`Cart` or its JSON (bytes or str), checked the same way either way."""
    if isinstance(cart, bytes | str):
        return decode_cart(cart)
    if isinstance(cart, Cart):
        return decode_cart(_encoded(cart, InvalidCart, "a Cart"))
    raise InvalidCart("$", "expected a Cart or its JSON (bytes or str)", _type_name(cart))


def accept_counts(counts: object) -> MemberCounts:
    """A member's :class:`MemberCounts` or their JSON, checked the same way either way."""
    if isinstance(counts, bytes | str):
        return decode_member_counts(counts)
    if isinstance(counts, MemberCounts):
        return decode_member_counts(_encoded(counts, InvalidCart, "MemberCounts"))
    raise InvalidCart("$", "expected MemberCounts or their JSON (bytes or str)", _type_name(counts))


def accept_store(store: object) -> StoreContext:
    """A :class:`StoreContext` or its JSON, checked the same way either way."""
    if isinstance(store, bytes | str):
        return decode_store(store)
    if isinstance(store, StoreContext):
        return decode_store(_encoded(store, InvalidStore, "a StoreContext"))
    raise InvalidStore("$", "expected a StoreContext or its JSON (bytes or str)", _type_name(store))


def accept_campaigns(payload: object) -> Catalog:
    """A catalog, a list of campaigns, or the JSON of either, as one checked :class:`Catalog`."""
    if isinstance(payload, bytes | str):
        return decode_catalog(payload)
    if isinstance(payload, Catalog):
        return decode_catalog(_encoded(payload, InvalidCampaign, "a Catalog"))
    if isinstance(payload, Sequence) and all(isinstance(c, Campaign) for c in payload):
        data = _encoded(list(payload), InvalidCampaign, "a list of campaigns")
        return Catalog(campaigns=decode_campaigns(data))
    raise InvalidCampaign(
        "$",
        "expected a Catalog, a list of campaigns, or their JSON (bytes or str)",
        _type_name(payload),
    )


def accept_coupons(coupons: object) -> tuple[Coupon, ...]:
    """A list of :class:`Coupon` or its JSON, checked the same way either way."""
    if isinstance(coupons, bytes | str):
        return decode_coupons(coupons)
    if isinstance(coupons, Sequence) and all(isinstance(c, Coupon) for c in coupons):
        return decode_coupons(_encoded(list(coupons), InvalidCoupon, "a list of Coupon"))
    raise InvalidCoupon(
        "$", "expected a list of Coupon or its JSON (bytes or str)", _type_name(coupons)
    )


def accept_payments(payments: object) -> tuple[Payment, ...]:
    """Payments as :class:`Payment` structs, plain mappings, or their JSON list.

    Paths are rooted at ``$.payments``; their sum may not pass
    :data:`~pos_promo.limits.MAX_ORDER_AMOUNT`.
    """
    prefix = "$.payments"
    if isinstance(payments, bytes | str):
        data: bytes | str = payments
    elif isinstance(payments, Sequence) and all(isinstance(p, Payment | Mapping) for p in payments):
        data = _encoded(list(payments), InvalidPayment, "a list of Payment")
    else:
        raise InvalidPayment(
            prefix,
            "expected a list of Payment (or of mappings) or its JSON (bytes or str)",
            _type_name(payments),
        )
    check_size(data, InvalidPayment, prefix)
    try:
        paid = _PAYMENTS.decode(data)
    except msgspec.MsgspecError as exc:
        raise validation_error(exc, data, InvalidPayment, prefix) from None
    if sum(p.amount for p in paid) > MAX_ORDER_AMOUNT:
        raise InvalidPayment(
            prefix, f"must add up to at most {MAX_ORDER_AMOUNT}", sum(p.amount for p in paid)
        )
    return tuple(paid)


def accept_instant(value: object, path: str, error: ErrorType = InvalidInput) -> dt.datetime:
    """An aware :class:`datetime.datetime` in the years the limits allow."""
    if not isinstance(value, dt.datetime):
        raise error(path, "expected a datetime with a UTC offset", _type_name(value))
    if value.tzinfo is None or value.utcoffset() is None:
        raise error(path, "must carry a UTC offset", value.isoformat())
    check_instant(value, path, error)
    return value


def _id(value: object, path: str, error: ErrorType) -> str:
    if not isinstance(value, str):
        raise error(path, "expected a string id", _type_name(value))
    if not 1 <= len(value) <= MAX_ID_LENGTH:
        raise error(path, f"expected a string id of length 1 to {MAX_ID_LENGTH}", value)
    return value


def accept_refund(
    order_id: object, lines: object, refund_id: object
) -> tuple[str, dict[str, int] | None, str | None]:
    """The types of a refund request; which lines and how many units the store checks."""
    order = _id(order_id, "$.order_id", InvalidRefund)
    refund = None if refund_id is None else _id(refund_id, "$.refund_id", InvalidRefund)
    if lines is None:
        return order, None, refund
    if not isinstance(lines, Mapping):
        raise InvalidRefund(
            "$.lines", "expected a mapping of line id to units, or null", _type_name(lines)
        )
    asked: dict[str, int] = {}
    for line_id, units in lines.items():
        _id(line_id, "$.lines", InvalidRefund)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise InvalidRefund(f"$.lines[{line_id!r}]", "must be a whole number >= 1", units)
        asked[line_id] = units
    return order, asked, refund


def evaluate(
    cart: Cart | bytes | str,
    index: CampaignIndex,
    *,
    at: dt.datetime | None = None,
    counts: MemberCounts | None = None,
    plans: Mapping[str, Sharing] | None = None,
    wallet: Mapping[str, Coupon] | None = None,
    order: ExecutionOrder | None = None,
) -> EvaluationResult:
    """:func:`pos_promo.engine.evaluate.evaluate` behind the cart's one validation.

    The package exports this one: the pure engine trusts its cart (the
    engine's callers have checked it), a caller of the library must not.
    """
    checked = accept_cart(cart)
    instant = None if at is None else accept_instant(at, "$.at", InvalidCart)
    counted = None if counts is None else accept_counts(counts)
    return engine_evaluate(
        checked, index, at=instant, counts=counted, plans=plans, wallet=wallet, order=order
    )


def explain(
    cart: Cart | bytes | str,
    index: CampaignIndex,
    campaign_id: str,
    *,
    at: dt.datetime | None = None,
    counts: MemberCounts | None = None,
    plans: Mapping[str, Sharing] | None = None,
) -> Applied | NotApplied:
    """:func:`pos_promo.engine.evaluate.explain` behind the cart's one validation."""
    checked = accept_cart(cart)
    instant = None if at is None else accept_instant(at, "$.at", InvalidCart)
    counted = None if counts is None else accept_counts(counts)
    return engine_explain(checked, index, campaign_id, at=instant, counts=counted, plans=plans)
