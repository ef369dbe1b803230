"""The checks of a cumulative gift activity that no type can express.

Two kinds: those of the document alone (:func:`check_gift`, run by
:func:`pos_promo.codec.check_campaign` like every kind's own checks), and
one that needs the till's cache: every gift must name a coupon template
the till knows, in the same payload or already cached
(:func:`check_gift_templates`). A gift naming an unknown template is
refused at import with its JSON path, so a grant can never plan coupons of
a kind the till cannot describe.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from pos_promo.errors import InvalidCampaign
from pos_promo.model.base import CampaignBase
from pos_promo.model.coupon import CouponTemplate, FixedValidity
from pos_promo.model.gift import CumulativeGift

__all__ = ["check_gift", "check_gift_templates"]


def check_gift(gift: CumulativeGift, path: str = "$") -> None:
    """Item scope not empty; fixed validity windows that end after they start."""
    scope = gift.items
    if not scope.all_items and not scope.item_ids and not scope.category_ids:
        raise InvalidCampaign(
            f"{path}.items",
            "must set all_items or list at least one item_ids or category_ids entry",
        )
    for index, item in enumerate(gift.gifts):
        validity = item.validity
        if isinstance(validity, FixedValidity) and validity.end <= validity.start:
            raise InvalidCampaign(
                f"{path}.gifts[{index}].validity.end",
                f"must be after validity.start {validity.start.isoformat()}",
                validity.end.isoformat(),
            )


def check_gift_templates(
    campaigns: Iterable[tuple[str, CampaignBase]], cached: Collection[str]
) -> None:
    """Every gift names a coupon template in the payload or in ``cached``.

    ``campaigns`` are ``(JSON path, campaign)`` pairs of one payload;
    ``cached`` the template ids the till already holds.
    """
    pairs = list(campaigns)
    known = {c.id for _, c in pairs if isinstance(c, CouponTemplate)}
    for path, campaign in pairs:
        if not isinstance(campaign, CumulativeGift):
            continue
        for index, item in enumerate(campaign.gifts):
            if item.template_id not in known and item.template_id not in cached:
                raise InvalidCampaign(
                    f"{path}.gifts[{index}].template_id",
                    "names no coupon template in this payload or the till's cache",
                    item.template_id,
                )
