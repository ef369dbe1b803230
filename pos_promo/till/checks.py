"""The checks and error mapping every method of the till's face shares.

Small, but in one place so each door validates the same way: the instant
a cart is evaluated at, the payments against the total, the gift templates
a catalog names, the unknown fields a payload carries, and driver errors
turned into :class:`~pos_promo.errors.StoreError` for the operator.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import TYPE_CHECKING, Any

from pos_promo.doors import accept_instant
from pos_promo.errors import InvalidCart, InvalidPayment, StoreError
from pos_promo.gift_codec import check_gift_templates as check_templates
from pos_promo.model.cart import Cart
from pos_promo.model.catalog import Catalog
from pos_promo.model.gift import CumulativeGift
from pos_promo.model.order import Payment
from pos_promo.store.campaigns import template_ids

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["cart_instant", "check_gift_templates", "check_total", "payload_unknowns", "wrapped"]


class wrapped:
    """Driver errors surface as :class:`StoreError`, with the driver's error as
    cause. (A class: every call of the till's face goes through it, and
    contextlib's generator costs several times more to enter and leave.)"""

    __slots__ = ("_path",)

    def __init__(self, path: str) -> None:
        self._path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, sqlite3.Error):
            raise StoreError(self._path, f"database error: {exc}") from exc


def cart_instant(cart: Cart, at: dt.datetime | None) -> dt.datetime:
    """The instant to evaluate at: the caller's, else the cart's own; the
    engine never reads the clock, so a cart without either is refused."""
    instant = at or cart.at
    if instant is None:
        raise InvalidCart("$.at", "is required: the engine never reads the clock, pass the instant")
    return accept_instant(instant, "$.at", InvalidCart)


def payload_unknowns(payload: object, as_object: Any, as_list: Any) -> tuple[str, ...]:
    """Unknown fields of a JSON payload (a struct has none), as a list or an object:
    reported back rather than refused, so an older till takes a newer HQ's data."""
    if not isinstance(payload, bytes | str):
        return ()
    listed = payload.lstrip()[:1] in (b"[", "[")
    from pos_promo.unknown import unknown_fields  # only imports read payloads: not at start

    return tuple(unknown_fields(payload, as_list if listed else as_object))


def check_gift_templates(conn: sqlite3.Connection, payload: object, catalog: Catalog) -> None:
    """A gift must name a coupon template of this payload or the cache: a gift
    whose template is unknown could never issue its coupons."""
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
    check_templates(pairs, template_ids(conn))


def check_total(payments: tuple[Payment, ...], total: int) -> None:
    """Payments must add up to the order total: a till that records less or
    more than it evaluated would skew every accrual and report."""
    paid = sum(p.amount for p in payments)
    if paid != total:
        raise InvalidPayment("$.payments", f"must add up to the order total {total}", paid)
