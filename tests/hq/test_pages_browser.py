"""HQ's performance pages in headless Chromium: signed in through the form, every
figure on the page equal to HQ's database, a screenshot of each page kept in the
test's folder (``<tmp_path>/screenshots``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.hq.browser import chromium
from tests.hq.scenario import hq_rows
from tests.sync.harness import ADMIN, HQ

pytestmark = pytest.mark.browser


def _figure(driver: Any, element_id: str) -> tuple[str, str]:
    from selenium.webdriver.common.by import By

    element = driver.find_element(By.ID, element_id)
    return element.get_attribute("data-value"), element.text


def _row(driver: Any, table: str, row_id: str) -> dict[str, tuple[str, str]]:
    from selenium.webdriver.common.by import By

    row = driver.find_element(By.CSS_SELECTOR, f'#{table} tr[data-id="{row_id}"]')
    return {
        cell.get_attribute("data-figure"): (cell.get_attribute("data-value"), cell.text)
        for cell in row.find_elements(By.CSS_SELECTOR, "td[data-figure]")
    }


def _open(driver: Any, hq: HQ, path: str, shots: Path, name: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(hq.url + path)
    assert driver.find_element(By.TAG_NAME, "h1").text, path
    driver.save_screenshot(str(shots / f"{name}.png"))


def test_the_pages_show_the_databases_numbers(chain: HQ, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    shots = tmp_path / "screenshots"
    shots.mkdir()
    with chromium() as driver:
        d: Any = driver
        d.get(chain.url + "/admin/promotions/p1")
        WebDriverWait(d, 10).until(lambda b: b.find_element(By.ID, "token"))
        assert d.current_url == chain.url + "/admin/login"  # no cookie yet: sign in first
        d.save_screenshot(str(shots / "login.png"))
        d.find_element(By.ID, "token").send_keys("wrong")
        d.find_element(By.ID, "sign-in").click()
        message = WebDriverWait(d, 10).until(lambda b: b.find_element(By.ID, "message"))
        assert message.text == "That token is not HQ's admin token."
        d.find_element(By.ID, "token").send_keys(ADMIN)
        d.find_element(By.ID, "sign-in").click()
        WebDriverWait(d, 10).until(lambda b: b.current_url == chain.url + "/admin/")
        WebDriverWait(d, 10).until(lambda b: b.find_element(By.ID, "stores"))
        d.save_screenshot(str(shots / "index.png"))

        [(orders, discount)] = hq_rows(
            chain, "SELECT COUNT(*), SUM(total_discount) FROM orders WHERE store_id = 's2'"
        )
        s2 = _row(d, "stores", "s2")
        assert s2["orders"] == (str(orders), "3")
        assert s2["discount"] == (str(discount), "3.00")
        [(p1_discount,)] = hq_rows(chain, "SELECT SUM(total_discount) FROM orders")
        [(p1_refunded,)] = hq_rows(chain, "SELECT SUM(discount) FROM refunds")
        p1 = _row(d, "promotions", "p1")
        assert p1["given"] == (str(p1_discount), "6.00")
        assert p1["refunded"] == (str(p1_refunded), "1.00")
        assert p1["net"] == ("500", "5.00")

        _open(d, chain, "/admin/promotions/p1", shots, "promotion-p1")
        assert d.find_element(By.ID, "code").text == "p1"
        assert _figure(d, "orders") == ("6", "6")
        assert _figure(d, "net") == (str(p1_discount - p1_refunded), "5.00")
        [(members,)] = hq_rows(
            chain, "SELECT COUNT(DISTINCT member_id) FROM orders WHERE member_id IS NOT NULL"
        )
        assert _figure(d, "members") == (str(members), "2")
        [(day2_orders, day2_discount)] = hq_rows(
            chain,
            "SELECT COUNT(*), SUM(total_discount) FROM orders WHERE local_date = '2026-11-21'",
        )
        day2 = _row(d, "by-day", "2026-11-21")
        assert day2["orders"] == (str(day2_orders), "2")
        assert day2["given"] == (str(day2_discount), "2.00")
        assert d.find_elements(By.CSS_SELECTOR, "#discount-chart svg")  # pygal's chart drawn

        _open(d, chain, "/admin/gift-activities/g1", shots, "gift-activity-g1")
        [(accrued,)] = hq_rows(chain, "SELECT SUM(amount) FROM gift_accruals")
        [(grants,)] = hq_rows(chain, "SELECT COUNT(*) FROM gift_grants WHERE status = 'granted'")
        [(coupons,)] = hq_rows(chain, "SELECT COUNT(*) FROM wallet_coupons")
        assert _figure(d, "accrued") == (str(accrued), "56.00")
        assert _figure(d, "grants") == (str(grants), "2")
        assert _figure(d, "coupons_issued") == (str(coupons), "2")

        _open(d, chain, "/admin/stores/s1", shots, "store-s1")
        [(last_push,)] = hq_rows(chain, "SELECT MAX(received_at) FROM events WHERE store_id = 's1'")
        assert d.find_element(By.ID, "last-push").text == last_push
        assert _figure(d, "backlog") == ("0", "0")
        assert _row(d, "by-campaign", "p1")["refunded"] == ("100", "1.00")
    taken = sorted(p.name for p in shots.iterdir())
    assert taken == [
        "gift-activity-g1.png",
        "index.png",
        "login.png",
        "promotion-p1.png",
        "store-s1.png",
    ]
    assert all((shots / name).stat().st_size > 5_000 for name in taken)
    print(f"screenshots in {shots}")
