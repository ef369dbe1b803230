"""The offline-then-reconnect story, end to end, unattended, in seconds.

``python -m pos_promo.sync.demo``: a reference HQ starts on a loopback
port; two stores' daemons sync the campaigns into their own SQLite files;
HQ goes away; both tills ring up orders (receipts printed) for the same
member, who uses a "3 times per member" offer twice at each store, which
neither store alone can see is one time too many; HQ comes back; the
daemons push, HQ adds the member's participations up across stores and
serves them back, and the next order at either store is refused the offer
with ``total_limit_reached``; a summary table; everything stops by itself.

The same member's orders also accrue to a cumulative spending gift
("every $100 spent, a $5 coupon"): $70 at each store, so neither till,
offline, can grant it; HQ adds the two stores up, grants ordinal 1 and
pushes the coupon to the member's wallet through member state, and the
member spends it at the next order. HQ and the daemons run as real
processes (``python -m pos_promo_hq``, ``python -m pos_promo_daemon``);
nothing here imports them.

``--database postgresql://...`` tells the same story with HQ on PostgreSQL
(in a schema of its own, dropped at the end) and ``--workers N`` runs HQ's
production server with N worker processes: ``make demo-pg`` does both.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import requests

from pos_promo.codec import decode_cart
from pos_promo.demo import DEMO
from pos_promo.embedded import Engine
from pos_promo.i18n import words_for
from pos_promo.model.cart import StoreContext
from pos_promo.render import render_receipt
from pos_promo.store.connection import connect
from pos_promo.store.counts import member_counts
from pos_promo.sync.status import read_status

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "demo-admin"
MEMBER = "m-1001"
AT = dt.datetime(2026, 11, 24, 19, 30, tzinfo=dt.UTC)
STORES: list[dict[str, Any]] = [
    {
        "id": "store-downtown",
        "token": "tok-downtown",
        "timezone": "America/New_York",
        "org_ids": ["org-east", "org-nyc"],
    },
    {
        "id": "store-harbor",
        "token": "tok-harbor",
        "timezone": "America/New_York",
        "org_ids": ["org-east"],
    },
]
CLUB = {
    "kind": "spend_and_save",
    "id": "club-3x",
    "version": 1,
    "priority": 30,
    "name": "Club night: spend $20 save $3, 3 times per member",
    "period": {"start": "2026-11-01T00:00:00", "end": "2026-12-31T23:59:59"},
    "participants": {"tiers": ["gold", "silver"]},
    "limits": {"per_member_total": 3},
    "rule": {"type": "spend_save", "tiers": [{"spend": 2000, "save": 300}]},
    "sharing": {"promotions": {"mode": "all"}},
}
GIFT_TEMPLATE = {
    "kind": "coupon_template",
    "id": "t-5-off",
    "version": 1,
    "name": "$5 off your next order",
    "period": {"start": "2026-11-01T00:00:00", "end": "2027-03-31T23:59:59"},
    "benefit": {"type": "amount_off", "amount": 500},
    "validity": {"type": "relative", "days": 30},
}
GIFT = {
    "kind": "cumulative_gift",
    "id": "every-100",
    "version": 1,
    "name": "Every $100 spent, a $5 coupon",
    "period": {"start": "2026-11-01T00:00:00", "end": "2026-12-31T23:59:59"},
    "condition": {"measure": "spend", "repeat": "every", "threshold": 10000},
    "gifts": [{"template_id": "t-5-off"}],
}


def _say(text: str = "") -> None:
    print(text, flush=True)


def _wait(check: Callable[[], Any], what: str, timeout: float = 90.0) -> Any:
    """Poll until ``check`` holds; generous, since a busy two-core till is slow.

    The demo normally waits a second or two; the limit only bounds a demo
    whose daemon or HQ died, so it is set for a loaded machine, not a fast one.
    """
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise SystemExit(f"demo: timed out waiting for {what}")
        time.sleep(0.05)
    return value


def _env() -> dict[str, str]:
    """The demo's processes: this tree importable, HQ's admin token in its environment."""
    return dict(
        os.environ,
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        POS_PROMO_HQ_ADMIN_TOKEN=ADMIN,
    )


class _Procs:
    """Child processes, always stopped on the way out."""

    def __init__(self, folder: Path, database: str | None = None, workers: int = 1) -> None:
        self.folder = folder
        self.database, self.workers = database, workers
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        self.running[name] = subprocess.Popen(
            [sys.executable, *args], env=_env(), stdout=log, stderr=log, cwd=ROOT
        )

    def stop(self, name: str) -> int:
        proc = self.running.pop(name)
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait(5)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)


def _hq(procs: _Procs, folder: Path, port: int) -> int:
    port_file = folder / "hq.port"
    port_file.unlink(missing_ok=True)
    procs.start(
        "hq",
        "-m",
        "pos_promo_hq",
        "--database",
        procs.database or str(folder / "hq.db"),
        "--workers",
        str(procs.workers),
        "--port",
        str(port),
        "--port-file",
        str(port_file),
        "--stores",
        str(folder / "stores.json"),
        "--catalog",
        str(folder / "catalog.json"),
    )
    return int(_wait(lambda: port_file.exists() and port_file.read_text(), "HQ to listen"))


def _daemon_config(folder: Path, store: dict[str, Any], port: int) -> Path:
    path = folder / f"{store['id']}.toml"
    path.write_text(
        f'db = "{store["id"]}.db"\nhq_url = "http://127.0.0.1:{port}"\n'
        f'token = "{store["token"]}"\nstore_id = "{store["id"]}"\n\n[intervals]\n'
        "pull_campaigns = 0.5\npull_members = 0.5\npush_events = 0.3\nrelease_gifts = 5\n"
        "housekeeping = 30\n\n[http]\nconnect_timeout = 0.5\nread_timeout = 3.0\n"
        "attempts = 2\nbackoff_base = 0.05\nbackoff_cap = 0.2\n"
    )
    return path


def _cart(
    order_id: str, store_id: str, minutes: int, member: bool = True, coupons: tuple[str, ...] = ()
) -> bytes:
    doc: dict[str, Any] = {
        "order_id": order_id,
        "store_id": store_id,
        "at": (AT + dt.timedelta(minutes=minutes)).isoformat(),
        "lines": [
            {
                "line_id": "1",
                "item_id": "ribeye",
                "name": "Ribeye steak",
                "category_ids": ["mains"],
                "quantity": 1,
                "unit_price": 2900,
            },
            {
                "line_id": "2",
                "item_id": "house-red",
                "name": "House red (glass)",
                "category_ids": ["drinks"],
                "quantity": 1,
                "unit_price": 900,
            },
        ],
    }
    if member:
        doc["member"] = {"id": MEMBER, "tier": "gold"}
    if coupons:
        doc["coupons"] = list(coupons)
    return json.dumps(doc).encode()


def _ring(engine: Engine, store: StoreContext, payload: bytes) -> None:
    cart = decode_cart(payload)
    result = engine.commit(cart)
    _say(f"--- {store.id} order {cart.order_id} ---")
    _say(render_receipt(result, cart, store).rstrip())
    _say()


def _report(port: int) -> dict[str, Any]:
    response = requests.get(
        f"http://127.0.0.1:{port}/admin/report",
        timeout=5,
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    response.raise_for_status()
    return dict(response.json())


def _club_count(engine: Engine) -> int:
    """How often the till counts the member in club-3x (HQ-confirmed + local)."""
    conn = connect(engine.path)
    try:
        counts = member_counts(conn, MEMBER, AT.date()).participations
    finally:
        conn.close()
    return counts["club-3x"].total if "club-3x" in counts else 0


def _gift(engine: Engine) -> tuple[str, list[str]]:
    """The member's progress in the gift as this till sees it, and its gift coupons."""
    mine = engine.member(MEMBER)
    progress = next((a.progress for a in mine.activities if a.activity_id == "every-100"), "")
    coupons = [c.id for c in mine.wallet if c.template_id == "t-5-off" and c.status == "issued"]
    return progress, coupons


