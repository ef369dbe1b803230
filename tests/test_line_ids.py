"""Line ids never decide a total (SPEC §4, issue 10): renaming or reordering
the lines of a cart leaves the total discount and every benefit's amount
unchanged, for every benefit family (hypothesis)."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from pos_promo.model.cart import Cart, Line
from tests.test_benefit_properties import run_world, worlds
from tests.test_properties import SETTINGS

FRESH = [f"x{n:02d}" for n in range(40)]


def renamed(cart: Cart, names: dict[str, str], order: list[int]) -> Cart:
    """The cart with every line id (and parent reference) renamed, lines reordered."""

    def rename(line: Line) -> Line:
        parent = line.parent_line_id
        return msgspec.structs.replace(
            line,
            line_id=names[line.line_id],
            parent_line_id=None if parent is None else names[parent],
        )

    lines = [rename(cart.lines[i]) for i in order]
    return msgspec.structs.replace(cart, lines=tuple(lines))


def amounts(result: Any) -> tuple[int, dict[str, int]]:
    return result.total_discount, {a.id: a.amount for a in result.applied}


@SETTINGS
@given(worlds(), st.data())
def test_renaming_and_reordering_line_ids_never_changes_a_total(
    world: Any, data: st.DataObject
) -> None:
    cart, campaigns, wallet = world
    expected = amounts(run_world(cart, campaigns, wallet))
    fresh = data.draw(st.permutations(FRESH), label="names")
    names = {line.line_id: fresh[i] for i, line in enumerate(cart.lines)}
    order = data.draw(st.permutations(range(len(cart.lines))), label="order")
    again = run_world(renamed(cart, names, list(order)), campaigns, wallet)
    assert amounts(again) == expected


def test_the_lattes_get_the_same_discount_whichever_id_the_syrup_latte_has() -> None:
    """Three $4.50 lattes, one with three $0.75 syrups; buy 2 get 1 free."""
    from pos_promo.codec import campaign_from_obj, cart_from_obj
    from pos_promo.engine.evaluate import evaluate
    from pos_promo.engine.index import build_index
    from tests.test_properties import AT, PERIOD, STORE

    for order, off in (("low_to_high", 450), ("high_to_low", 675)):
        campaign = campaign_from_obj(
            {
                "kind": "spend_and_save",
                "id": "b2g1",
                "name": "Buy 2 get 1",
                "period": PERIOD,
                "rule": {"type": "items_free", "tiers": [{"buy": 2, "free": 1}]},
                "application_order": order,
            }
        )
        for syrup_latte in ("L1", "L2", "L3"):
            lines: list[dict[str, Any]] = [
                {"line_id": lid, "item_id": "latte", "quantity": 1, "unit_price": 450}
                for lid in ("L1", "L2", "L3")
            ]
            lines.append(
                {
                    "line_id": "syrups",
                    "item_id": "syrup",
                    "quantity": 3,
                    "unit_price": 75,
                    "role": "modifier",
                    "parent_line_id": syrup_latte,
                }
            )
            cart = cart_from_obj({"order_id": "o", "store_id": "s1", "lines": lines})
            result = evaluate(cart, build_index([campaign], STORE), at=AT)
            assert result.total_discount == off, (order, syrup_latte)


@SETTINGS
@given(worlds())
def test_the_content_order_is_the_lines_by_content_then_line_id(world: Any) -> None:
    """The order member discount and coupons split over: sorted by a short
    prefix of the content when that tells the lines apart, the same order
    as by the full content then line id."""
    from pos_promo.engine.units import view_cart

    cart = world[0]
    view = view_cart(cart)
    lines = view.lines
    full = sorted(range(len(lines)), key=lambda i: (view.content(i), lines[i].line_id))
    assert view_cart(cart).content_order() == tuple(full)


def test_the_member_discount_cent_falls_on_the_same_tea_whichever_id_it_has() -> None:
    """Two $0.05 teas, one in category "a", one in "b"; 10 % member discount.

    10 % of $0.10 is one cent, and the two teas tie for it: it goes to the
    first in content order, the tea in category "a" (categories come before
    the line id), whichever line id each tea has."""
    from pos_promo.codec import cart_from_obj
    from pos_promo.engine.evaluate import evaluate
    from pos_promo.engine.index import build_index
    from tests.test_properties import AT, STORE

    for a_id, b_id in (("L1", "L2"), ("L2", "L1")):
        lines = [
            {"line_id": b_id, "item_id": "tea", "category_ids": ["b"], "unit_price": 5},
            {"line_id": a_id, "item_id": "tea", "category_ids": ["a"], "unit_price": 5},
        ]
        for line in lines:
            line["quantity"] = 1
        cart = cart_from_obj(
            {
                "order_id": "o",
                "store_id": "s1",
                "lines": lines,
                "member": {"id": "m1", "discount_rate_bp": 1000},
            }
        )
        result = evaluate(cart, build_index([], STORE), at=AT)
        discounts = {line.line_id: line.discount for line in result.lines}
        assert result.total_discount == 1
        assert discounts == {a_id: 1, b_id: 0}


@SETTINGS
@given(worlds())
def test_each_mains_children_are_in_content_order_then_line_id(world: Any) -> None:
    """Children split a bundle's discount in content order (role first, so a
    modifier before a side), line id last: the same order whatever the ids,
    whether the view sorts them or, for one side and one modifier, reads it
    off their roles."""
    from pos_promo.engine.units import view_cart

    view = view_cart(world[0])
    lines = view.lines

    def content(i: int) -> tuple[object, ...]:
        line = lines[i]
        price = -1 if line.member_unit_price is None else line.member_unit_price
        categories = tuple(sorted(line.category_ids))
        return (line.role, line.item_id, line.unit_price, price, categories, view.per_unit[i])

    for main in view.mains:
        kids = [i for i, line in enumerate(lines) if line.parent_line_id == lines[main].line_id]
        expected = sorted(kids, key=lambda i: (content(i), lines[i].line_id))
        assert view.children[main] == tuple(expected)
