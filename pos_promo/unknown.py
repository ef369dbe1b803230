"""Fields a document carries that its wire type does not know.

Documents stay forward compatible: a field a newer HQ adds is ignored by the
decoders, not refused. But a field nobody knows is just as often a mistake
(HQ misspelling ``per_member_daily`` as ``per_member_per_day`` disables the
limit without a word), so every entry that imports documents lists them:
:meth:`pos_promo.embedded.Engine.import_campaigns` in its report, the sync
side in its quarantine view and log (it calls :func:`unknown_fields` on each
document it applies).

The walk follows the type's own description (``msgspec.inspect``), so it
knows tagged unions (``kind``, ``type``) and nested lists and maps without a
second copy of the schema.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import msgspec
import msgspec.inspect as mi

from pos_promo.codec import too_deep
from pos_promo.limits import MAX_DOCUMENT_BYTES, MAX_JSON_DEPTH

__all__ = ["unknown_fields"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@functools.cache
def _info(kind: Any) -> mi.Type:
    return mi.type_info(kind)


def unknown_fields(document: bytes | str | Any, kind: Any) -> list[str]:
    """JSON paths of every field in ``document`` that ``kind`` does not know.

    ``document`` is JSON (bytes or str) or already-parsed JSON (dicts and
    lists); ``kind`` a wire type such as ``Cart``, ``list[Campaign]`` or
    ``Catalog``. Paths are in document order (``$[0].limits.per_member_per_day``).
    A document that is not JSON, is too large or too deep has no listable
    fields (its decoder refuses it): the answer is then ``[]``.
    """
    if isinstance(document, bytes | str):
        if len(document) > MAX_DOCUMENT_BYTES or too_deep(document):
            return []
        try:
            document = msgspec.json.decode(document)
        except (msgspec.DecodeError, RecursionError):
            return []
    found: list[str] = []
    _walk(document, _info(kind), "$", found, 0)
    return found


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if _NAME.match(key) else f"{path}[{msgspec.json.encode(key).decode()}]"


def _walk(node: Any, info: mi.Type, path: str, found: list[str], depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        return
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):
        chosen = _choose(node, info)
        if chosen is not None:
            _walk(node, chosen, path, found, depth)
        return
    if isinstance(info, mi.StructType) and isinstance(node, dict):
        fields = {f.encode_name: f.type for f in info.fields}
        for key, value in node.items():
            if key in fields:
                _walk(value, fields[key], _key(path, key), found, depth + 1)
            elif key != info.tag_field:
                found.append(_key(path, key))
        return
    if isinstance(info, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        if isinstance(node, list):
            for index, item in enumerate(node):
                _walk(item, info.item_type, f"{path}[{index}]", found, depth + 1)
        return
    if isinstance(info, mi.TupleType) and isinstance(node, list):
        for index, (item, item_info) in enumerate(zip(node, info.item_types, strict=False)):
            _walk(item, item_info, f"{path}[{index}]", found, depth + 1)
        return
    if isinstance(info, mi.DictType) and isinstance(node, dict):
        for key, value in node.items():
            _walk(value, info.value_type, _key(path, str(key)), found, depth + 1)


def _choose(node: Any, union: mi.UnionType) -> mi.Type | None:
    """The member of ``union`` that ``node`` decodes as (``None``: no struct to walk)."""
    members = [t.type if isinstance(t, mi.Metadata) else t for t in union.types]
    if isinstance(node, dict):
        structs = [t for t in members if isinstance(t, mi.StructType)]
        for struct in structs:
            if struct.tag_field is not None and node.get(struct.tag_field) == struct.tag:
                return struct
        untagged = [t for t in structs if t.tag_field is None]
        dicts = [t for t in members if isinstance(t, mi.DictType)]
        return (untagged or dicts or [None])[0]
    if isinstance(node, list):
        arrays = (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType, mi.TupleType)
        return next((t for t in members if isinstance(t, arrays)), None)
    return None
