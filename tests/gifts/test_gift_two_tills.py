"""Two tills, two databases, both offline: the same ordinal gets the same ids on both."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from pos_promo.embedded import Engine
from pos_promo.engine.grants import coupon_id, grant_id
from pos_promo.model.cart import StoreContext
from pos_promo.store.connection import immediate
from pos_promo.store.gift_ledger import set_confirmed_total
from tests.gifts.builders import MEMBER, activity, gift_cart, template
from tests.helpers import line

GIFTS = [
    {"template_id": "t-5off", "quantity": 2},
    {"template_id": "t-5off", "distribution": {"type": "daily", "days": 1}},
]


def ids(path: str | Path) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """Grant ids, wallet coupon ids and scheduled release ids, as the bytes SQLite holds."""
    conn = sqlite3.connect(path)
    conn.text_factory = bytes
    try:
        return (
            [r[0] for r in conn.execute("SELECT grant_id FROM gift_grants ORDER BY 1")],
            [r[0] for r in conn.execute("SELECT coupon_id FROM wallet ORDER BY 1")],
            [r[0] for r in conn.execute("SELECT coupon_id FROM gift_releases ORDER BY 1")],
        )
    finally:
        conn.close()


def test_two_offline_tills_granting_the_same_ordinal_write_byte_identical_ids(
    open_till: Callable[..., Engine],
) -> None:
    downtown = open_till(template(), activity(gifts=GIFTS), name="downtown.db")
    harbor = open_till(
        template(),
        activity(gifts=GIFTS),
        name="harbor.db",
        store=StoreContext("s2", "America/Chicago", "USD"),
    )
    # both last heard from HQ that the member stood at $70
    for till in (downtown, harbor):
        conn = sqlite3.connect(till.path, isolation_level=None)
        with immediate(conn):
            set_confirmed_total(conn, MEMBER, "g1", "spend", 7000)
        conn.close()
    downtown.commit(gift_cart("D-1", line("A", 4000)))
    harbor.commit(gift_cart("H-7", line("B", 3500), store_id="s2", at="2026-11-21T12:00:00Z"))

    first, second = ids(downtown.path), ids(harbor.path)
    assert first == second
    grants, coupons, planned = first
    assert grants == [grant_id("g1", MEMBER, 1).encode()]
    assert sorted(coupons) == sorted(coupon_id("g1", MEMBER, 1, 1, u).encode() for u in (1, 2))
    assert planned == [coupon_id("g1", MEMBER, 1, 2, 1).encode()]  # released tomorrow
