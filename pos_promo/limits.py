"""Every bound on what the till and HQ accept, written down once.

The engine works per unit (each unit of each line gets its own price), and a
cumulative gift works per ordinal and per coupon, so an unbounded quantity,
amount or threshold is unbounded work: quantity 1,000,000 took 16 s and
370 MB, 10^18 a ``MemoryError``, an amount >= 2^63 an ``OverflowError`` in
SQLite, a gift "every 1 cent" a commit of more than 30 s. These numbers keep
one evaluation, commit or ingest in milliseconds and every sum far inside
64-bit integers (the largest order total is 10^10, nine digits below 2^63).

The wire types carry the per-value bounds as msgspec ``Meta`` constraints, so
they show in the JSON Schemas (``docs/schema``) and a document past one is
refused at decode time with its path; the bounds that span values (units per
cart, order total, grants per order) are checked right after. HQ and the sync
daemon import the page, body and depth bounds from here. docs/limits.md lists
them all for people.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "MAX_AMOUNT",
    "MAX_BATCH_EVENTS",
    "MAX_BODY_BYTES",
    "MAX_BODY_DEPTH",
    "MAX_CART_COUPONS",
    "MAX_CART_UNITS",
    "MAX_CODE_LENGTH",
    "MAX_COUNT",
    "MAX_COUPONS_PER_GRANT",
    "MAX_DOCUMENT_BYTES",
    "MAX_GRANTS_PER_ORDER",
    "MAX_ID_LENGTH",
    "MAX_JSON_DEPTH",
    "MAX_LINES",
    "MAX_LIST",
    "MAX_NAME_LENGTH",
    "MAX_ORDER_AMOUNT",
    "MAX_PAGE_ITEMS",
    "MAX_PAYMENTS",
    "MAX_QUANTITY",
    "MAX_RESPONSE_BYTES",
    "MAX_TEXT_LENGTH",
    "MAX_VERSION",
    "MAX_YEAR",
    "MIN_GIFT_SPEND_THRESHOLD",
    "MIN_YEAR",
]

# -- a cart ------------------------------------------------------------------

MAX_QUANTITY: Final = 1_000
"""Units on one cart line (a catering order of 1,000 sandwiches fits)."""

MAX_CART_UNITS: Final = 2_000
"""Units on one cart, sides and modifiers included: the engine's per-unit work."""

MAX_LINES: Final = 500
"""Lines on one cart."""

MAX_CART_COUPONS: Final = 20
"""Coupons one cart presents, and promotions it requests by id."""

MAX_PAYMENTS: Final = 50
"""Tenders given with one commit."""

# -- money -------------------------------------------------------------------

MAX_AMOUNT: Final = 1_000_000_000
"""Any one amount, in minor units: a price, a payment, a threshold, a saving (10^9)."""

MAX_ORDER_AMOUNT: Final = 10_000_000_000
"""One order's subtotal and its payments' sum, in minor units (10^10)."""

# -- text and lists ------------------------------------------------------------

MAX_ID_LENGTH: Final = 128
"""Characters in any id: order, line, item, campaign, member, coupon, store."""

MAX_CODE_LENGTH: Final = 64
"""Characters in a campaign's code."""

MAX_NAME_LENGTH: Final = 200
"""Characters in a campaign's or a line's name."""

MAX_TEXT_LENGTH: Final = 4_000
"""Characters in a campaign's description."""

MAX_LIST: Final = 10_000
"""Entries in any list of ids: item scopes, store and org lists, tags, ..."""

MAX_COUNT: Final = 1_000_000
"""A participation limit or count per member."""

MAX_VERSION: Final = 2**53 - 1
"""A document version: the largest integer every JSON reader keeps exact."""

MIN_YEAR: Final = 1970
"""The earliest year of any instant or wall-clock time."""

MAX_YEAR: Final = 2999
"""The latest year: far enough that adding a validity or a delay never overflows."""

# -- cumulative gifts ------------------------------------------------------------

MIN_GIFT_SPEND_THRESHOLD: Final = 100
"""The smallest spend a gift activity may count to, in minor units (1.00)."""

MAX_GRANTS_PER_ORDER: Final = 10
"""Ordinals of one activity one order (or one merge at HQ) grants; the rest
the total has reached are granted by the member's next orders."""

MAX_COUPONS_PER_GRANT: Final = 20
"""Coupons one grant issues, all gift lines together."""

# -- documents on the wire --------------------------------------------------------

MAX_JSON_DEPTH: Final = 32
"""Nesting of any JSON document; the deepest valid one needs about ten."""

MAX_BODY_DEPTH: Final = MAX_JSON_DEPTH + 4
"""Nesting of a whole request body, sync page or catalog file: a document at
the limit above inside the (at most four) levels of its envelope. HQ refuses
a deeper body before decoding it; a till reads a deeper page item by item."""

MAX_DOCUMENT_BYTES: Final = 16 * 1024 * 1024
"""Bytes in one document the till reads: a file named on the command line, a
JSON argument to an :class:`~pos_promo.embedded.Engine` method."""

MAX_RESPONSE_BYTES: Final = 32 * 1024 * 1024
"""Bytes in one response the sync client reads from HQ (a page)."""

MAX_BODY_BYTES: Final = 64 * 1024 * 1024
"""Bytes in one request body HQ accepts (a push batch)."""

MAX_PAGE_ITEMS: Final = 1_000
"""Items in one sync page HQ serves, and the largest page a till asks for."""

MAX_BATCH_EVENTS: Final = 1_000
"""Events in one push batch."""
