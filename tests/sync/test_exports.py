"""The sync side's promises: sorted public names, one error root, a documented protocol."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pos_promo_hq.faults

import pos_promo.sync
import pos_promo.sync.errors
import pos_promo.sync.protocol
from pos_promo.errors import PromoError

ROOT = Path(__file__).resolve().parents[2]


def test_every_sync_error_is_a_promo_error_drawn_in_the_tree() -> None:
    doc = pos_promo.sync.errors.__doc__ or ""
    for name, obj in inspect.getmembers(pos_promo.sync.errors, inspect.isclass):
        if obj.__module__ == pos_promo.sync.errors.__name__:
            assert issubclass(obj, PromoError), name
            assert name in doc, name


def test_every_protocol_type_and_endpoint_is_documented() -> None:
    text = (ROOT / "docs" / "protocol.md").read_text()
    for name in pos_promo.sync.protocol.__all__:
        if name[0].isupper() and not name.isupper():
            assert f"`{name}`" in text, name
    for endpoint in (
        "GET /v1/changes",
        "GET /v1/member-state",
        "POST /v1/events",
        "GET /v1/health",
    ):
        assert endpoint in text, endpoint
    for fault in re.findall(r"``(\w+)``", pos_promo_hq.faults.__doc__ or ""):
        assert fault in (ROOT / "docs" / "sync.md").read_text(), fault


def test_the_store_side_never_imports_sync_and_hq_imports_no_store() -> None:
    for path in (ROOT / "pos_promo" / "store").glob("*.py"):
        assert "pos_promo.sync" not in path.read_text(), path
    for path in (ROOT / "hq").glob("*.py"):
        text = path.read_text()
        assert "pos_promo.store" not in text and "pos_promo.embedded" not in text, path
        assert "import pos_promo_daemon" not in text and "from pos_promo_daemon" not in text, path
    for path in (ROOT / "pos_promo").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^(from|import) (hq|daemon)\b", text, re.M), path
