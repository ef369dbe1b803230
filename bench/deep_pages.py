"""What reading a sync page with one item nested 100,000 deep costs the till.

Run ``python bench/deep_pages.py``. A page msgspec reads at once is the
baseline: 200 campaign changes, decoded as the client does
(``RawChangesPage``) and each change's envelope decoded
(``pos_promo.sync.changes._envelopes``). Beside it, medians in the same
process of:

- the same page with one change's document nested 100,000 deep: msgspec
  gives up at its recursion guard, the page is cut at its top level
  (``pos_promo.sync.shallow``) and that change is set aside for quarantine;
- the same page with one change that is not JSON (cut the same way);
- HQ refusing a push body nested 100,000 deep (the depth scan alone).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pos_promo.codec import too_deep
from pos_promo.limits import MAX_BODY_DEPTH
from pos_promo.sync.changes import _envelopes
from pos_promo.sync.client import _decode
from pos_promo.sync.protocol import RawChangesPage
from tests.sync.harness import campaign

DEEP = 100_000


def median_ms(action: Callable[[], Any], runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        action()
        times.append((time.perf_counter_ns() - start) / 1e6)
    return statistics.median(times)


def page(changes: list[str]) -> bytes:
    return ('{"cursor": "200", "more": false, "changes": [' + ", ".join(changes) + "]}").encode()


def change(cid: str, document: str) -> str:
    return f'{{"type": "campaign", "id": "{cid}", "version": 1, "document": {document}}}'


def read(body: bytes) -> int:
    decoded = _decode("pull changes", RawChangesPage, body)
    found, bad = _envelopes(decoded.changes)
    return len(found) + len(bad)


def main() -> None:
    good = [change(f"c{n}", json.dumps(campaign(f"c{n}"))) for n in range(200)]
    deep_doc = json.dumps(campaign("c100")).replace(
        '"name"', '"x": ' + "[" * DEEP + "]" * DEEP + ', "name"'
    )
    with_deep = [*good[:100], change("c100", deep_doc), *good[101:]]
    with_broken = [*good[:100], change("c100", '{"id": "c100", "version": tru}'), *good[101:]]
    push = (
        '{"store_id": "s1", "events": [{"id": "e1", "kind": "k", "payload": '
        + "[" * DEEP
        + "]" * DEEP
        + "}]}"
    ).encode()
    plain, deep, broken = page(good), page(with_deep), page(with_broken)
    for body in (plain, deep, broken):
        assert read(body) == 200
    assert too_deep(push, MAX_BODY_DEPTH)

    base = median_ms(lambda: read(plain))
    print(f"baseline: read a 200-change page: {base:.3f} ms")
    rows = {
        "read it with one change 100,000 deep": median_ms(lambda: read(deep)),
        "read it with one change that is not JSON": median_ms(lambda: read(broken)),
        "HQ: refuse a push nested 100,000 deep": median_ms(lambda: too_deep(push, MAX_BODY_DEPTH)),
    }
    for name, value in rows.items():
        print(f"{name:48} {value:9.3f} ms  {value / base:8.1f}x baseline")


if __name__ == "__main__":
    main()
