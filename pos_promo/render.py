"""What the cashier prints: a receipt, a reprint and a refund slip, in the
store's language.

:func:`render_receipt` takes an evaluation result (the receipt of a sale),
a stored :class:`OrderRecord` (a reprint, with its payments and refunds) or
an order record and one of its refunds (the refund slip). Each slip is a
list of sections, each a small function of the :class:`_Slip` facts, so a
new section (a loyalty footer, a tax block) is one more function in a list.
Columns are counted as a receipt printer counts them: a Chinese character
takes two.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pos_promo.i18n.format import Words, display_width, words_for
from pos_promo.i18n.reasons import accrual_message, not_applied_message
from pos_promo.model.cart import Cart, StoreContext
from pos_promo.model.order import OrderRecord, RefundRecord
from pos_promo.model.result import Applied, EvaluationResult, NotApplied

__all__ = ["WIDTH", "render_receipt", "render_verdict"]

WIDTH = 42
"""Columns of an 80 mm receipt printer's standard font."""


@dataclass(frozen=True, slots=True)
class _Slip:
    """The facts every section of one slip reads."""

    w: Words
    result: EvaluationResult
    cart: Cart | None
    order: OrderRecord | None
    refund: RefundRecord | None
    width: int

    def item(self, line_id: str, item_id: str) -> str:
        if self.cart is not None:
            for line in self.cart.lines:
                if line.line_id == line_id:
                    return line.name or line.item_id
        return item_id

    def role(self, line_id: str) -> str:
        if self.cart is not None:
            for line in self.cart.lines:
                if line.line_id == line_id:
                    return line.role
        return "main"

    def benefit(self, benefit_id: str) -> str:
        """A benefit's name under a line (the totals show its id beside it)."""
        for applied in self.result.applied:
            if applied.id == benefit_id:
                return applied.name or benefit_id
        return benefit_id

    def row(self, left: str, right: str = "", indent: int = 0) -> list[str]:
        """``left`` and ``right`` on one row, right flush; a long left wraps."""
        pad = " " * indent
        room = self.width - indent
        if not right:
            return [pad + part for part in _wrap(left, room)]
        if display_width(left) + 1 + display_width(right) <= room:
            gap = room - display_width(left) - display_width(right)
            return [pad + left + " " * gap + right]
        parts = _wrap(left, room)
        tail = parts[-1]
        if display_width(tail) + 1 + display_width(right) <= room:
            gap = room - display_width(tail) - display_width(right)
            return [pad + p for p in parts[:-1]] + [pad + tail + " " * gap + right]
        return [pad + p for p in parts] + [pad + " " * (room - display_width(right)) + right]

    def rule(self) -> list[str]:
        return ["-" * self.width]

    def centre(self, text: str) -> list[str]:
        return [
            " " * max(0, (self.width - display_width(part)) // 2) + part
            for part in _wrap(text, self.width)
        ]


def _wrap(text: str, width: int) -> list[str]:
    """Words kept whole where there are spaces; characters broken where
    there are none (Chinese has no spaces to break at)."""
    rows: list[str] = []
    current = ""
    for whole in text.split(" "):
        word = whole
        candidate = f"{current} {word}" if current else word
        if display_width(candidate) <= width:
            current = candidate
            continue
        if current:
            rows.append(current)
            current = ""
        while display_width(word) > width:
            cut, used = 0, 0
            while cut < len(word) and used + display_width(word[cut]) <= width:
                used += display_width(word[cut])
                cut += 1
            rows.append(word[:cut])
            word = word[cut:]
        current = word
    if current or not rows:
        rows.append(current)
    return rows


def _label(applied: Applied, w: Words) -> str:
    """A benefit as the cashier knows it: by name, with its id beside it (a
    coupon by its template's name and the end of its long random id)."""
    if applied.kind == "coupon":
        return w.quoted(applied.name or applied.template_id or "", applied.id, "coupon")
    return w.quoted(applied.name, applied.id)


Section = Callable[[_Slip], list[str]]


def _header(s: _Slip) -> list[str]:
    w, r = s.w, s.result
    out = s.centre(w._("Order {order}", order=r.order_id))
    out += s.centre(w._("Store {store}", store=r.store_id))
    out += s.centre(w.when(r.at))
    return out + s.rule()


def _reprint_header(s: _Slip) -> list[str]:
    assert s.order is not None
    return s.centre(s.w._("REPRINT")) + _header(s)


def _lines(s: _Slip) -> list[str]:
    w, out = s.w, []
    for line in s.result.lines:
        child = s.role(line.line_id) != "main"
        unit = line.subtotal // line.quantity if line.quantity else 0
        text = w._(
            "{quantity} × {item} @ {price}",
            quantity=line.quantity,
            item=s.item(line.line_id, line.item_id),
            price=w.money(unit),
        )
        indent = 2 if child else 0
        out += s.row(("+ " if child else "") + text, w.money(line.subtotal), indent)
        for share in line.benefits:
            out += s.row(s.benefit(share.benefit_id), w.money(-share.amount), indent + 4)
    return out + s.rule()


def _totals(s: _Slip) -> list[str]:
    w, r = s.w, s.result
    out = s.row(w._("Subtotal"), w.money(r.subtotal))
    for applied in r.applied:
        out += s.row(_label(applied, w), w.money(-applied.amount), 2)
    out += s.row(w._("Total discount"), w.money(-r.total_discount))
    out += s.row(w._("TOTAL"), w.money(r.total))
    if r.selection != "exact":
        out += s.row(w._("Many combinable offers: the best combination found was applied."))
    return out


def _not_applied(s: _Slip) -> list[str]:
    w, r = s.w, s.result
    if not r.not_applied:
        return []
    out = s.rule() + s.row(w._("Not applied:"))
    for item in r.not_applied:
        out += s.row(w.quoted(item.name, item.id, item.kind) + w._(": "), indent=2)
        out += s.row(item.message or not_applied_message(item, w), indent=4)
    return out


def _gifts(s: _Slip) -> list[str]:
    w, r = s.w, s.result
    if not r.accruals:
        return []
    out = s.rule() + s.row(w._("Gifts:"))
    for a in r.accruals:
        out += s.row(w.quoted(a.name, a.activity_id) + w._(": "), indent=2)
        out += s.row(a.message or accrual_message(a, w), indent=4)
    return out


def _tender(w: Words, tender: str) -> str:
    # each name spelled out so the catalog tools find it
    names = {
        "cash": w._("Cash"),
        "card": w._("Card"),
        "prepaid_balance": w._("Prepaid balance"),
        "points": w._("Points"),
        "voucher": w._("Voucher"),
        "other": w._("Other"),
    }
    return names.get(tender, tender)


def _payments(s: _Slip) -> list[str]:
    assert s.order is not None
    w = s.w
    if not s.order.payments:
        return []
    out = s.rule()
    for payment in s.order.payments:
        out += s.row(_tender(w, payment.tender), w.money(payment.amount))
    return out


def _refunds(s: _Slip) -> list[str]:
    assert s.order is not None
    w = s.w
    if not s.order.refunds:
        return []
    out = s.rule()
    for refund in s.order.refunds:
        when = w.when(refund.at) if refund.at is not None else ""
        out += s.row(w._("Refund {seq}", seq=refund.seq), w.money(-refund.amount))
        if when:
            out += s.row(when, indent=2)
    if s.order.status == "refunded":
        out += s.row(w._("Order fully refunded."))
    return out


def _refund_header(s: _Slip) -> list[str]:
    assert s.refund is not None
    w, refund = s.w, s.refund
    out = s.centre(w._("REFUND {seq}", seq=refund.seq))
    out += s.centre(w._("Order {order}", order=refund.order_id))
    out += s.centre(w._("Store {store}", store=s.result.store_id))
    if refund.at is not None:
        out += s.centre(w.when(refund.at))
    return out + s.rule()


def _refund_lines(s: _Slip) -> list[str]:
    assert s.refund is not None
    w, refund = s.w, s.refund
    out: list[str] = []
    for line in refund.lines:
        original = next((x for x in s.result.lines if x.line_id == line.line_id), None)
        item = s.item(line.line_id, original.item_id if original else line.line_id)
        out += s.row(
            w._("{quantity} × {item} returned", quantity=line.units, item=item),
            w.money(line.amount),
        )
        if line.discount:
            out += s.row(w._("discount taken back"), w.money(line.discount), 4)
    out += s.rule()
    if refund.benefits:
        out += s.row(w._("Discounts taken back:"))
        for share in refund.benefits:
            out += s.row(s.benefit(share.benefit_id), w.money(share.amount), 2)
        out += s.rule()
    # a partial refund re-evaluates what is kept: the kept items may lose a
    # discount (less comes back) or, more rarely, get one (more comes back)
    lost = refund.kept_discount_lost
    if lost > 0:
        out += s.row(w._("Discount the kept items lost"), w.money(-lost))
    elif lost < 0:
        out += s.row(w._("Discount the kept items now get"), w.money(-lost))
    out += s.row(w._("REFUND TOTAL"), w.money(refund.amount))
    if refund.order_fully_refunded:
        out += s.row(w._("Order fully refunded."))
    return out


_SALE: Sequence[Section] = (_header, _lines, _totals, _not_applied, _gifts)
_REPRINT: Sequence[Section] = (_reprint_header, _lines, _totals, _payments, _refunds)
_REFUND: Sequence[Section] = (_refund_header, _refund_lines)


def render_receipt(
    subject: EvaluationResult | OrderRecord,
    cart: Cart | None = None,
    store: StoreContext | None = None,
    *,
    refund: RefundRecord | None = None,
    width: int = WIDTH,
) -> str:
    """The text a cashier prints, ``width`` columns wide, in ``store``'s
    language, money and time zone (without a store: English, UTC).

    - an :class:`EvaluationResult`: the receipt of a sale, with what did not
      apply and why, and what the order adds toward gifts;
    - an :class:`OrderRecord`: a reprint of the sale, with its payments and
      the refunds so far;
    - an :class:`OrderRecord` and one of its ``refund`` records: the refund
      slip, with the discount each benefit took back.

    With the ``cart`` (an order record brings its own), lines show item
    names and sides under their main.
    """
    result = subject.result if isinstance(subject, OrderRecord) else subject
    order = subject if isinstance(subject, OrderRecord) else None
    if cart is None and order is not None:
        cart = order.cart  # the record keeps the cart as committed, for reprints
    if refund is not None and order is None:
        raise TypeError("a refund slip needs the order record the refund belongs to")
    ctx = store or StoreContext(result.store_id, currency=result.currency)
    slip = _Slip(words_for(ctx), result, cart, order, refund, width)
    sections = _REFUND if refund is not None else _REPRINT if order is not None else _SALE
    out: list[str] = []
    for section in sections:
        out += section(slip)
    # CLDR joins "6:00 PM" and "1.234,56 €" with no-break spaces, which kept
    # them whole while wrapping; a receipt printer's code page prints spaces
    text = "\n".join(line.rstrip() for line in out) + "\n"
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def render_verdict(verdict: Applied | NotApplied, store: StoreContext) -> str:
    """One line for ``explain``: the campaign by name and id, then what it
    would take off, or its reason code and sentence, in ``store``'s words."""
    w = words_for(store)
    if isinstance(verdict, NotApplied):
        who = w.quoted(verdict.name, verdict.id, verdict.kind)
        sentence = verdict.message or not_applied_message(verdict, w)
        line = f"{who} [{verdict.reason}] {sentence}"
    else:
        line = w._(
            "{campaign} applies: {amount}",
            campaign=_label(verdict, w),
            amount=w.money(-verdict.amount),
        )
        if verdict.tier:
            line += w._(", tier {tier}", tier=verdict.tier)
        if verdict.capped:
            line += w._(", capped")
    return line.replace("\u00a0", " ").replace("\u202f", " ") + "\n"
