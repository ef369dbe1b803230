"""Set bits of the engine's masks: candidates, lines and groups are ints used
as bit sets, and both the search and the pruning before it walk them."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping

__all__ = ["items_lines", "positions"]


def positions(mask: int) -> list[int]:
    """The set bits of ``mask``, lowest first.

    A mask of at most 64 bits (the search's, a few dozen candidates) is
    shifted a byte at a time and each byte read through a table. A longer
    one (thousands of candidates) is never shifted, as that would copy it
    once per byte: with few bits set they are cleared one by one, otherwise
    its binary digits pick the places they stand at."""
    if mask.bit_length() <= 64:
        found: list[int] = []
        for at in _PLACED:  # (each byte's bits, already moved to its place)
            byte = mask & 255
            if byte:
                found += at[byte]
            mask >>= 8
            if not mask:
                break
        return found
    if mask.bit_count() <= 32:
        found = []
        while mask:
            low = mask & -mask
            found.append(low.bit_length() - 1)
            mask ^= low
        return found
    # its binary digits, lowest first, as bytes 0 and 1 that pick the places
    # they stand at: all in C (a loop over its bytes took ~3x as long at 663
    # candidates)
    flags = bin(mask)[:1:-1].encode().translate(_DIGIT_FLAGS)
    return list(itertools.compress(range(len(flags)), flags))


def items_lines(items: Collection[str], by_item: Mapping[str, int]) -> int:
    """The lines of ``items`` (``by_item``: each item's lines as a bit mask):
    walking the shorter of the two, as a campaign may leave out more items
    than a cart holds, or the other way round."""
    found = 0
    if len(items) <= len(by_item):
        for item in items:
            found |= by_item.get(item, 0)
    else:
        for item, lines in by_item.items():
            if item in items:
                found |= lines
    return found


_BYTE_BITS = tuple(tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256))
_DIGIT_FLAGS = bytes.maketrans(b"01", b"\x00\x01")
# [k][value]: the set bits of byte ``value`` at byte ``k`` of a mask of at most 64 bits
_PLACED = tuple(tuple(tuple(8 * k + bit for bit in bits) for bits in _BYTE_BITS) for k in range(8))