def _orders(engine: Engine) -> int:
    conn = connect(engine.path)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0])
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Tell the offline-then-reconnect story end to end (HQ and two stores' daemons as real
    processes) and print what happened; ``--database`` runs HQ on PostgreSQL."""
    parser = argparse.ArgumentParser(prog="python -m pos_promo.sync.demo")
    parser.add_argument("--database", help="a postgresql:// URL (default: a SQLite file)")
    parser.add_argument("--workers", type=int, default=1, help="HQ worker processes")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="pos-promo-demo-") as tmp,
        _own_schema(args.database) as database,
    ):
        folder = Path(tmp)
        campaigns = json.loads((DEMO / "campaigns.json").read_text())
        (folder / "catalog.json").write_text(json.dumps([*campaigns, CLUB, GIFT_TEMPLATE, GIFT]))
        (folder / "stores.json").write_text(json.dumps(STORES))
        procs = _Procs(folder, database, args.workers)
        where = "PostgreSQL" if database else "SQLite"
        _say(f"HQ on {where}, gunicorn with {args.workers} worker process(es).")
        try:
            return _story(folder, procs, started)
        finally:
            procs.stop_all()


@contextlib.contextmanager
def _own_schema(url: str | None) -> Iterator[str | None]:
    """A fresh PostgreSQL schema for HQ's tables, dropped afterwards (none for SQLite)."""
    if url is None:
        yield None
        return
    import psycopg

    schema = f"pos_promo_demo_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            sep = "&" if "?" in url else "?"
            yield f"{url}{sep}options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def _story(folder: Path, procs: _Procs, started: float) -> int:
    port = _hq(procs, folder, 0)
    _say(f"1. HQ is up on http://127.0.0.1:{port} with {len(STORES)} stores.")
    tills: dict[str, tuple[Engine, StoreContext]] = {}
    for store in STORES:
        context = StoreContext(store["id"], store["timezone"], "USD", frozenset(store["org_ids"]))
        tills[store["id"]] = (Engine.open(folder / f"{store['id']}.db", context), context)
        procs.start(
            f"daemon-{store['id']}",
            "-m",
            "pos_promo_daemon",
            "--config",
            str(_daemon_config(folder, store, port)),
        )
    for sid, (engine, _) in tills.items():
        _wait(lambda e=engine: len(e.index) == 6, f"{sid} to sync campaigns")  # type: ignore[misc]
        _wait(lambda e=engine: any(c.id == GIFT["id"] for c in e.campaigns()), f"{sid} gift")  # type: ignore[misc]
        _say(f"2. {sid}: daemon synced {len(engine.index)} campaigns and the gift into {sid}.db")

    procs.stop("hq")
    _say("3. HQ goes away. The tills carry on offline.\n")
    downtown, harbor = tills["store-downtown"], tills["store-harbor"]
    _ring(*downtown, _cart("D-1", "store-downtown", 0))
    _ring(*downtown, _cart("D-2", "store-downtown", 20))
    _ring(*harbor, _cart("H-1", "store-harbor", 40))
    _ring(*harbor, _cart("H-2", "store-harbor", 60))
    for sid, (engine, _) in tills.items():
        _say(
            f"   {sid} sees {MEMBER} in club-3x {_club_count(engine)} time(s); "
            f"{engine.outbox_counts().pending} event(s) wait for HQ"
        )
    _say(f"   Each store alone allowed it; together {MEMBER} used a 3-times offer 4 times.")
    for sid, (engine, _) in tills.items():
        _say(f"   {sid}: gift '{GIFT['name']}': {_gift(engine)[0]}, nothing granted")
    _say("   Neither till alone sees the member reach $100.\n")

    _hq(procs, folder, port)
    _say("4. HQ is back on the same port; the daemons push and pull.")
    for sid, (engine, _) in tills.items():
        _wait(lambda e=engine: e.outbox_counts().pending == 0, f"{sid} to push")  # type: ignore[misc]
        _wait(lambda e=engine: _club_count(e) == 4, f"{sid} to learn the count")  # type: ignore[misc]
        _say(f"   {sid}: backlog 0; HQ-confirmed club-3x count for {MEMBER}: 4")
    for sid, (engine, _) in tills.items():
        _wait(lambda e=engine: _gift(e)[1], f"{sid} to receive the gift")  # type: ignore[misc]
        progress, coupons = _gift(engine)
        coupon = words_for(engine.store).quoted(str(GIFT_TEMPLATE["name"]), coupons[0], "coupon")
        _say(f"   {sid}: gift total {progress}; HQ granted the gift: coupon {coupon}")
    _say()
    coupon = _gift(downtown[0])[1][0]
    _say("5. The next order at either store no longer gets the offer, and the member")
    _say("   spends the gift coupon HQ granted from both stores' spend:")
    _ring(*downtown, _cart("D-3", "store-downtown", 90, coupons=(coupon,)))
    _wait(lambda: downtown[0].outbox_counts().pending == 0, "the last order to reach HQ")
    report = _report(port)
    _summary(tills, folder, report)
    for store in STORES:
        procs.stop(f"daemon-{store['id']}")
    procs.stop("hq")
    for engine, _ in tills.values():
        engine.close()
    _say(f"\nEverything stopped. The story took {time.monotonic() - started:.1f}s.")
    return 0


