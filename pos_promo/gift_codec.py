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
from pos_promo.limits import MAX_COUPONS_PER_GRANT, MAX_YEAR, MIN_GIFT_SPEND_THRESHOLD, MIN_YEAR
from pos_promo.model.base import CampaignBase
from pos_promo.model.coupon import CouponTemplate, FixedValidity
from pos_promo.model.gift import CumulativeGift

__all__ = ["check_gift", "check_gift_templates", "check_window"]


def check_gift(gift: CumulativeGift, path: str = "$") -> None:
    """Item scope not empty; fixed validity windows that end after they start.

    A spend threshold below :data:`~pos_promo.limits.MIN_GIFT_SPEND_THRESHOLD`
    and more than :data:`~pos_promo.limits.MAX_COUPONS_PER_GRANT` coupons per
    grant are refused: a gift "every 1 cent" turned one commit into thousands
    of grants.
    """
    condition = gift.condition
    if condition.measure == "spend" and condition.threshold < MIN_GIFT_SPEND_THRESHOLD:
        raise InvalidCampaign(
            f"{path}.condition.threshold",
            f"must be >= {MIN_GIFT_SPEND_THRESHOLD} (minor units) for a spend condition",
            condition.threshold,
        )
    coupons = sum(item.quantity for item in gift.gifts)
    if coupons > MAX_COUPONS_PER_GRANT:
        raise InvalidCampaign(
            f"{path}.gifts",
            f"must issue at most {MAX_COUPONS_PER_GRANT} coupons per grant in all",
            coupons,
        )
    scope = gift.items
    if not scope.all_items and not scope.item_ids and not scope.category_ids:
        raise InvalidCampaign(
            f"{path}.items",
            "must set all_items or list at least one item_ids or category_ids entry",
        )
    for index, item in enumerate(gift.gifts):
        if isinstance(item.validity, FixedValidity):
            check_window(item.validity, f"{path}.gifts[{index}].validity")


def check_window(validity: FixedValidity, path: str) -> None:
    """A fixed coupon window ends after it starts, both ends in the years allowed."""
    for end in ("start", "end"):
        value = getattr(validity, end)
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise InvalidCampaign(
                f"{path}.{end}", f"must be in the years {MIN_YEAR} to {MAX_YEAR}", value.isoformat()
            )
    if validity.end <= validity.start:
        raise InvalidCampaign(
            f"{path}.end",
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
