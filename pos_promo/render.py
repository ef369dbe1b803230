"""The cashier's receipt: an evaluation result as plain text.

Lines with what each took off, then each applied benefit, then the totals,
then what did not apply and why, in words a cashier can read aloud.
"""

from __future__ import annotations

import zoneinfo

from pos_promo.engine.money import format_money
from pos_promo.model.cart import Cart, StoreContext
from pos_promo.model.result import EvaluationResult

__all__ = ["render_receipt"]

_WIDTH = 64


def _row(left: str, right: str) -> str:
    return (
        f"{left:<{_WIDTH - len(right) - 1}} {right}"
        if len(left) < _WIDTH - len(right)
        else (f"{left}\n{right:>{_WIDTH}}")
    )


def render_receipt(
    result: EvaluationResult, cart: Cart | None = None, store: StoreContext | None = None
) -> str:
    """The receipt; with the cart, lines show names and bundles, with the store, local time."""

    def money(cents: int) -> str:
        return format_money(cents, result.currency)

    names = {line.line_id: line.name or line.item_id for line in cart.lines} if cart else {}
    roles = {line.line_id: line.role for line in cart.lines} if cart else {}
    when = result.at
    if store is not None:
        when = when.astimezone(zoneinfo.ZoneInfo(store.timezone))
    stamp = f"{when:%a %Y-%m-%d %H:%M} {when.tzname()}"
    out = [f"Order {result.order_id} · store {result.store_id} · {stamp}", ""]
    for line in result.lines:
        indent = "    + " if roles.get(line.line_id, "main") != "main" else "  "
        name = names.get(line.line_id, line.item_id)
        unit = line.subtotal // line.quantity if line.quantity else 0
        out.append(_row(f"{indent}{line.quantity} x {name} @ {money(unit)}", money(line.subtotal)))
        for share in line.benefits:
            pad = " " * len(indent)
            out.append(_row(f"{pad}  less {share.benefit_id}", "-" + money(share.amount)))
    out.append("")
    out.append(_row("Subtotal", money(result.subtotal)))
    for benefit in result.applied:
        label = benefit.name or benefit.id
        tier = f", tier {benefit.tier}" if benefit.tier else ""
        capped = ", capped" if benefit.capped else ""
        out.append(_row(f"  {label} ({benefit.id}{tier}{capped})", "-" + money(benefit.amount)))
    saved = result.total_discount
    out.append(_row("Total discount", ("-" if saved else "") + money(saved)))
    out.append(_row("TOTAL", money(result.total)))
    if result.not_applied:
        out.append("")
        out.append("Not applied:")
        for item in result.not_applied:
            out.append(f"  {item.id} [{item.reason}] {item.message}")
    if result.selection != "exact":
        out.append("")
        out.append("Note: many combinable offers; the best combination found was applied.")
    return "\n".join(out) + "\n"
