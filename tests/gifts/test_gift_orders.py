"""The engine decides what an order does to a member's gifts; the store records it.

Issue 14 part 8: ``store/gifts.py`` used to call into the engine to work
out accruals and grants. Now :func:`pos_promo.engine.gift_orders.order_gifts`
decides from a standing it is handed (no database), and what a commit
writes is exactly that decision.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

from pos_promo.codec import decode_campaigns, decode_cart
from pos_promo.embedded import Engine
from pos_promo.engine.accrual import compile_activities
from pos_promo.engine.audience import Context
from pos_promo.engine.clock import local_moment
from pos_promo.engine.evaluate import evaluate
from pos_promo.engine.gift_orders import order_gifts
from pos_promo.engine.index import build_index
from pos_promo.model.coupon import CouponTemplate
from pos_promo.model.order import Payment
from tests.gifts.builders import MEMBER, STORE, activity, dump, gift_cart, template
from tests.helpers import line

ZONE = zoneinfo.ZoneInfo(STORE.timezone)


@dataclass
class Held:
    total: int = 0
    granted: set[int] = field(default_factory=set)


def decide(standing: Held, price: int, *, grant: bool = True) -> tuple[int, tuple[int, ...]]:
    campaigns = decode_campaigns(dump([template(), activity()]))
    index = build_index(campaigns, STORE)
    cart = decode_cart(gift_cart("o-1", line("A", price)))
    result = evaluate(cart, index)
    assert cart.at is not None
    now = local_moment(cart.at, ZONE)
    templates = {c.id: c for c in campaigns if isinstance(c, CouponTemplate)}
    (decision,) = order_gifts(
        compile_activities(campaigns, STORE),
        Context(cart, STORE, now, {}),
        result,
        (Payment("card", price),),
        {"g1": standing},
        templates,
        ZONE,
        grant=grant,
    )
    assert decision.total == standing.total
    return decision.adds, tuple(g.ordinal for g in decision.grants)


def test_the_engine_grants_every_ordinal_the_order_reaches_from_the_standing_it_is_given() -> None:
    assert decide(Held(9000), 2300) == (2300, (1,))  # $90 + $23 reaches $100 once
    assert decide(Held(9000, {1}), 23000) == (23000, (2, 3))  # $320: 1 held, 2 and 3 new
    assert decide(Held(0), 2300) == (2300, ())
    assert decide(Held(9000), 2300, grant=False) == (2300, ())  # a preview grants nothing


def test_the_grant_plans_its_coupons_and_the_commit_records_exactly_them(tmp_path: Path) -> None:
    campaigns = decode_campaigns(dump([template(), activity()]))
    templates = {c.id: c for c in campaigns if isinstance(c, CouponTemplate)}
    cart = decode_cart(gift_cart("o-1", line("A", 23000)))
    index = build_index(campaigns, STORE)
    result = evaluate(cart, index)
    assert cart.at is not None
    (decision,) = order_gifts(
        compile_activities(campaigns, STORE),
        Context(cart, STORE, local_moment(cart.at, ZONE), {}),
        result,
        (Payment("card", 23000),),
        {},
        templates,
        ZONE,
        grant=True,
    )
    planned = [c.coupon_id for g in decision.grants for c in g.coupons]
    assert [g.ordinal for g in decision.grants] == [1, 2]
    assert len(planned) == 2
    with Engine.open(f"{tmp_path}/till.db", STORE) as till:
        till.import_campaigns(dump([template(), activity()]))
        committed = till.commit(gift_cart("o-1", line("A", 23000)), [Payment("card", 23000)])
        assert committed.accruals == (decision.preview,)
        assert sorted(c.id for c in till.wallet(MEMBER)) == sorted(planned)
        assert [g.ordinal for g in till.member(MEMBER).grants] == [1, 2]
    assert decision.preview.triggers == (1, 2)
    assert all(
        c.valid_until - c.valid_from == dt.timedelta(days=30)
        for g in decision.grants
        for c in g.coupons
    )
