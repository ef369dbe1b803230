"""A catalog: everything HQ publishes for the engine, in one importable document.

``pos-promo campaigns import FILE`` and :meth:`pos_promo.embedded.Engine.import_campaigns`
take either a plain JSON list of campaigns or this object, the format the
reference HQ loads its catalog from (``hq/catalog.py``), so one file can
seed HQ and a till alike. Coupon templates may sit in ``campaigns`` too
(they are a campaign kind); ``coupon_templates`` is the same list by
another name. Unknown sections are refused: a misspelt section name must
not silently import nothing.
"""

from msgspec import Struct

from pos_promo.model.campaign import Campaign
from pos_promo.model.coupon import CouponTemplate, ExecutionOrder, SharingPlan

__all__ = ["Catalog"]


class Catalog(Struct, gc=False, frozen=True, forbid_unknown_fields=True):
    """Campaigns, coupon templates, sharing plans and the execution order."""

    campaigns: tuple[Campaign, ...] = ()
    coupon_templates: tuple[CouponTemplate, ...] = ()
    sharing_plans: tuple[SharingPlan, ...] = ()
    execution_order: ExecutionOrder | None = None
