"""The sentences a cashier reads for every reason code (SPEC §8).

The engine says *why* with a code and its facts (:class:`NotApplied`,
:class:`AccrualPreview`); these functions turn them into a sentence of the
store's catalog, with names beside ids, money in the store's currency and
times on the store's wall clock. Unknown codes or causes still read as a
sentence (the code itself), so a newer engine never leaves a blank line.
"""

from __future__ import annotations

import datetime as dt

from pos_promo.i18n.format import Words
from pos_promo.model.result import AccrualPreview, NotApplied

__all__ = ["accrual_message", "not_applied_message", "progress", "progress_of"]


def not_applied_message(item: NotApplied, w: Words) -> str:
    """Why ``item`` is not in the order, in the store's language."""
    p = item.params
    reason = item.reason
    if reason == "not_shareable":
        return _lost(item, w)
    if reason == "coupon_invalid":
        return _coupon(item, w)
    if reason in ("threshold_not_met", "min_spend_not_met", "nothing_to_discount"):
        after = p.get("after") == "discounts_before"
        if reason == "nothing_to_discount" and after:
            return w._(
                "After the discounts before it, the eligible items have nothing left to discount."
            )
        text = _short(item, w)
        return w._("After the discounts before it: {sentence}", sentence=text) if after else text
    if reason == "manual_only":
        return w._("Available on request: would save {amount}.", amount=w.money(int(p["saves"])))
    if reason == "unknown_campaign":
        return w._("No campaign {id} is known here.", id=item.id)
    if reason == "not_best":
        return w._("A combination without it saves more.")
    return audience_message(reason, item.params, item.kind, w, item)


def _short(item: NotApplied, w: Words) -> str:
    needed, reached = item.needed or 0, item.reached or 0
    if item.reason == "threshold_not_met":
        if item.params.get("measure") == "items":
            return w.n_(
                "{reached} of {needed} eligible item.",
                "{reached} of {needed} eligible items.",
                needed,
                reached=w.number(reached),
                needed=w.number(needed),
            )
        return w._(
            "{reached} of {needed} on eligible items.",
            reached=w.money(reached),
            needed=w.money(needed),
        )
    if item.reason == "min_spend_not_met":
        return w._(
            "{reached} of the {needed} minimum spend on eligible items.",
            reached=w.money(reached),
            needed=w.money(needed),
        )
    return w._("The eligible items have nothing left to discount.")


def _lost(item: NotApplied, w: Words) -> str:
    p = item.params
    winner = w.quoted(
        str(p.get("lost_to_name", "")), item.lost_to or "", str(p.get("lost_to_kind", ""))
    )
    won_on = p.get("won_on")
    if won_on == "saves_more":
        return w._(
            "Cannot be combined with {winner}, which saves more ({winner_saves} against {saves}).",
            winner=winner,
            winner_saves=w.money(int(p["winner_saves"])),
            saves=w.money(int(p["saves"])),
        )
    if won_on == "fewer_coupons":
        return w._(
            "Cannot be combined with {winner}: same saving; won so the coupon stays in the wallet.",
            winner=winner,
        )
    if won_on == "priority":
        return w._("Cannot be combined with {winner}: same saving; won on priority.", winner=winner)
    if won_on == "id":
        return w._(
            "Cannot be combined with {winner}: same saving and priority; won on campaign id.",
            winner=winner,
        )
    if won_on == "combination":
        return w._(
            "Cannot be combined with {winner}; the offers applied together save more.",
            winner=winner,
        )
    family = p.get("family")  # an activity that does not share with what the order used
    if family == "member_price":
        return w._("The order used the member price, which this activity does not share with.")
    if family == "member_discount":
        return w._("The order used the member discount, which this activity does not share with.")
    other = w.quoted(str(p.get("other_name", "")), str(p.get("other", "")), str(family))
    if family == "coupon":
        return w._(
            "The order used coupon {other}, which this activity does not share with.", other=other
        )
    return w._(
        "The order used promotion {other}, which this activity does not share with.", other=other
    )


def _coupon(item: NotApplied, w: Words) -> str:
    cause, p = item.cause, item.params
    if cause == "unknown":
        return w._("No coupon {id} in this till's wallet.", id=item.id)
    if cause == "duplicate":
        return w._("Presented twice.")
    if cause == "void":
        return w._("This coupon was voided.")
    if cause == "redeemed":
        return w._("This coupon was already redeemed.")
    if cause == "member_required":
        return w._("Identify the member who owns this coupon.")
    if cause == "not_owner":
        return w._("This coupon belongs to another member.")
    if cause == "not_yet_valid":
        return w._("Valid from {when}.", when=w.when(_instant(p["valid_from"])))
    if cause == "expired":
        return w._("Expired {when}.", when=w.when(_instant(p["valid_until"])))
    if cause == "template_unknown":
        return w._("Its coupon kind {template} is not known here yet.", template=p["template"])
    return w._("This coupon cannot be used ({cause}).", cause=cause or "")


