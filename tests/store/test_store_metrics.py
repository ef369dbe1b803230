"""Campaign metrics: orders, participations, members and discount, net of refunds."""

from __future__ import annotations

from pos_promo.embedded import Engine
from tests.store.builders import campaign, cart, dump, line, stacking_campaigns


def test_metrics_count_orders_members_and_discount_net_of_refunds(engine: Engine) -> None:
    engine.import_campaigns(dump([campaign("p1", name="Spend 100 save 10")]))
    engine.commit(dump(cart(line("A", 6000, qty=3), order_id="o-1", member={"id": "m1"})))
    engine.commit(dump(cart(line("A", 12000), order_id="o-2", member={"id": "m2"})))
    engine.commit(dump(cart(line("A", 12000), order_id="o-3")))
    engine.commit(dump(cart(line("A", 500), order_id="o-4")))  # no discount
    first = engine.refund("o-1", {"A": 1})  # 12000 kept: still earns the 1000
    engine.refund("o-2")
    (row,) = engine.report()
    assert row.campaign_id == "p1" and row.name == "Spend 100 save 10"
    assert (row.orders, row.orders_refunded, row.participations, row.members) == (2, 1, 2, 1)
    assert row.discount_given == 3000
    assert first.discount == 0
    assert row.discount_refunded == first.discount + 1000
    assert row.discount_net == 3000 - row.discount_refunded
    engine.refund("o-1", {"A": 1})  # 6000 kept: the promotion drops out of o-1
    (row,) = engine.report()
    assert (row.orders, row.orders_refunded, row.participations, row.members) == (1, 2, 1, 0)
    assert (row.discount_refunded, row.discount_net) == (2000, 1000)


def test_metrics_split_a_shared_line_between_its_campaigns(engine: Engine) -> None:
    engine.import_campaigns(dump(stacking_campaigns()))
    result = engine.commit(dump(cart(line("A", 3000, qty=3))))
    rows = {r.campaign_id: r for r in engine.report()}
    assert {k: r.discount_given for k, r in rows.items()} == {
        a.id: a.amount for a in result.applied
    }
    engine.refund("o-1", {"A": 2})
    engine.refund("o-1", {"A": 1})
    assert all(r.discount_net == 0 and r.orders == 0 for r in engine.report())


def test_an_empty_database_reports_nothing(engine: Engine) -> None:
    assert engine.report() == []
