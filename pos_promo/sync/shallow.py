"""Reading the top level of a JSON object or array without decoding what is inside.

msgspec reads a :class:`msgspec.Raw` value by walking into it, recursively,
so a page holding one item nested 100,000 deep (or one item that is not
JSON at all) cannot be decoded, and one bad item would spoil its page on
every run. These functions cut a document into its top-level members or
elements as bytes, with no recursion: one regular expression (run in C)
finds the strings, runs of brackets and commas, and a loop keeps a depth counter,
so brackets and commas inside strings never count. Each piece is then
decoded on its own by the caller, and a bad one is quarantined alone.

Only the top level is checked here: a piece may itself be invalid JSON,
which its own decoding reports.
"""

from __future__ import annotations

import json
import re

__all__ = ["elements", "members"]

_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]+|[\]}]+|,', re.S)
_KEY = re.compile(rb'\s*("[^"\\]*(?:\\.[^"\\]*)*")\s*:', re.S)
_OPENING = frozenset(b"[{")
_QUOTE = ord('"')
_COMMA = ord(",")


def _pieces(data: bytes, opener: bytes) -> list[bytes]:
    """The comma-separated pieces of the one container ``data`` holds.

    A run of brackets is one token (100,000 levels are two), so the loop is
    as long as the document has strings, commas and runs, not levels.
    """
    start = len(data) - len(data.lstrip())
    if data[start : start + 1] != opener:
        raise ValueError(f"expected a JSON {'object' if opener == b'{' else 'array'}")
    depth = 0
    begin = start + 1
    pieces: list[bytes] = []
    for match in _TOKEN.finditer(data, start):
        first = data[match.start()]
        if first == _QUOTE:
            continue
        if first == _COMMA:
            if depth == 1:  # between two pieces of this container
                pieces.append(data[begin : match.start()].strip())
                begin = match.end()
            continue
        run = match.end() - match.start()
        if first in _OPENING:
            depth += run
        elif run < depth:
            depth -= run
        else:  # this run closes the container, at its depth-th bracket
            end = match.start() + depth
            pieces.append(data[begin : end - 1].strip())
            if data[end:].strip():
                raise ValueError("trailing characters after the JSON value")
            break
    else:
        raise ValueError("the JSON value ends too early")
    if pieces == [b""]:
        return []  # an empty container
    if b"" in pieces:
        raise ValueError("an empty value between commas")
    return pieces


def elements(data: bytes) -> list[bytes]:
    """The elements of the JSON array ``data``, each as its own bytes.

    Raises :class:`ValueError` when ``data`` is not one array.
    """
    return _pieces(data, b"[")


def members(data: bytes) -> dict[str, bytes]:
    """The members of the JSON object ``data``: each key and its value's bytes
    (a repeated key: the last one, as JSON decoders do).

    Raises :class:`ValueError` when ``data`` is not one object.
    """
    found: dict[str, bytes] = {}
    for piece in _pieces(data, b"{"):
        key = _KEY.match(piece)
        if key is None:
            raise ValueError("an object member without a string key")
        value = piece[key.end() :].strip()
        if not value:
            raise ValueError("an object member without a value")
        found[json.loads(key.group(1))] = value
    return found