def _instant(text: str | int) -> dt.datetime:
    return dt.datetime.fromisoformat(str(text))


def audience_message(
    reason: str, p: dict[str, str | int], kind: str, w: Words, item: NotApplied | None = None
) -> str:
    """Who-and-when reasons, shared by promotions, coupons and gift activities."""
    if reason == "inactive":
        status = p.get("status")
        if status == "paused":
            return w._("Campaign is paused.")
        if status == "archived":
            return w._("Campaign is archived.")
        return w._("Campaign is not active.")
    if reason == "not_started":
        return w._("Starts {when}.", when=w.when(_instant(p["start"])))
    if reason == "ended":
        return w._("Ended {when}.", when=w.when(_instant(p["end"])))
    if reason == "date_not_allowed":
        return w._("Not offered on {day}.", day=w.day(dt.date.fromisoformat(str(p["day"]))))
    if reason == "outside_time_slot":
        slots = item.slots if item is not None else ()
        return w._(
            "Only offered {slots}; it is {now}.",
            slots=w.slots(slots),
            now=w.moment(_instant(p["now"])),
        )
    if reason == "store_not_eligible":
        return w._("Not offered at this store ({store}).", store=p.get("store", ""))
    if reason == "channel_not_eligible":
        if p.get("channel") == "online":
            return w._("Not offered for online orders.")
        return w._("Not offered at the till.")
    if reason == "service_type_not_eligible":
        service = p.get("service_type")
        if service == "delivery":
            return w._("Not offered for delivery orders.")
        if service == "pickup":
            return w._("Not offered for pickup orders.")
        return w._("Not offered for dine-in orders.")
    if reason == "member_required":
        need = p.get("for")
        if need == "limit":
            return w._("Limited per member: identify the member to count this use.")
        if need == "accrual":
            return w._("Identify the member to add this order to their total.")
        return w._("Members only: identify the member first.")
    if reason == "member_not_eligible":
        check = p.get("check")
        if check == "tags":
            return w._("Member has none of the required tags.")
        if check == "card_programs":
            return w._("Member's card program is not included.")
        if p.get("tier"):
            return w._("Not offered to tier {tier}.", tier=p["tier"])
        return w._("Not offered to members without a tier.")
    if reason == "total_limit_reached":
        return w.n_(
            "Member has already used this the {n} time allowed.",
            "Member has already used this the {n} times allowed.",
            int(p["limit"]),
        )
    if reason == "daily_limit_reached":
        return w.n_(
            "Member has already used this the {n} time allowed today.",
            "Member has already used this the {n} times allowed today.",
            int(p["limit"]),
        )
    if reason == "sharing_plan_unknown":
        return w._("Its sharing plan {plan} is not known here yet.", plan=p.get("plan", ""))
    if reason == "no_eligible_items":
        if kind == "coupon":
            return w._("No item in the cart is part of this coupon.")
        if kind == "cumulative_gift":
            return w._("No item in the cart counts toward this activity.")
        return w._("No item in the cart is part of this promotion.")
    if reason == "not_shareable" and item is not None:
        return _lost(item, w)
    return w._("Not applied ({reason}).", reason=reason)


def _measure(value: int, measure: str, w: Words) -> str:
    if measure == "spend":
        return w.money(value)
    return w.n_("{n} item", "{n} items", value)


def progress(preview: AccrualPreview, w: Words) -> str:
    """``$180.00 of $200.00`` or ``11 of 15 items``: where the order leaves the member."""
    return progress_of(preview.measure, preview.reaches, preview.next, w)


def progress_of(measure: str, reached: int, target: int, w: Words) -> str:
    """``reached`` toward ``target``, in money (``spend``) or items."""
    if measure == "spend":
        return w._("{reached} of {target}", reached=w.money(reached), target=w.money(target))
    return w.n_("{reached} of {n} item", "{reached} of {n} items", target, reached=reached)


def accrual_message(preview: AccrualPreview, w: Words) -> str:
    """What the order does toward the activity's next gift."""
    if preview.reason is not None:
        stub = NotApplied(
            preview.activity_id, "cumulative_gift", preview.reason, params=preview.params
        )
        return audience_message(preview.reason, preview.params, "cumulative_gift", w, stub)
    if preview.triggers:
        gifts = w._(", ").join(
            w._("{quantity} × {name}", quantity=g.quantity, name=g.name or g.template_id)
            for g in preview.gifts
        )
        return w._(
            "Reaches {reached}: gives {gifts}; the next at {next}.",
            reached=_measure(preview.reaches, preview.measure, w),
            gifts=gifts,
            next=_measure(preview.next, preview.measure, w),
        )
    if "given" in preview.params:
        return w._(
            "Reached {threshold}: the gift was given.",
            threshold=_measure(int(preview.params["given"]), preview.measure, w),
        )
    return w._(
        "Adds {amount}: {progress}.",
        amount=_measure(preview.adds, preview.measure, w),
        progress=progress(preview, w),
    )
