"""Set bits of the engine's masks: candidates, lines and groups are ints used
as bit sets, and both the search and the pruning before it walk them."""

from __future__ import annotations

__all__ = ["positions"]


def positions(mask: int) -> list[int]:
    """The set bits of ``mask``, lowest first, read a byte at a time: with
    thousands of candidates a mask is thousands of bits long, and clearing
    its bits one by one would copy it once per bit."""
    if mask.bit_count() <= 32:
        found = []
        while mask:
            low = mask & -mask
            found.append(low.bit_length() - 1)
            mask ^= low
        return found
    data = mask.to_bytes((mask.bit_length() + 7) // 8, "little")
    found = []
    for index, byte in enumerate(data):
        if byte:
            base = index * 8
            found.extend(base + bit for bit in _BYTE_BITS[byte])
    return found


_BYTE_BITS = tuple(tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256))