def _summary(
    tills: dict[str, tuple[Engine, StoreContext]], folder: Path, report: dict[str, Any]
) -> None:
    _say(
        f"{'':<16}{'orders':>8}{'events sent':>13}{'backlog':>9}{'dead':>6}"
        f"{'quarantined':>13}{'club-3x seen':>14}"
    )
    for sid, (engine, _) in tills.items():
        status = read_status(folder / f"{sid}.db")
        _say(
            f"{sid:<16}{_orders(engine):>8}{status.sent:>13}{status.backlog:>9}"
            f"{len(status.dead_letters):>6}{len(status.quarantined):>13}"
            f"{_club_count(engine):>14}"
        )
    club = sum(p["total"] for p in report["participations"] if p["campaign_id"] == "club-3x")
    _say(f"{'HQ':<16}{report['orders']:>8}{report['events']:>13}{'':>28}{club:>14}")
    member = next((m for m in report["members"] if m["member_id"] == MEMBER), None)
    if member:
        _say(
            f"HQ: {MEMBER} spent ${member['net_spend'] / 100:,.2f} net over "
            f"{member['orders']} orders at both stores."
        )
    for grant in report["grants"]:
        origin = "HQ, from both stores' spend" if grant["origin"] == "hq" else grant["origin"]
        _say(
            f"HQ: {grant['member_id']} gift {grant['activity_id']} #{grant['ordinal']} "
            f"{grant['status']} by {origin}; granted once."
        )
    _say(f"HQ replayed every receipt with the same engine: {len(report['flags'])} flag(s).")
    for flag in report["flags"]:
        _say(f"  {flag['store_id']} order {flag['order_id']}: {flag['detail']}")
    if report["flags"]:
        _say("  The till, offline, could not know of the other store's uses; HQ, holding")
        _say("  every store's participations, replays that order without the offer.")


if __name__ == "__main__":
    sys.exit(main())
