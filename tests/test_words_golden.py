"""What the cashier reads, in English and Simplified Chinese, at three stores.

One day's story at a till, the same in New York (USD), Berlin (EUR) and
Shanghai (CNY): a member used the club offer three times; the fourth order
is rung up on Saturday 28 November 2026 at 17:30 UTC (12:30 in New York,
18:30 in Berlin, 01:30 on Sunday in Shanghai). Its receipt says what did
not apply (lunch slot, club limit, a tie lost on priority, a threshold, an
expired gift coupon) and the gift the order earns; then the iced tea,
which carried the discount, is refunded (the refund slip) and the order is
reprinted.

The texts are golden files under ``fixtures/receipts/``, read by a person
once and compared byte for byte since. ``POS_PROMO_UPDATE_GOLDEN=1`` writes
them anew (then read the diff before committing it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from pos_promo import render_receipt
from pos_promo.embedded import Engine
from pos_promo.i18n import localise
from pos_promo.model.cart import Cart, StoreContext

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "receipts"
PERIOD = {"start": "2026-01-01T00:00:00", "end": "2026-12-31T23:59:59"}
BEFORE = dt.datetime(2026, 11, 27, 20, 0, tzinfo=dt.UTC)  # after lunch everywhere
AT = dt.datetime(2026, 11, 28, 17, 30, tzinfo=dt.UTC)
REFUND_AT = dt.datetime(2026, 11, 28, 18, 5, tzinfo=dt.UTC)
MEMBER = "m-1001"

STORES = {
    "new-york": ("s-nyc", "America/New_York", "USD", {"en": "en_US", "zh": "zh_CN"}),
    "berlin": ("s-ber", "Europe/Berlin", "EUR", {"en": "en_DE", "zh": "zh_CN"}),
    "shanghai": ("s-sha", "Asia/Shanghai", "CNY", {"en": "en_US", "zh": "zh_CN"}),
}
CASES = [(city, lang) for city in STORES for lang in ("en", "zh")]


def _promotion(pid: str, name: str, spend: int, save: int, **fields: Any) -> dict[str, Any]:
    return {
        "kind": "spend_and_save",
        "id": pid,
        "name": name,
        "period": PERIOD,
        "rule": {"type": "spend_save", "tiers": [{"spend": spend, "save": save}]},
        "items": {"all_items": True},
        **fields,
    }


def catalog(lang: str) -> list[dict[str, Any]]:
    """The store's campaigns; names in the language its cashiers read."""
    zh = lang == "zh"
    return [
        _promotion(
            "p-lunch",
            "午市套餐满20减4" if zh else "Lunch deal: spend 20 save 4",
            2000,
            400,
            time_slots=[{"start": "11:00", "end": "14:30", "weekdays": [1, 2, 3, 4, 5]}],
        ),
        _promotion(
            "p-club",
            "会员夜满20减3" if zh else "Club night: spend 20 save 3",
            2000,
            300,
            limits={"per_member_total": 3},
        ),
        _promotion(
            "p-weekend", "周末满30减5" if zh else "Weekend: spend 30 save 5", 3000, 500, priority=2
        ),
        _promotion(
            "p-app", "App专享满30减5" if zh else "App offer: spend 30 save 5", 3000, 500, priority=1
        ),
        _promotion("p-big", "满100减15" if zh else "Spend 100 save 15", 10000, 1500),
        {
            "kind": "coupon_template",
            "id": "t-dessert",
            "name": "免费甜品" if zh else "Free dessert",
            "period": PERIOD,
            "benefit": {"type": "amount_off", "amount": 600},
            "validity": {"type": "relative", "days": 30},
        },
        {
            "kind": "cumulative_gift",
            "id": "g-dessert",
            "name": "累计满80送甜品" if zh else "Every 80 spent, a dessert",
            "period": PERIOD,
            "condition": {"measure": "spend", "repeat": "every", "threshold": 8000},
            "gifts": [{"template_id": "t-dessert"}],
        },
    ]


def cart(store_id: str, order_id: str, lang: str) -> Cart:
    zh = lang == "zh"
    doc = {
        "order_id": order_id,
        "store_id": store_id,
        "member": {"id": MEMBER},
        "coupons": ["3f9c2a70-5d1e-4b8a-9c4e-2f6d8b1a7e55"],
        "lines": [
            {
                "line_id": "1",
                "item_id": "burger",
                "name": "牛肉汉堡" if zh else "Beef burger",
                "quantity": 2,
                "unit_price": 1450,
            },
            {
                "line_id": "2",
                "item_id": "fries",
                "name": "薯条" if zh else "Fries",
                "quantity": 2,
                "unit_price": 350,
                "role": "side",
                "parent_line_id": "1",
            },
            {
                "line_id": "3",
                "item_id": "tea",
                "name": "冰茶" if zh else "Iced tea",
                "quantity": 1,
                "unit_price": 550,
            },
        ],
    }
    from pos_promo.codec import decode_cart

    return decode_cart(json.dumps(doc))


def story(tmp: Path, city: str, lang: str) -> str:
    store_id, zone, currency, locales = STORES[city]
    store = StoreContext(store_id, zone, currency, locale=locales[lang])
    with Engine.open(tmp / f"{city}-{lang}.db", store) as till:
        till.import_campaigns(json.dumps(catalog(lang)), at=BEFORE)
        till.add_coupons(
            json.dumps(
                [
                    {
                        "id": "3f9c2a70-5d1e-4b8a-9c4e-2f6d8b1a7e55",
                        "template_id": "t-dessert",
                        "member_id": MEMBER,
                        "valid_from": "2026-10-01T00:00:00Z",
                        "valid_until": "2026-11-15T16:00:00Z",
                    }
                ]
            ),
            at=BEFORE,
        )
        for n in range(3):  # the club offer, three times (the limit)
            small = json.dumps(
                {
                    "order_id": f"o-{n}",
                    "store_id": store_id,
                    "member": {"id": MEMBER},
                    "lines": [{"line_id": "1", "item_id": "tea", "quantity": 4, "unit_price": 550}],
                }
            )
            till.commit(small, at=BEFORE + dt.timedelta(hours=n))
        rung = cart(store_id, "o-1001", lang)
        preview = till.evaluate(rung, at=AT)
        sale = till.commit(rung, [{"tender": "card", "amount": preview.total}], at=AT)
        refund = till.refund("o-1001", {"3": 1}, refund_id="r-1", at=REFUND_AT)
        record = till.order("o-1001")
        worded = localise(preview, store)
    parts = [
        "== receipt ==",
        render_receipt(sale, rung, store),
        "== refund slip ==",
        render_receipt(record, store=store, refund=refund),  # the record keeps the cart
        "== reprint ==",
        render_receipt(record, store=store),
        "== not applied ==",
        *(f"{n.id} [{n.reason}] {n.message}" for n in worded.not_applied),
        "",
        "== gift previews ==",
        *(f"{a.activity_id}: {a.progress} | {a.message}" for a in worded.accruals),
        "",
    ]
    return "\n".join(parts)


@pytest.mark.parametrize(("city", "lang"), CASES, ids=[f"{c}-{lang}" for c, lang in CASES])
def test_receipts_read_the_same_as_the_golden_text(city: str, lang: str, tmp_path: Path) -> None:
    text = story(tmp_path, city, lang)
    path = GOLDEN / f"{city}-{lang}.txt"
    if os.environ.get("POS_PROMO_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
