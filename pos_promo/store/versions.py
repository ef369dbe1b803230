"""Every version of a published document the till took, kept for refunds.

A refund re-evaluates the units the customer keeps with the order's own
receipt: the campaign and coupon template versions it names, the sharing
plans at their versions, the execution order in force (SPEC §9). The cache
holds only the newest of each, so every version an import takes is also
written here, and nothing is ever removed: a version is a few hundred bytes
and an order may be refunded months later. (Pruning the versions no
unrefunded order names is possible and not done.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from pos_promo.decoders import LazyDecoder
from pos_promo.model.campaign import Campaign
from pos_promo.model.coupon import ExecutionOrder, SharingPlan
from pos_promo.model.receipt import PlanRef

__all__ = ["keep_campaigns", "keep_document", "kept_campaigns", "kept_order", "kept_plans"]

_CAMPAIGN = LazyDecoder[Campaign](Campaign)
_PLAN = LazyDecoder[SharingPlan](SharingPlan)
_ORDER = LazyDecoder[ExecutionOrder](ExecutionOrder)


def keep_campaigns(conn: sqlite3.Connection, rows: Iterable[tuple[str, int, str, str]]) -> None:
    """Keep ``(id, version, kind, payload)`` rows (inside the import's transaction)."""
    conn.executemany(
        "INSERT OR IGNORE INTO campaign_versions (id, version, kind, payload) VALUES (?, ?, ?, ?)",
        list(rows),
    )


def keep_document(
    conn: sqlite3.Connection, doc_type: str, doc_id: str, version: int, payload: str
) -> None:
    """Keep one version of a sharing plan or execution order for good: refunds re-evaluate with
    the version the order saw."""
    conn.execute(
        "INSERT OR IGNORE INTO document_versions (doc_type, doc_id, version, payload) "
        "VALUES (?, ?, ?, ?)",
        (doc_type, doc_id, version, payload),
    )


def kept_campaigns(
    conn: sqlite3.Connection, wanted: Iterable[tuple[str, int]]
) -> tuple[list[Campaign], list[tuple[str, int]]]:
    """The kept campaigns for ``(id, version)`` pairs, and the pairs not kept."""
    found: list[Campaign] = []
    missing: list[tuple[str, int]] = []
    for cid, version in wanted:
        row = conn.execute(
            "SELECT payload FROM campaign_versions WHERE id = ? AND version = ?", (cid, version)
        ).fetchone()
        if row is None:
            missing.append((cid, version))
        else:
            found.append(_CAMPAIGN.decode(row[0]))
    return found, missing


def kept_plans(
    conn: sqlite3.Connection, refs: Iterable[PlanRef]
) -> tuple[dict[str, SharingPlan], list[tuple[str, int]]]:
    """The kept sharing plans for the receipt's refs, by id, and the ``(id, version)`` pairs not
    kept (then the order cannot be re-evaluated)."""
    found: dict[str, SharingPlan] = {}
    missing: list[tuple[str, int]] = []
    for ref in refs:
        row = conn.execute(
            "SELECT payload FROM document_versions WHERE doc_type = 'sharing_plan' "
            "AND doc_id = ? AND version = ?",
            (ref.id, ref.version),
        ).fetchone()
        if row is None:
            missing.append((ref.id, ref.version))
        else:
            found[ref.id] = _PLAN.decode(row[0])
    return found, missing


def kept_order(conn: sqlite3.Connection, version: int) -> ExecutionOrder | None:
    """The kept execution order of ``version``, or ``None`` if this till never kept it."""
    row = conn.execute(
        "SELECT payload FROM document_versions WHERE doc_type = 'execution_order' AND version = ?",
        (version,),
    ).fetchone()
    return None if row is None else _ORDER.decode(row[0])
