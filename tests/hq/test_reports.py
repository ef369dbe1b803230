"""The performance figures as JSON: each equal to the hand count and to HQ's database."""

from __future__ import annotations

from typing import Any

import requests

from tests.hq.scenario import hq_rows
from tests.sync.harness import ADMIN, HQ


def _get(hq: HQ, path: str, token: str = ADMIN) -> requests.Response:
    return requests.get(hq.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _json(hq: HQ, path: str) -> Any:
    response = _get(hq, path)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_promotion_across_stores_by_day_and_by_store(chain: HQ) -> None:
    p1 = _json(chain, "/v1/reports/promotions/p1")
    assert (p1["code"], p1["name"]) == ("p1", "Spend $10 save $1")
    totals = {k: p1[k] for k in ("orders", "given", "refunded", "net", "participations", "members")}
    assert totals == {
        "orders": 6,
        "given": 600,
        "refunded": 100,
        "net": 500,
        "participations": 5,  # a1, a2, a3, b1, b2, b3 less a3's given back
        "members": 2,
    }
    assert [
        (d["day"], d["orders"], d["given"], d["refunded"], d["participations"])
        for d in p1["by_day"]
    ] == [
        ("2026-11-20", 4, 400, 0, 4),
        ("2026-11-21", 2, 200, 100, 1),
    ]
    assert [(s["store_id"], s["orders"], s["net"], s["members"]) for s in p1["by_store"]] == [
        ("s1", 3, 200, 1),
        ("s2", 3, 300, 1),
    ]
    listed = _json(chain, "/v1/reports/promotions")["promotions"]
    assert [p["id"] for p in listed] == ["p1"]
    assert listed[0]["net"] == p1["net"]


def test_the_promotion_figures_equal_the_database(chain: HQ) -> None:
    p1 = _json(chain, "/v1/reports/promotions/p1")
    [(orders, discount)] = hq_rows(chain, "SELECT COUNT(*), SUM(total_discount) FROM orders")
    [(refunded,)] = hq_rows(chain, "SELECT SUM(discount) FROM refunds")
    [(participations,)] = hq_rows(
        chain, "SELECT SUM(total) FROM participation_counts WHERE campaign_id = 'p1'"
    )
    assert (p1["orders"], p1["given"], p1["refunded"]) == (orders, discount, refunded)
    assert p1["participations"] == participations + 1  # b3's, anonymous: no member to count


def test_a_gift_activity_across_stores(chain: HQ) -> None:
    g1 = _json(chain, "/v1/reports/gift-activities/g1")
    figures = {
        k: g1[k]
        for k in (
            "orders",
            "members",
            "accrued",
            "grants",
            "grants_revoked",
            "coupons_issued",
            "coupons_redeemed",
            "coupons_voided",
        )
    }
    assert figures == {
        "orders": 5,
        "members": 2,
        "accrued": 5600,
        "grants": 2,
        "grants_revoked": 0,
        "coupons_issued": 2,
        "coupons_redeemed": 0,
        "coupons_voided": 0,
    }
    assert [(d["day"], d["orders"], d["accrued"]) for d in g1["by_day"]] == [
        ("2026-11-20", 3, 4200),
        ("2026-11-21", 2, 1400),
    ]
    [(accrued,)] = hq_rows(chain, "SELECT SUM(total) FROM gift_totals WHERE activity_id = 'g1'")
    assert g1["accrued"] == accrued


def test_a_store_with_its_last_push_and_reported_backlog(chain: HQ) -> None:
    s1 = _json(chain, "/v1/reports/stores/s1")
    assert (s1["orders"], s1["discount"], s1["backlog"]) == (3, 300, 0)
    [(last,)] = hq_rows(chain, "SELECT MAX(received_at) FROM events WHERE store_id = 's1'")
    assert s1["last_push_at"] == last
    assert [(c["code"], c["orders"], c["given"], c["refunded"]) for c in s1["by_campaign"]] == [
        ("p1", 3, 300, 100)
    ]
    stores = _json(chain, "/v1/reports/stores")["stores"]
    assert [(s["store_id"], s["orders"]) for s in stores] == [("s1", 3), ("s2", 3)]


def test_reports_need_the_admin_token_and_name_what_is_missing(chain: HQ) -> None:
    assert _get(chain, "/v1/reports/promotions", token="token-s1").status_code == 401
    missing = _get(chain, "/v1/reports/promotions/nope")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no promotion 'nope'"
    assert _get(chain, "/v1/reports/coupons").status_code == 404
