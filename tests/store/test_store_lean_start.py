"""A till starts lean: a new process that imports ``pos_promo``, opens its
database, evaluates and commits loads none of the pieces only other paths
need (migrations' sqlite-utils, the words' Babel and the locale checks of
:mod:`pos_promo.i18n`, the sync stack, HTTP, PostgreSQL, templates, the
scheduler; refunds, reports, catalog imports and the demo; the cumulative
gift machinery, when the till has no gift activity and no gift coupon is
due). Each of those
costs milliseconds to tens of milliseconds to import, and a till that
restarts pays them on its first cart. Checked in a fresh interpreter, since
this test process has long imported everything, started without the site
hooks (``-S``) as an installed wheel has none: a development install's path
hook imports pathlib itself, which a till does not need."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pos_promo.embedded import Engine
from pos_promo.model.cart import StoreContext
from tests.store.builders import STORE, cart, dump, line, stacking_campaigns

ROOT = Path(__file__).resolve().parent.parent.parent

NOT_FOR_A_TILL = (
    "apscheduler",
    "babel",
    "jinja2",
    "json",
    "pathlib",
    "pos_promo.cli",
    "pos_promo.demo",
    "pos_promo.engine.accrual",
    "pos_promo.engine.gift_orders",
    "pos_promo.engine.gift_refunds",
    "pos_promo.engine.gift_reports",
    "pos_promo.engine.grants",
    "pos_promo.engine.refund_orders",
    "pos_promo.engine.refunds",
    "pos_promo.engine.reversal",
    "pos_promo.i18n",
    "pos_promo.model.member",
    "pos_promo.render",
    "pos_promo.scenario",
    "pos_promo.schemas",
    "pos_promo.store.gift_ledger",
    "pos_promo.store.gift_report",
    "pos_promo.store.gifts",
    "pos_promo.store.members",
    "pos_promo.store.metrics",
    "pos_promo.store.refunds",
    "pos_promo.sync",
    "pos_promo.till.catalog",
    "pos_promo.till.gifts",
    "pos_promo.till.refunds",
    "pos_promo.till.reports",
    "pos_promo.unknown",
    "psycopg",
    "requests",
    "sqlite_utils",
)

START = """
import sys
import pos_promo
from pos_promo import StoreContext
engine = pos_promo.Engine.open(sys.argv[1], {store})
evaluated = engine.evaluate(sys.argv[2])
committed = engine.commit(sys.argv[2], [{{"tender": "card", "amount": evaluated.total}}])
engine.close()
loaded = sorted(
    name for name in {names!r}
    if any(m == name or m.startswith(name + ".") for m in sys.modules)
)
import json  # after the look: a till itself needs no json module
print(json.dumps({{"total": committed.total, "applied": len(committed.applied), "loaded": loaded}}))
"""


def start(db: Path, order: bytes, store: StoreContext | None) -> dict[str, object]:
    code = START.format(store=repr(store), names=NOT_FOR_A_TILL)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run(
        [sys.executable, "-S", "-c", code, str(db), order.decode()],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )
    return dict(json.loads(out.stdout))


@pytest.mark.parametrize("with_store", [False, True], ids=["recorded-store", "store-given"])
def test_open_evaluate_and_commit_load_nothing_a_till_does_not_need(
    db_path: Path, with_store: bool
) -> None:
    with Engine.open(db_path, STORE) as engine:
        engine.import_campaigns(dump(stacking_campaigns()))
    order = dump(cart(line("A", 2000), line("B", 2000), line("C", 2000)))
    # 6,000 spent: "spend 50 save 7" and "3 items save 5" both apply
    assert start(db_path, order, STORE if with_store else None) == {
        "total": 4800,
        "applied": 2,
        "loaded": [],
    }
