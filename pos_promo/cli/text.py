"""``--format text`` for answers that have no hand-made view: plain, aligned text.

Every ``pos-promo`` command takes ``--format text|json``. Receipts, the
metrics tables, a member's gifts and the sync status have their own views;
everything else (import reports, wallets, refunds, orders, lists of
campaigns, ...) goes through :func:`as_text`, so a new command gets a
readable text form without writing one: a struct is ``field: value`` lines
(nested structs indented), a list of structs a table of its scalar fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

__all__ = ["as_text", "table"]


def table(head: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell: the first (the row's name) left, the rest right."""
    rows = [tuple(head), *(tuple(r) for r in body)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    out = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out) + "\n"


def as_text(obj: Any) -> str:
    """``obj`` (a struct, a list of structs, a mapping or a scalar) for a person to read."""
    plain = msgspec.json.decode(msgspec.json.encode(obj))  # what --format json shows
    if isinstance(plain, list):
        return _list(plain)
    if isinstance(plain, dict):
        return "".join(_pairs(plain, 0))
    return _scalar(plain) + "\n"


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(_scalar(v) for v in value) if value else "-"
    return str(value)


def _list(items: list[Any]) -> str:
    if not items:
        return "(none)\n"
    if not all(isinstance(item, dict) for item in items):
        return "".join(_scalar(item) + "\n" for item in items)
    columns: list[str] = []
    for item in items:
        for key, value in item.items():
            simple = not isinstance(value, dict | list) or (
                isinstance(value, list) and all(not isinstance(v, dict | list) for v in value)
            )
            if simple and key not in columns:
                columns.append(key)
    return table(columns, [[_scalar(item.get(key)) for key in columns] for item in items])


def _pairs(mapping: Mapping[str, Any], depth: int) -> list[str]:
    pad = "  " * depth
    out: list[str] = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.append(f"{pad}{key}:\n" if value else f"{pad}{key}: -\n")
            out += _pairs(value, depth + 1)
        elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
            out.append(f"{pad}{key}:\n")
            out += [f"{pad}  {row}\n" for row in _list(value).splitlines()]
        else:
            out.append(f"{pad}{key}: {_scalar(value)}\n")
    return out
