"""Importing a campaign list or a catalog into the till's cache, atomically.

The payload is checked whole first (by the door), gifts must name a
coupon template of the payload or the cache, and then campaigns, coupon
templates, sharing plans and the execution order are written in one
transaction; the compiled cache catches up before it commits.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import msgspec

from pos_promo.model.catalog import Catalog
from pos_promo.model.coupon import ExecutionOrder, SharingPlan
from pos_promo.model.order import ImportReport
from pos_promo.store import campaigns as cache_store
from pos_promo.store import documents, meta
from pos_promo.store.connection import immediate
from pos_promo.till.cache import CampaignCache
from pos_promo.till.checks import check_gift_templates

__all__ = ["import_catalog"]


def import_catalog(
    conn: sqlite3.Connection,
    cache: CampaignCache,
    payload: object,
    catalog: Catalog,
    at: dt.datetime | None,
) -> ImportReport:
    """Write ``catalog`` (decoded from ``payload``, which names its JSON paths)
    in one transaction; what changed, with the plans and execution order."""
    campaigns = (*catalog.campaigns, *catalog.coupon_templates)
    docs: list[SharingPlan | ExecutionOrder] = [*catalog.sharing_plans]
    if catalog.execution_order is not None:
        docs.append(catalog.execution_order)
    with immediate(conn):
        check_gift_templates(conn, payload, catalog)
        report = cache_store.apply_import(conn, campaigns, at)
        changed = documents.apply_documents(conn, docs, at)
        if changed:
            report = msgspec.structs.replace(
                report,
                plans_changed=tuple(sorted(i for t, i in changed if t == documents.SHARING_PLAN)),
                execution_order=catalog.execution_order.version
                if catalog.execution_order is not None
                and (documents.EXECUTION_ORDER, documents.EXECUTION_ORDER_ID) in changed
                else None,
            )
        if report.changed:
            cache.catch_up(conn, meta.cache_version(conn))
    return report
