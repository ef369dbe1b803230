"""Which fields of a document HQ sent does this till not know?

Forward compatibility stays: msgspec ignores an unknown field, so a newer
HQ's document is still applied. But a field ignored in silence can be a
misspelling that disables a rule (``per_member_per_day`` for a limit), so
the till lists every unknown field by path, in the quarantine/status view
and the daemon's log line.

The walk follows the wire type's own description (:mod:`msgspec.inspect`):
an object's keys against the struct's encoded field names, then into each
known field's value; tagged unions by their tag; lists, tuples, sets and
dict values element by element. It reads a document that already decoded
as that type, so its depth is msgspec's to bound.

(Written here for the sync side; the import report's own lister, being
built for the till's imports, can replace it once it is in main.)
"""

from __future__ import annotations

import functools
import json
from typing import Any

from msgspec import inspect

__all__ = ["MAX_REPORTED", "unknown_fields"]

MAX_REPORTED = 50
"""At most this many unknown paths are listed per document."""


@functools.cache
def _info(kind: Any) -> inspect.Type:
    return inspect.type_info(kind)


def unknown_fields(document: bytes | str, kind: Any) -> list[str]:
    """JSON paths (``$.limits.per_member_per_day``) of fields ``kind`` does not know."""
    try:
        value = json.loads(document)
    except (ValueError, RecursionError):
        return []
    found: list[str] = []
    _walk(value, _info(kind), "$", found)
    return found[:MAX_REPORTED]


def _walk(value: Any, info: inspect.Type, path: str, found: list[str]) -> None:
    if len(found) >= MAX_REPORTED:
        return
    if isinstance(info, inspect.Metadata):
        _walk(value, info.type, path, found)
    elif isinstance(info, inspect.UnionType):
        _union(value, info, path, found)
    elif isinstance(info, inspect.StructType):
        _struct(value, info, path, found)
    elif isinstance(info, inspect.ListType | inspect.VarTupleType | inspect.SetType):
        if isinstance(value, list):
            for n, item in enumerate(value):
                _walk(item, info.item_type, f"{path}[{n}]", found)
    elif isinstance(info, inspect.TupleType):
        if isinstance(value, list):
            for n, (item, item_type) in enumerate(zip(value, info.item_types, strict=False)):
                _walk(item, item_type, f"{path}[{n}]", found)
    elif isinstance(info, inspect.DictType) and isinstance(value, dict):
        for key, item in value.items():
            _walk(item, info.value_type, f"{path}.{key}", found)


def _union(value: Any, info: inspect.UnionType, path: str, found: list[str]) -> None:
    structs = [t for t in info.types if isinstance(t, inspect.StructType)]
    if not isinstance(value, dict) or not structs:
        for other in info.types:
            if not isinstance(other, inspect.StructType):
                _walk(value, other, path, found)
        return
    if len(structs) == 1:
        _struct(value, structs[0], path, found)
        return
    for struct in structs:
        if struct.tag_field is not None and value.get(struct.tag_field) == struct.tag:
            _struct(value, struct, path, found)
            return


def _struct(value: Any, info: inspect.StructType, path: str, found: list[str]) -> None:
    if not isinstance(value, dict):
        return
    fields = {f.encode_name: f for f in info.fields}
    for key, item in value.items():
        if key == info.tag_field:
            continue
        field = fields.get(key)
        if field is None:
            found.append(f"{path}.{key}")
            if len(found) >= MAX_REPORTED:
                return
            continue
        _walk(item, field.type, f"{path}.{key}", found)
