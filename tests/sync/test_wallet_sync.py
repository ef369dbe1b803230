"""Wallet coupons from HQ's member state, and local redemptions HQ has not seen yet."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import msgspec
from pos_promo_hq.db import next_seq, write

from pos_promo.store.connection import connect
from pos_promo.store.meta import till_identity
from pos_promo.store.migrations import Migrations
from pos_promo.store.outbox import order_event_id
from pos_promo.store.schema import MIGRATIONS
from pos_promo.sync import steps
from pos_promo.sync.local import SYNC_MIGRATIONS, iso, open_database
from pos_promo.sync.members import apply_member_page
from pos_promo.sync.protocol import MemberStatePage, WalletCoupon, encode
from tests.sync.harness import AT, HQ, PERIOD, Till, now

if TYPE_CHECKING:
    from pathlib import Path

TEMPLATE = {
    "kind": "coupon_template",
    "id": "t5",
    "version": 1,
    "name": "$5 off",
    "period": PERIOD,
    "benefit": {"type": "amount_off", "amount": 500},
}
COUPON = WalletCoupon("c1", "t5", "m1", AT.replace(day=1), AT.replace(month=12, day=1))
CART = {
    "order_id": "o-1",
    "store_id": "s1",
    "at": AT.isoformat(),
    "member": {"id": "m1"},
    "coupons": ["c1"],
    "lines": [{"line_id": "A", "item_id": "a", "quantity": 1, "unit_price": 2000}],
}


def redemption_id(till: Till) -> str:
    """The id of o-1's redemption of c1 at this till."""
    return order_event_id("s1", "o-1", "coupon.redeemed/c1", till=till_identity(till.conn), at=AT)


def page(cursor: str, *items: WalletCoupon) -> MemberStatePage:
    return MemberStatePage(cursor, False, tuple(msgspec.Raw(encode(i)) for i in items))


def wallet(till: Till) -> tuple[str, bool]:
    [entry] = till.engine.wallet("m1")
    return entry.status, entry.unconfirmed


def ack(till: Till, *ids: str) -> None:
    till.conn.executemany("INSERT INTO sync_acks (event_id) VALUES (?)", [(i,) for i in ids])


def test_hq_state_older_than_a_local_redemption_does_not_undo_it(till: Till) -> None:
    till.engine.import_campaigns(json.dumps([TEMPLATE]))
    apply_member_page(till.conn, "", page("1", COUPON), 0, now())
    assert wallet(till) == ("issued", False)
    till.engine.commit(json.dumps(CART))
    assert wallet(till) == ("redeemed", True)
    # HQ answered before it had the redemption: still "issued"
    apply_member_page(till.conn, "1", page("2", COUPON), 0, now())
    assert wallet(till) == ("redeemed", True)
    # acknowledged only after this pull's watermark was read: still not included
    ack(till, redemption_id(till))
    apply_member_page(till.conn, "2", page("3", COUPON), 0, now())
    assert wallet(till) == ("redeemed", True)
    # a pull whose watermark covers the acknowledgement: HQ's state wins again
    redeemed = msgspec.structs.replace(COUPON, status="redeemed")
    apply_member_page(till.conn, "3", page("4", redeemed), 1, now())
    assert wallet(till) == ("redeemed", False)
    assert till.engine.wallet("m1")[0].redeemed_order_id == "o-1"


def test_a_redemption_and_its_restoration_travel_to_hq_and_back(hq: HQ, till: Till) -> None:
    hq.publish(TEMPLATE, doc_type="coupon_template")
    conn = sqlite3.connect(hq.folder / "hq.db", timeout=10, isolation_level=None)
    with write(conn):
        conn.execute(
            "INSERT INTO wallet_coupons (coupon_id, template_id, member_id, valid_from, "
            "valid_until, status, seq) VALUES ('c1', 't5', 'm1', ?, ?, 'issued', ?)",
            (COUPON.valid_from.isoformat(), COUPON.valid_until.isoformat(), next_seq(conn)),
        )
    client = till.client(hq)
    steps.pull_changes(till.conn, client, now)
    assert steps.pull_member_state(till.conn, client, now).coupons == 0  # not s1's member yet
    hq.lookup("s1", "m1")  # looked up at the counter: HQ serves s1 the member from now on
    assert steps.pull_member_state(till.conn, client, now).coupons == 1
    assert wallet(till) == ("issued", False)

    result = till.engine.commit(json.dumps(CART))
    assert "c1" in {a.id for a in result.applied}
    with write(conn):  # HQ serves the coupon again before it has the redemption
        conn.execute("UPDATE wallet_coupons SET seq = ? WHERE coupon_id = 'c1'", (next_seq(conn),))
    steps.pull_member_state(till.conn, client, now)
    assert wallet(till) == ("redeemed", True)

    assert steps.push_events(till.conn, client, now).backlog == 0
    assert conn.execute("SELECT status FROM wallet_coupons").fetchone() == ("redeemed",)
    steps.pull_member_state(till.conn, client, now)
    assert wallet(till) == ("redeemed", False)  # confirmed

    till.engine.refund("o-1")
    assert wallet(till) == ("issued", True)
    steps.push_events(till.conn, client, now)
    assert conn.execute("SELECT status FROM wallet_coupons").fetchone() == ("issued",)
    steps.pull_member_state(till.conn, client, now)
    assert wallet(till) == ("issued", False)
    assert not hq.report()["flags"], hq.report()["flags"]  # the receipt replays exactly
    conn.close()


def test_documents_and_wallet_coupons_sync_kept_before_the_store_could_move_there(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    conn = connect(path)
    MIGRATIONS.apply(conn)
    Migrations(SYNC_MIGRATIONS.steps[:1]).apply(conn)  # a daemon of the previous release
    stamp = iso(now())
    conn.executemany(
        "INSERT INTO sync_documents (doc_type, doc_id, version, payload, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            ("coupon_template", "t5", 1, json.dumps(TEMPLATE), stamp),
            (
                "sharing_plan",
                "plan-a",
                2,
                json.dumps({"id": "plan-a", "version": 2, "sharing": {}}),
                stamp,
            ),
            ("execution_order", "default", 3, json.dumps({"version": 3}), stamp),
        ],
    )
    conn.execute(
        "INSERT INTO sync_member_facts (fact_type, fact_key, member_id, payload, updated_at) "
        "VALUES ('wallet_coupon', 'c1', 'm1', ?, ?)",
        (encode(COUPON).decode(), stamp),
    )
    conn.close()
    conn = open_database(path)
    assert conn.execute("SELECT COUNT(*) FROM sync_documents").fetchone() == (0,)
    assert conn.execute("SELECT COUNT(*) FROM sync_member_facts").fetchone() == (0,)
    assert conn.execute("SELECT kind, version FROM campaigns").fetchall() == [
        ("coupon_template", 1)
    ]
    assert conn.execute(
        "SELECT doc_type, doc_id, version FROM documents ORDER BY 1"
    ).fetchall() == [
        ("execution_order", "default", 3),
        ("sharing_plan", "plan-a", 2),
    ]
    assert conn.execute("SELECT coupon_id, status, source FROM wallet").fetchall() == [
        ("c1", "issued", "hq")
    ]
    conn.close()
