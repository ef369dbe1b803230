"""The set bits of the engine's masks, whatever their length and density
(hypothesis): the search reads every candidate and line set through them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pos_promo.engine.masks import items_lines, positions


@given(st.sets(st.integers(min_value=0, max_value=3_000)))
def test_positions_are_the_set_bits_lowest_first(bits: set[int]) -> None:
    mask = sum(1 << bit for bit in bits)
    assert positions(mask) == sorted(bits)


@given(st.sets(st.integers(min_value=0, max_value=200), max_size=3))
def test_positions_of_short_masks_sparse_or_dense(holes: set[int]) -> None:
    # every bit of a word or of three words set but a few: the lengths at
    # which positions() changes how it reads a mask
    for length in (1, 8, 63, 64, 65, 200):
        mask = ((1 << length) - 1) & ~sum(1 << hole for hole in holes)
        assert positions(mask) == [bit for bit in range(length) if bit not in holes]


def test_positions_by_hand() -> None:
    assert positions(0) == []
    assert positions(0b1011_0001) == [0, 4, 5, 7]
    assert positions(1 << 64 | 1 << 8 | 1) == [0, 8, 64]


def test_items_lines_walks_either_side() -> None:
    by_item = {"a": 0b001, "b": 0b010, "c": 0b100}
    assert items_lines({"a", "c", "z"}, by_item) == 0b101
    assert items_lines({"a", "b", "c", "x", "y", "z"}, by_item) == 0b111
