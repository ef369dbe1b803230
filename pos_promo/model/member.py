"""What the till knows about one member's cumulative gifts, and each activity's metrics.

``pos-promo member show ID`` prints a :class:`MemberGifts`; ``pos-promo
report`` adds an :class:`ActivityMetrics` per activity. Totals are the
member's standing as the till computes it (HQ-confirmed plus this till's
unconfirmed entries); metrics count what happened at this till.
"""

import datetime as dt

from msgspec import Struct

from pos_promo.model.common import Id
from pos_promo.model.wallet import WalletEntry

__all__ = ["ActivityMetrics", "ActivityStanding", "GrantView", "MemberGifts"]


class ActivityStanding(Struct, gc=False, frozen=True):
    """A member's total in one activity: ``confirmed`` by HQ, ``local`` entries HQ has
    not confirmed yet, their sum, and the progress toward the next gift."""

    activity_id: Id
    name: str
    measure: str
    confirmed: int
    local: int
    total: int
    next: int | None = None
    progress: str = ""


class GrantView(Struct, gc=False, frozen=True):
    """One granted (or revoked) ordinal; ``source`` is ``local`` or ``hq``."""

    grant_id: Id
    activity_id: Id
    ordinal: int
    status: str
    at: dt.datetime
    source: str
    order_id: Id | None = None
    store_id: Id | None = None
    unconfirmed: bool = False


class MemberGifts(Struct, gc=False, frozen=True):
    """Totals, grants and wallet of one member."""

    member_id: Id
    activities: tuple[ActivityStanding, ...]
    grants: tuple[GrantView, ...]
    wallet: tuple[WalletEntry, ...]


class ActivityMetrics(Struct, gc=False, frozen=True):
    """One activity at this till, net of refunds.

    ``members``: members whose orders here still add to it; ``accrued``: what
    those orders add (cents or units); ``grants``: grants standing (made here
    or by HQ), ``grants_revoked``; coupons its grants put in this till's
    wallet: ``coupons_issued`` (ever), ``coupons_redeemed``,
    ``coupons_voided``, and ``coupons_scheduled`` (releases not due yet).
    """

    activity_id: Id
    name: str
    measure: str
    members: int
    accrued: int
    grants: int
    grants_revoked: int
    coupons_issued: int
    coupons_redeemed: int
    coupons_voided: int
    coupons_scheduled: int
