"""Cutting a JSON container at its top level, with no recursion."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos_promo.sync.shallow import elements, members

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{},:"\\ab\n é'),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=20,
)


def test_elements_and_members_keep_each_value_as_its_bytes() -> None:
    assert elements(b' [1, [2,3], {"a":[[]]}, "x,]" ] ') == [
        b"1",
        b"[2,3]",
        b'{"a":[[]]}',
        b'"x,]"',
    ]
    assert elements(b"[]") == []
    assert elements(b"[[[[]]]]") == [b"[[[]]]"]
    assert members(b'{"a": [[1]], "b": {"c": "}"}, "a": 2}') == {"a": b"2", "b": b'{"c": "}"}'}


def test_a_value_100000_deep_is_one_piece() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert elements(b"[1, " + deep + b", 3]") == [b"1", deep, b"3"]
    assert members(b'{"x": ' + deep + b"}") == {"x": deep}


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"[1,]", "an empty value between commas"),
        (b"[1", "the JSON value ends too early"),
        (b"[1]]", "trailing characters after the JSON value"),
        (b"[1] x", "trailing characters after the JSON value"),
        (b"{1: 2}", "an object member without a string key"),
        (b'{"a": }', "an object member without a value"),
        (b"x", "expected a JSON array"),
    ],
)
def test_what_is_not_one_container_is_a_value_error(data: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        members(data) if data.startswith(b"{") else elements(data)


@settings(max_examples=200, deadline=None)
@given(value=st.lists(json_values, max_size=6), indent=st.sampled_from([None, 1]))
def test_each_element_decodes_to_the_value_it_was(value: list[Any], indent: int | None) -> None:
    data = json.dumps(value, indent=indent).encode()
    assert [json.loads(piece) for piece in elements(data)] == value


@settings(max_examples=200, deadline=None)
@given(value=st.dictionaries(st.text(alphabet='[]{},:"\\ab'), json_values, max_size=6))
def test_each_member_decodes_to_the_value_it_was(value: dict[str, Any]) -> None:
    data = json.dumps(value).encode()
    assert {key: json.loads(piece) for key, piece in members(data).items()} == value
