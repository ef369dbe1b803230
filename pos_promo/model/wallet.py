"""The till's wallet: coupon instances as this till knows them (SPEC §7).

A :class:`~pos_promo.model.coupon.Coupon` is what HQ (or a local gift)
says about one coupon; a :class:`WalletEntry` adds what only the till
knows: where the coupon came from, which local order redeemed it, and
whether a local change (a redemption, or its restoration by a refund) is
still waiting for HQ to confirm it. While it waits, a pull of HQ state
that predates it cannot undo it (docs/store.md, "The wallet").
"""

import datetime as dt

from msgspec import Struct

from pos_promo.model.common import Id
from pos_promo.model.coupon import CouponStatus

__all__ = ["COUPON_SOURCES", "CouponSource", "WalletEntry", "WalletReport"]

CouponSource = str
"""Where a wallet coupon came from: ``hq`` (member state, or a POS passing
HQ's wallet on), ``gift`` (issued here by a cumulative spending gift), or
any other short name an embedding POS chooses."""

COUPON_SOURCES = ("gift", "hq")
"""The sources pos_promo itself writes."""


class WalletEntry(Struct, gc=False, frozen=True):
    """One coupon in the till's wallet.

    ``redeemed_order_id`` / ``redeemed_at`` name the local order that
    redeemed it (``None`` when it was not redeemed here). ``unconfirmed`` is
    true while a local redemption or restoration has not been confirmed by
    HQ's member state yet.
    """

    id: Id
    template_id: Id
    member_id: Id
    valid_from: dt.datetime
    valid_until: dt.datetime
    status: CouponStatus
    source: CouponSource
    issued_at: dt.datetime | None = None
    redeemed_order_id: Id | None = None
    redeemed_at: dt.datetime | None = None
    unconfirmed: bool = False
    updated_at: dt.datetime | None = None


class WalletReport(Struct, gc=False, frozen=True):
    """What one batch of coupons did to the wallet, coupon ids per outcome (sorted).

    ``kept_local``: HQ's status was not taken because a local redemption or
    restoration of that coupon is not confirmed yet (its other fields were).
    ``unknown_fields``: JSON paths of fields the coupon type does not know
    (ignored, listed).
    """

    added: tuple[Id, ...] = ()
    updated: tuple[Id, ...] = ()
    unchanged: tuple[Id, ...] = ()
    kept_local: tuple[Id, ...] = ()
    unknown_fields: tuple[str, ...] = ()
