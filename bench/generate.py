"""A realistic, deterministic restaurant chain: stores, menu, campaigns, carts.

Everything comes out as plain JSON-ready dicts (the documents HQ serves and a
till sends), so any benchmark can encode them, decode them through the codec,
store them or push them over the wire. The same seed always gives the same
documents, on any machine and under any ``PYTHONHASHSEED``.

The shape of the chain (defaults):

- 300 stores under 8 organisation nodes: 2 brands, each with 3 regions; a
  store's ``org_ids`` hold its brand and its region. Three time zones.
- A menu of 5,000 items in 300 categories: 20 departments (sections such as
  "burgers", "drinks") over 280 leaf categories. Every item has its leaf and
  its department. About 76 % are mains, 12 % sides, 12 % modifiers (priced
  0 to 2.50). Popularity follows a Zipf law, so a few items appear in most
  carts.
- Campaigns: HQ and regional marketing each run about 3·√N of N campaigns
  (all stores, or one or two organisation nodes); the rest are store-level
  campaigns local to 1 to 3 stores of one region. A chain with 10,000
  campaigns therefore has ~94 % of them local, a chain with 10 has most of
  them chain-wide. About 10 % are store-wide (``all_items``), the rest target
  a few items and/or a category, some minus excluded items. The rule types
  are mixed 50/30/20 (spend/items save/items free) with 1 to 5 tiers; there
  are time slots (lunch, happy hour, late night across midnight), date
  lists, channel and service-type restrictions, member tiers and tags,
  participation limits, store-specific rules, caps, manual-only ones,
  stackable ones, and some paused, not yet started or already ended.
- Carts: mains with their sides and modifiers (bundles), mostly one unit,
  about 40 % with a member, a ``pos``/``online`` and service-type mix, at an
  instant in the store's opening hours during the benchmark week.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
import zoneinfo
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

__all__ = [
    "WEEK",
    "Chain",
    "Item",
    "all_active",
    "make_campaigns",
    "make_cart",
    "make_carts",
    "make_chain",
    "scope_mix",
    "store_doc",
]

Doc = dict[str, Any]

WEEK = dt.date(2026, 6, 15)  # a Monday: carts are rung up in the 7 days from here
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles")
TIERS = ("silver", "gold", "platinum")
TAGS = tuple(f"tag-{i}" for i in range(12))
CARD_PROGRAMS = ("card-red", "card-black")


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    role: str  # the role it is usually ordered in: main, side or modifier
    category_ids: tuple[str, ...]  # leaf, department
    price: int


@dataclass(frozen=True)
class Chain:
    """The fixed facts of a chain; campaigns and carts are drawn from it."""

    seed: int
    stores: tuple[Doc, ...]  # StoreContext documents
    brands: tuple[str, ...]
    regions: dict[str, tuple[str, ...]]  # brand -> its regions
    stores_by_region: dict[str, tuple[str, ...]]
    items: tuple[Item, ...]
    mains: tuple[Item, ...]  # by popularity, most popular first
    main_weights: tuple[float, ...]  # cumulative Zipf weights over ``mains``
    sides: tuple[Item, ...]
    modifiers: tuple[Item, ...]
    leaves: tuple[str, ...]
    departments: tuple[str, ...]

    def store(self, store_id: str) -> Doc:
        return next(s for s in self.stores if s["id"] == store_id)


def _rng(seed: int, *parts: object) -> random.Random:
    """An independent, reproducible stream per purpose (str seeds are hashed
    with SHA-512, never with Python's randomised ``hash``)."""
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def _price(rng: random.Random, low: int, high: int) -> int:
    """Log-uniform price rounded to 5 cents."""
    value = math.exp(rng.uniform(math.log(low), math.log(high)))
    return max(5, round(value / 5) * 5)


def make_chain(
    seed: int = 7, *, stores: int = 300, items: int = 5_000, categories: int = 300
) -> Chain:
    rng = _rng(seed, "chain")
    brands = ("brand-a", "brand-b")
    regions = {b: tuple(f"{b}-region-{r}" for r in range(1, 4)) for b in brands}
    all_regions = [(b, r) for b in brands for r in regions[b]]
    store_docs = []
    by_region: dict[str, list[str]] = {r: [] for _, r in all_regions}
    for n in range(stores):
        brand, region = all_regions[n % len(all_regions)]
        store_id = f"store-{n:03d}"
        by_region[region].append(store_id)
        store_docs.append(
            {
                "id": store_id,
                "timezone": ZONES[(n // len(all_regions)) % len(ZONES)],
                "currency": "USD",
                "org_ids": sorted({brand, region}),
            }
        )
    n_departments = max(3, categories // 15)
    departments = tuple(f"dept-{d:02d}" for d in range(n_departments))
    leaves = tuple(f"cat-{c:03d}" for c in range(categories - n_departments))
    # the last two departments hold the sides and the modifiers
    side_dept, mod_dept = departments[-2], departments[-1]
    leaf_dept = {leaf: departments[i % (n_departments - 2)] for i, leaf in enumerate(leaves)}
    side_leaves = leaves[: len(leaves) // 12]
    mod_leaves = leaves[len(leaves) // 12 : len(leaves) // 6]
    for leaf in side_leaves:
        leaf_dept[leaf] = side_dept
    for leaf in mod_leaves:
        leaf_dept[leaf] = mod_dept
    main_leaves = leaves[len(leaves) // 6 :]
    menu: list[Item] = []
    for n in range(items):
        draw = rng.random()
        if draw < 0.12:
            role, leaf, price = "side", rng.choice(side_leaves), _price(rng, 150, 800)
        elif draw < 0.24:
            role, leaf = "modifier", rng.choice(mod_leaves)
            price = 0 if rng.random() < 0.3 else _price(rng, 25, 250)
        else:
            role, leaf, price = "main", rng.choice(main_leaves), _price(rng, 300, 4_500)
        menu.append(Item(f"item-{n:04d}", role, (leaf, leaf_dept[leaf]), price))
    mains = [i for i in menu if i.role == "main"]
    rng.shuffle(mains)  # popularity rank is independent of the id
    weights = list(itertools.accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(mains))))
    return Chain(
        seed=seed,
        stores=tuple(store_docs),
        brands=brands,
        regions=regions,
        stores_by_region={r: tuple(s) for r, s in by_region.items()},
        items=tuple(menu),
        mains=tuple(mains),
        main_weights=tuple(weights),
        sides=tuple(i for i in menu if i.role == "side"),
        modifiers=tuple(i for i in menu if i.role == "modifier"),
        leaves=leaves,
        departments=departments,
    )


def store_doc(chain: Chain, store_id: str) -> Doc:
    return chain.store(store_id)


def _popular_main(chain: Chain, rng: random.Random) -> Item:
    at = bisect_left(chain.main_weights, rng.random() * chain.main_weights[-1])
    return chain.mains[min(at, len(chain.mains) - 1)]


def scope_mix(n: int) -> tuple[int, int, int]:
    """How many of ``n`` campaigns are (chain-wide, organisation, store-local)."""
    chain_wide = min(round(0.5 * n), round(3 * math.sqrt(n)))
    orgs = min(round(0.3 * n), round(3 * math.sqrt(n)))
    return chain_wide, orgs, n - chain_wide - orgs


# -- campaigns -----------------------------------------------------------------


def _weighted(rng: random.Random, table: tuple[tuple[Any, float], ...]) -> Any:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights)[0]


def _rule(rng: random.Random) -> Doc:
    kind = _weighted(rng, (("spend_save", 5), ("items_save", 3), ("items_free", 2)))
    n_tiers = _weighted(rng, ((1, 50), (2, 25), (3, 15), (4, 5), (5, 5)))
    tiers: list[Doc] = []
    if kind == "spend_save":
        spend = rng.choice((1_000, 1_500, 2_000, 2_500, 3_000, 4_000, 5_000))
        for _ in range(n_tiers):
            save = max(100, spend * rng.choice((5, 10, 15, 20)) // 100 // 50 * 50)
            tiers.append({"spend": spend, "save": save})
            spend += rng.choice((1_000, 2_000, 2_500, 5_000))
    elif kind == "items_save":
        count = rng.choice((2, 2, 3, 3, 4, 5))
        for _ in range(n_tiers):
            tiers.append({"items": count, "save": count * rng.choice((50, 100, 150, 200))})
            count += rng.choice((1, 2))
    else:
        buy, free = rng.choice(((1, 1), (2, 1), (2, 1), (3, 1), (3, 2)))
        for _ in range(n_tiers):
            tiers.append({"buy": buy, "free": free})
            buy += rng.choice((1, 2))
            free += rng.choice((0, 1))
    return {"type": kind, "tiers": tiers}


def _items(chain: Chain, rng: random.Random) -> Doc:
    shape = _weighted(
        rng,
        (("items", 50), ("leaf", 15), ("items+leaf", 10), ("dept", 8), ("leaves", 7), ("all", 10)),
    )
    scope: Doc = {}
    if shape == "all":
        scope["all_items"] = True
    if "items" in shape:
        count = _weighted(rng, ((1, 30), (2, 25), (3, 20), (5, 15), (10, 10)))
        picks = {
            (_popular_main(chain, rng) if rng.random() < 0.6 else rng.choice(chain.mains)).id
            for _ in range(count)
        }
        scope["item_ids"] = sorted(picks)
    if "leaf" in shape:
        item = _popular_main(chain, rng)  # promotions follow what sells
        scope["category_ids"] = [item.category_ids[0]]
    if shape == "dept":
        scope["category_ids"] = [_popular_main(chain, rng).category_ids[1]]
    if shape == "leaves":
        scope["category_ids"] = sorted(
            {_popular_main(chain, rng).category_ids[0] for _ in range(rng.randint(2, 4))}
        )
    if shape in ("all", "dept", "leaves") and rng.random() < 0.25:
        scope["excluded_item_ids"] = sorted(
            {_popular_main(chain, rng).id for _ in range(rng.randint(1, 3))}
        )
    return scope


def _period(rng: random.Random) -> Doc:
    state = _weighted(rng, (("running", 85), ("ended", 10), ("upcoming", 5)))
    if state == "running":
        start = dt.datetime.combine(WEEK, dt.time()) - dt.timedelta(days=rng.randint(1, 120))
        end = dt.datetime.combine(WEEK, dt.time()) + dt.timedelta(days=rng.randint(8, 180))
    elif state == "ended":
        start = dt.datetime.combine(WEEK, dt.time()) - dt.timedelta(days=rng.randint(30, 200))
        end = start + dt.timedelta(days=rng.randint(3, 25))
    else:
        start = dt.datetime.combine(WEEK, dt.time()) + dt.timedelta(days=rng.randint(8, 60))
        end = start + dt.timedelta(days=rng.randint(7, 90))
    end = end.replace(hour=23, minute=59, second=59)
    return {"start": start.isoformat(), "end": end.isoformat()}


SLOTS = (
    ({"start": "11:00", "end": "14:00", "weekdays": [1, 2, 3, 4, 5]}, 6),  # weekday lunch
    ({"start": "15:00", "end": "18:00"}, 4),  # happy hour
    ({"start": "22:00", "end": "02:00", "weekdays": [4, 5, 6]}, 2),  # late night
    ({"start": "07:00", "end": "10:30", "weekdays": [6, 7]}, 2),  # weekend brunch
)


def _campaign(chain: Chain, rng: random.Random, number: int, stores: Any) -> Doc:
    doc: Doc = {
        "kind": "spend_and_save",
        "id": f"camp-{number:05d}",
        "version": rng.randint(1, 4),
        "name": f"Campaign {number}",
        "period": _period(rng),
        "stores": stores,
        "rule": _rule(rng),
        "items": _items(chain, rng),
    }
    if rng.random() < 0.04:
        doc["status"] = "paused"
    if rng.random() < 0.15:
        doc["time_slots"] = [_weighted(rng, SLOTS)]
    if rng.random() < 0.05:  # e.g. the chain's anniversary days, tied to the bench week
        days = sorted({WEEK + dt.timedelta(days=rng.randint(-3, 9)) for _ in range(3)})
        doc["dates"] = [d.isoformat() for d in days]
    if rng.random() < 0.12:
        doc["channels"] = [rng.choice(("pos", "online"))]
    if rng.random() < 0.10:
        doc["service_types"] = sorted(rng.sample(("dine_in", "delivery", "pickup"), 2))
    if rng.random() < 0.12:
        who: Doc = {}
        if rng.random() < 0.7:
            who["tiers"] = sorted(rng.sample(TIERS, rng.randint(1, 2)))
        else:
            who["tags"] = sorted(rng.sample(TAGS, rng.randint(1, 3)))
        if rng.random() < 0.1:
            who["card_programs"] = [rng.choice(CARD_PROGRAMS)]
        doc["participants"] = who
    if rng.random() < 0.06:
        doc["limits"] = {"per_member_total": rng.randint(1, 5), "per_member_daily": 1}
    if rng.random() < 0.25:
        doc["priority"] = rng.randint(1, 10)
    if rng.random() < 0.3:
        doc["application_order"] = "high_to_low"
    if rng.random() < 0.2:
        doc["max_discount"] = rng.choice((500, 1_000, 1_500, 2_500))
    if rng.random() < 0.15:
        doc["sides"] = {
            "counts_toward_threshold": rng.random() < 0.6,
            "shares_discount": rng.random() < 0.5,
        }
    if rng.random() < 0.15:
        doc["modifiers"] = {
            "counts_toward_threshold": rng.random() < 0.5,
            "shares_discount": rng.random() < 0.5,
        }
    if rng.random() < 0.05:
        doc["auto_apply"] = False
    draw = rng.random()
    if draw < 0.08:
        doc["sharing"] = {"promotions": {"mode": "all"}}
    elif draw < 0.11:
        others = [f"camp-{rng.randint(0, number + 50):05d}" for _ in range(3)]
        doc["sharing"] = {"promotions": {"mode": "all_except", "except_ids": sorted(set(others))}}
    if rng.random() < 0.05:
        pool = [s["id"] for s in chain.stores]
        if isinstance(stores, dict) and stores.get("store_ids"):
            pool = list(stores["store_ids"])
        override: Doc = {"store_ids": sorted(rng.sample(pool, min(len(pool), 2)))}
        if rng.random() < 0.5:
            override["rule"] = _rule(rng)
        if rng.random() < 0.5:
            override["max_discount"] = rng.choice((300, 800, 2_000))
        if rng.random() < 0.3:
            override["application_order"] = "high_to_low"
        doc["store_rules"] = [override]
    return doc


def make_campaigns(chain: Chain, n: int, seed: int | None = None) -> list[Doc]:
    """``n`` campaigns for the chain, in HQ's payload order (by id)."""
    rng = _rng(chain.seed if seed is None else seed, "campaigns", n)
    chain_wide, orgs, local = scope_mix(n)
    all_regions = [r for b in chain.brands for r in chain.regions[b]]
    scopes: list[Any] = ["all"] * chain_wide
    for _ in range(orgs):
        if rng.random() < 0.3:
            scopes.append({"org_ids": [rng.choice(chain.brands)]})
        else:
            scopes.append({"org_ids": sorted(rng.sample(all_regions, rng.randint(1, 2)))})
    for _ in range(local):
        region = chain.stores_by_region[rng.choice(all_regions)]
        count = _weighted(rng, ((1, 60), (2, 25), (3, 15)))
        scopes.append({"store_ids": sorted(rng.sample(region, count))})
    rng.shuffle(scopes)  # the scope says nothing about the id
    return [_campaign(chain, rng, number, stores) for number, stores in enumerate(scopes)]


# -- carts -----------------------------------------------------------------------


def _instant(rng: random.Random, zone: str) -> dt.datetime:
    """An instant in opening hours (07:00-01:00 local) during the bench week."""
    day = WEEK + dt.timedelta(days=rng.randrange(7))
    low, high = _weighted(
        rng, (((7, 11), 15), ((11, 14), 35), ((14, 17), 10), ((17, 21), 30), ((21, 25), 10))
    )
    minute = rng.randrange(low * 60, high * 60)
    local = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    return local.replace(tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(dt.UTC)


def make_cart(chain: Chain, rng: random.Random, store_id: str, lines: int, order_id: str) -> Doc:
    """A cart of exactly ``lines`` lines: mains, each with some sides and modifiers."""
    store = chain.store(store_id)
    out: list[Doc] = []
    number = 0

    def line(item: Item, quantity: int, role: str, parent: str | None = None) -> str:
        nonlocal number
        number += 1
        doc: Doc = {
            "line_id": f"L{number:03d}",
            "item_id": item.id,
            "quantity": quantity,
            "unit_price": item.price,
            "category_ids": list(item.category_ids),
        }
        if role != "main":
            doc["role"] = role
            doc["parent_line_id"] = parent
        elif rng.random() < 0.1 and item.price > 100:
            doc["member_unit_price"] = item.price - item.price // 10
        out.append(doc)
        return str(doc["line_id"])

    while len(out) < lines:
        left = lines - len(out)
        if rng.random() < 0.06:  # a side ordered on its own
            line(rng.choice(chain.sides), 1, "main")
            continue
        main_item = _popular_main(chain, rng)
        quantity = _weighted(rng, ((1, 80), (2, 15), (3, 5)))
        main_id = line(main_item, quantity, "main")
        left -= 1
        if left and rng.random() < 0.35:
            line(rng.choice(chain.sides), quantity, "side", main_id)
            left -= 1
        for _ in range(min(left, _weighted(rng, ((0, 55), (1, 25), (2, 12), (3, 8))))):
            extra = 2 if rng.random() < 0.05 else 1
            line(rng.choice(chain.modifiers), quantity * extra, "modifier", main_id)
    cart: Doc = {
        "order_id": order_id,
        "store_id": store_id,
        "lines": out,
        "channel": "online" if rng.random() < 0.2 else "pos",
        "service_type": _weighted(rng, (("dine_in", 60), ("pickup", 25), ("delivery", 15))),
        "at": _instant(rng, store["timezone"]).isoformat(),
    }
    if rng.random() < 0.4:
        member: Doc = {"id": f"member-{rng.randrange(100_000):05d}"}
        if rng.random() < 0.8:
            member["tier"] = _weighted(rng, (("silver", 60), ("gold", 30), ("platinum", 10)))
        if rng.random() < 0.5:
            member["tags"] = sorted(rng.sample(TAGS, rng.randint(1, 3)))
        if rng.random() < 0.2:
            member["card_programs"] = [rng.choice(CARD_PROGRAMS)]
        cart["member"] = member
    return cart


def make_carts(
    chain: Chain, store_id: str, lines: int, count: int, seed: int | None = None
) -> list[Doc]:
    rng = _rng(chain.seed if seed is None else seed, "carts", store_id, lines)
    return [make_cart(chain, rng, store_id, lines, f"order-{lines}-{n:04d}") for n in range(count)]


def all_active(docs: list[Doc]) -> list[Doc]:
    """The same campaigns all running and offered at every store: no store
    scope, pause, time slot or date list keeps any out (channel, service
    type and member conditions stay). The shape where many campaigns are
    truly live at one store, about 140 qualifying for a 30-line cart per
    1,000 campaigns."""
    out = []
    for doc in docs:
        live = {k: v for k, v in doc.items() if k not in ("status", "time_slots", "dates")}
        live["stores"] = "all"
        live["period"] = {"start": "2026-01-01T00:00:00", "end": "2026-12-31T23:59:59"}
        live.pop("store_rules", None)
        out.append(live)
    return out
