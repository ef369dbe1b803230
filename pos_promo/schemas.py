"""JSON Schemas generated from the wire types, so docs never drift from code.

``docs/schema/*.json`` are these, written by ``pos-promo schema --write``;
a test fails when a type changes and the files were not regenerated.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import msgspec

from pos_promo.limits import MAX_JSON_DEPTH
from pos_promo.model.campaign import Campaign
from pos_promo.model.cart import Cart, MemberCounts, StoreContext
from pos_promo.model.result import EvaluationResult

__all__ = ["SCHEMAS", "schema_json"]

SCHEMAS: dict[str, Any] = {
    "campaign": Campaign,
    "campaigns": list[Campaign],
    "cart": Cart,
    "member_counts": MemberCounts,
    "result": EvaluationResult,
    "store": StoreContext,
}


def _stable(node: Any) -> Any:
    """Make the text independent of msgspec's patch release and of hash order.

    Set-typed defaults come out in hash order, so they are sorted. Descriptions
    come from docstrings, which msgspec 0.22 dedents and 0.23 does not, so every
    description is cleaned with :func:`inspect.cleandoc` here.
    """
    if isinstance(node, dict):
        out = {key: _stable(value) for key, value in node.items()}
        if isinstance(out.get("description"), str):
            out["description"] = inspect.cleandoc(out["description"])
        if isinstance(out.get("default"), list) and node.get("uniqueItems"):
            out["default"] = sorted(out["default"], key=json.dumps)
        return out
    if isinstance(node, list):
        return [_stable(value) for value in node]
    return node


def schema_json(name: str) -> str:
    """The schema of the wire type ``name``, as stable, sorted, indented JSON."""
    schema = _stable(msgspec.json.schema(SCHEMAS[name]))
    # JSON Schema has no keyword for nesting; the bound is still the reader's
    schema["$comment"] = (
        f"A document nests its arrays and objects at most {MAX_JSON_DEPTH} levels deep "
        "(pos_promo.limits.MAX_JSON_DEPTH, docs/limits.md); a deeper one is refused unread."
    )
    schema["x-max-json-depth"] = MAX_JSON_DEPTH
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
