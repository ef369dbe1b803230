"""docs/sync.md lists every key of the daemon's config file with its default.

Issue 14: the config key ``store_id`` and the ``[batches]`` table were
documented nowhere but a docstring.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
from pos_promo_daemon.config import DaemonConfig

ROOT = Path(__file__).resolve().parents[2]


def documented_rows() -> dict[str, str]:
    """``key`` -> default cell of the config table in docs/sync.md."""
    text = (ROOT / "docs" / "sync.md").read_text()
    section = text.split("## The daemon's config file", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`").replace("` `", " ")] = cells[1].strip("`")
    return rows


def expected_rows() -> dict[str, str]:
    out = {}
    for info in msgspec.structs.fields(DaemonConfig):
        default = info.default
        if isinstance(default, msgspec.Struct):
            for inner in msgspec.structs.fields(type(default)):
                value = getattr(default, inner.name)
                out[f"[{info.name}] {inner.name}"] = str(value)
        elif info.required:
            out[info.name] = "required"
        else:
            out[info.name] = msgspec.json.encode(default).decode()
    return out


def test_every_config_key_is_documented_with_its_default() -> None:
    assert documented_rows() == expected_rows()
