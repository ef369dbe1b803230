"""Builders for the HQ contract suite: real tills make the events HQ ingests."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from pos_promo_hq.catalog import publish
from pos_promo_hq.db import Database, is_postgres_url
from pos_promo_hq.ingest import Ingestor
from pos_promo_hq.report import report

from pos_promo.model.cart import StoreContext
from pos_promo.sync.outbox import next_batch
from pos_promo.sync.protocol import PushEvent, PushRequest
from tests import pg
from tests.sync.harness import AT, PERIOD, Till, campaign, cart

__all__ = [
    "AT",
    "STORES",
    "Shop",
    "activity",
    "another_target",
    "gift_template",
    "publish_all",
    "push",
    "statuses",
    "tally",
]

STORES = {"s1": StoreContext("s1"), "s2": StoreContext("s2")}


@contextlib.contextmanager
def another_target(backend: str, folder: Path) -> Iterator[str]:
    """A second, empty HQ database on ``backend``'s kind: a file in ``folder``, or a
    PostgreSQL schema of its own (dropped afterwards)."""
    if is_postgres_url(backend):
        with pg.fresh_schema() as url:
            yield url
        return
    yield str(folder / "another-hq.db")


def gift_template() -> dict[str, Any]:
    return {
        "kind": "coupon_template",
        "id": "t-5off",
        "version": 1,
        "period": PERIOD,
        "benefit": {"type": "amount_off", "amount": 500},
        "validity": {"type": "relative", "days": 30},
    }


def activity() -> dict[str, Any]:
    """Every $100 spent, a $5 coupon."""
    return {
        "kind": "cumulative_gift",
        "id": "g1",
        "version": 1,
        "name": "Every $100, a $5 coupon",
        "period": PERIOD,
        "condition": {"measure": "spend", "repeat": "every", "threshold": 10000},
        "gifts": [{"template_id": "t-5off"}],
    }


def publish_all(db: Database, *documents: tuple[str, dict[str, Any]]) -> int:
    with db.connection() as conn:
        return publish(conn, list(documents), AT)


@dataclass
class Shop:
    """One till of a store, with the campaigns HQ published; hands out its new events."""

    till: Till
    taken: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, folder: Path, store_id: str, *documents: dict[str, Any]) -> Shop:
        folder.mkdir(parents=True, exist_ok=True)
        till = Till.open(folder, store_id)
        till.engine.import_campaigns(json.dumps(list(documents) or [campaign("p1")]))
        return cls(till)

    def order(self, order_id: str, price: int = 1500, member: str | None = None) -> None:
        self.till.engine.commit(json.dumps(cart(order_id, self.till.store_id, price, member)))

    def events(self) -> list[PushEvent]:
        """Events written since the last call, oldest first."""
        new = [e for e in next_batch(self.till.conn, 10_000) if e.id not in self.taken]
        self.taken.update(e.id for e in new)
        return new

    def close(self) -> None:
        self.till.close()


def push(
    db: Database, store_id: str, events: Sequence[PushEvent], ingestor: Ingestor | None = None
) -> list[tuple[str, str]]:
    """One batch through HQ's ingest: ``(status, reason)`` per event."""
    ingestor = ingestor or Ingestor(STORES)
    with db.connection() as conn:
        results = ingestor.apply(conn, store_id, PushRequest(store_id, tuple(events)), AT)
    return [(r.status, r.reason) for r in results]


def statuses(results: Sequence[tuple[str, str]]) -> list[str]:
    return [status for status, _ in results]


def tally(db: Database) -> dict[str, Any]:
    """HQ's report, as plain JSON values (the same on every backend)."""
    with db.connection() as conn:
        out: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(report(conn, True)))
    return out
