"""JSON decoders built the first time they decode, not when their module loads.

Building a msgspec decoder resolves the annotations of every struct the type
reaches (an order record reaches the result, the receipt, the cart, the
payments and the refunds): tens of milliseconds for the whole model. A till
that restarts to sell decodes campaigns and carts, not stored orders,
catalogs or refund records, so the decoders of those are built on first use.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

__all__ = ["LazyDecoder"]

T = TypeVar("T")


class LazyDecoder(Generic[T]):
    """A ``msgspec.json.Decoder`` of ``kind``, built on the first call."""

    __slots__ = ("_built", "_kind")

    def __init__(self, kind: type[T] | Any) -> None:
        self._kind = kind
        self._built: msgspec.json.Decoder[T] | None = None

    @property
    def decoder(self) -> msgspec.json.Decoder[T]:
        """The decoder itself (two threads racing both build an equal one)."""
        built = self._built
        if built is None:
            built = self._built = msgspec.json.Decoder(self._kind)
        return built

    def decode(self, data: bytes | str) -> T:
        """Decode ``data`` as ``kind``; msgspec's errors as it raises them."""
        return self.decoder.decode(data)
