"""Every error pos_promo raises, under one root so a POS can catch them all.

Each exception builds its own message from the facts it is given, so the
same mistake always reads the same way, and subclasses the builtin it is
closest to so callers that only know Python's vocabulary still catch it::

    PromoError
    ├── CouponConflict (RuntimeError)      a coupon changed under a commit that redeems it
    ├── InvalidInput (ValueError)          a document broke a rule: path, value, rule
    │   ├── InvalidCampaign                a campaign, tier, scope or sharing setting
    │   ├── InvalidCart                    the cart being rung up
    │   ├── InvalidCoupon                  a wallet coupon (ids, owner, validity window)
    │   ├── InvalidPayment                 payments that do not add up to the order total
    │   ├── InvalidRefund                  a refund request naming bad lines or unit counts
    │   ├── InvalidStore                   the store context (id, time zone, currency)
    │   └── UnreadableInput                a file named on the command line cannot be read
    ├── RefundExceedsSale (ValueError)     more units back than are left on the line
    ├── StoreError (RuntimeError)          the local database failed or is not usable
    ├── StoreMismatch (ValueError)         a database recorded for another store
    ├── UnknownCampaign (LookupError)      an id that names no campaign
    ├── UnknownMember (LookupError)        a member id the till holds nothing about
    └── UnknownOrder (LookupError)         an order id with no committed order
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CouponConflict",
    "InvalidCampaign",
    "InvalidCart",
    "InvalidCoupon",
    "InvalidInput",
    "InvalidPayment",
    "InvalidRefund",
    "InvalidStore",
    "PromoError",
    "RefundExceedsSale",
    "StoreError",
    "StoreMismatch",
    "UnknownCampaign",
    "UnknownMember",
    "UnknownOrder",
    "UnreadableInput",
]

_MISSING = object()


class PromoError(Exception):
    """Root of every error pos_promo raises."""


class InvalidInput(PromoError, ValueError):
    """A document broke a rule.

    ``path`` is a JSON path into the document (``$.lines[2].quantity``),
    ``rule`` says what was expected and ``value`` is what was found, so the
    one-line message is enough to fix the input without reading code.
    """

    def __init__(self, path: str, rule: str, value: Any = _MISSING) -> None:
        self.path = path
        self.rule = rule
        self.value = None if value is _MISSING else value
        self.has_value = value is not _MISSING
        message = f"{path}: {rule}"
        if self.has_value:
            message += f", got {_show(value)}"
        super().__init__(message)


class InvalidCampaign(InvalidInput):
    """A campaign (or its tiers, scopes, periods or sharing) is not valid."""


class InvalidCart(InvalidInput):
    """The cart being rung up is not valid; nothing was evaluated or written."""


class InvalidStore(InvalidInput):
    """The store context (id, time zone, currency, organisations) is not valid."""


class InvalidCoupon(InvalidInput):
    """A wallet coupon given to the till is not valid; none of its batch was stored."""


class UnreadableInput(InvalidInput):
    """A file an operator named cannot be read: missing, a folder, no permission, too big.

    ``path`` is the option that named it (``--cart``), so the message says
    which argument to fix.
    """


class CouponConflict(PromoError, RuntimeError):
    """A coupon the evaluation redeemed was no longer ``issued`` when it was marked.

    Cannot happen while every writer holds ``BEGIN IMMEDIATE`` around its
    evaluation; it guards that promise, and the commit rolls back whole.
    """

    def __init__(self, coupon_id: str, order_id: str) -> None:
        self.coupon_id = coupon_id
        self.order_id = order_id
        super().__init__(
            f"coupon {coupon_id!r} is no longer issued: order {order_id!r} was not committed"
        )


class UnknownCampaign(PromoError, LookupError):
    """An id that names no campaign known to this engine."""

    def __init__(self, campaign_id: str) -> None:
        self.campaign_id = campaign_id
        super().__init__(f"unknown campaign {campaign_id!r}")


class InvalidPayment(InvalidInput):
    """The payments given with a commit do not fit the order; nothing was written."""


class InvalidRefund(InvalidInput):
    """A refund request names a line the order lacks or a unit count below one."""


class RefundExceedsSale(PromoError, ValueError):
    """A refund asks for more than is left to refund; nothing was written.

    ``line_id`` is ``None`` when a whole-order refund finds nothing left.
    """

    def __init__(self, order_id: str, line_id: str | None, asked: int, remaining: int) -> None:
        self.order_id = order_id
        self.line_id = line_id
        self.asked = asked
        self.remaining = remaining
        if line_id is None:
            message = f"order {order_id!r} is already fully refunded"
        else:
            message = (
                f"order {order_id!r} line {line_id!r}: cannot refund {asked} unit(s), "
                f"only {remaining} left to refund"
            )
        super().__init__(message)


class StoreMismatch(PromoError, ValueError):
    """The database belongs to one store and was opened for another."""

    def __init__(self, recorded: str, given: str) -> None:
        self.recorded = recorded
        self.given = given
        super().__init__(
            f"this database belongs to store {recorded!r}, not {given!r}: one database per till"
        )


class UnknownOrder(PromoError, LookupError):
    """An order id for which no order was committed in this database."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(f"unknown order {order_id!r}: no such order was committed here")


class UnknownMember(PromoError, LookupError):
    """A member id the till's database holds nothing about (most often a typo)."""

    def __init__(self, member_id: str) -> None:
        self.member_id = member_id
        super().__init__(
            f"unknown member {member_id!r}: this till has no order, coupon, count or gift for it"
        )


class StoreError(PromoError, RuntimeError):
    """The local database cannot be used: driver errors are wrapped in this.

    ``path`` is the database file; the driver's own error is the ``__cause__``.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


def _show(value: Any) -> str:
    """Render a found value the way it looked in the JSON document."""
    import json  # an error's message only: a till starting needs no json module

    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
