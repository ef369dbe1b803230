"""A small chain HQ's performance figures can be checked on by hand.

Catalog: ``p1`` (spend $10, save $1) and the gift activity ``g1`` (every
$25 of spend, one $1 coupon, issued at once). Two tills push to a real HQ
(gunicorn, two workers):

* s1: member m-1 buys three $15 orders: a1 on Nov 20, a2 and a3 on Nov 21;
  a3 is refunded in full the same day;
* s2: member m-2 buys b1 and b2, and an anonymous customer b3, all Nov 20.

So ``p1`` applied to 6 orders and gave $6.00, $1.00 of it refunded; the
orders made 6 participations (b3 anonymously) and a3 gave its back; ``g1`` accrued $14 per
member order ($15 less the $1 off), net $28 per member, one grant each.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from pos_promo.sync import steps
from tests.sync.harness import HQ, PERIOD, Till, campaign, cart, now

__all__ = ["CATALOG", "build", "hq_rows"]

DAY1 = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)
DAY2 = dt.datetime(2026, 11, 21, 17, 0, tzinfo=dt.UTC)
CATALOG: list[dict[str, Any]] = [
    campaign("p1", name="Spend $10 save $1"),
    {
        "kind": "coupon_template",
        "id": "t-1",
        "name": "Gift coupon $1",
        "period": PERIOD,
        "benefit": {"type": "amount_off", "amount": 100},
    },
    {
        "kind": "cumulative_gift",
        "id": "g1",
        "name": "Every $25, a $1 coupon",
        "period": PERIOD,
        "condition": {"measure": "spend", "repeat": "every", "threshold": 2500},
        "gifts": [{"template_id": "t-1"}],
    },
]


def build(folder: Path, hq: HQ) -> None:
    """Ring up the orders above at two tills and push them all to ``hq``."""
    hq.publish(CATALOG[1], doc_type="coupon_template")
    hq.publish(CATALOG[0], CATALOG[2])
    tills = [Till.open(folder, "s1"), Till.open(folder, "s2")]
    try:
        for till in tills:
            steps.pull_changes(till.conn, till.client(hq), now)
        s1, s2 = tills
        s1.engine.commit(json.dumps(cart("a1", "s1", member="m-1", at=DAY1)))
        s1.engine.commit(json.dumps(cart("a2", "s1", member="m-1", at=DAY2)))
        s1.engine.commit(json.dumps(cart("a3", "s1", member="m-1", at=DAY2)))
        s1.engine.refund("a3", at=DAY2 + dt.timedelta(hours=1))
        s2.engine.commit(json.dumps(cart("b1", "s2", member="m-2", at=DAY1)))
        s2.engine.commit(json.dumps(cart("b2", "s2", member="m-2", at=DAY1)))
        s2.engine.commit(json.dumps(cart("b3", "s2", at=DAY1)))
        for till in tills:
            steps.push_events(till.conn, till.client(hq), now, batch_size=4)
            assert till.pending() == 0
    finally:
        for till in tills:
            till.close()


def hq_rows(hq: HQ, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows straight from HQ's database (its SQLite file, or the PostgreSQL
    schema its ``--database`` URL names), read-only; sums as integers."""
    if "--database" in hq.extra:
        import psycopg

        url = hq.extra[hq.extra.index("--database") + 1]
        with psycopg.connect(url) as conn:
            rows = conn.execute(sql.replace("?", "%s"), args).fetchall()
        return [tuple(int(v) if isinstance(v, Decimal) else v for v in row) for row in rows]
    conn = sqlite3.connect(f"file:{hq.folder / 'hq.db'}?mode=ro", uri=True)
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()
