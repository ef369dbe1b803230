"""Money arithmetic in integer minor units: splitting, percentages, display."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["format_money", "percent_of", "split"]

_SYMBOLS = {
    "USD": "$",
    "CAD": "$",
    "AUD": "$",
    "SGD": "$",
    "HKD": "$",
    "EUR": "€",
    "GBP": "£",
    "CNY": "¥",
    "JPY": "¥",
}
_DIGITS = {"JPY": 0, "KRW": 0, "VND": 0, "KWD": 3, "BHD": 3}


def split(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` over ``weights`` by largest remainder.

    Shares add up to ``amount`` exactly. Ties in the remainder go to the
    earliest weight, so callers pass weights in application order. When
    ``amount <= sum(weights)`` no share exceeds its weight, which is what
    keeps every line at or above zero.
    """
    total = sum(weights)
    if amount == 0 or total == 0:
        return [0] * len(weights)
    products = [amount * w for w in weights]
    shares = [p // total for p in products]
    left = amount - sum(shares)
    if left:
        # by remainder, largest first, then by place: one int per weight
        # ((total - remainder) * n + place), which sorts without a key function
        n = len(products)
        ranked = sorted([(total - p % total) * n + i for i, p in enumerate(products)])
        for key in ranked[:left]:
            shares[key % n] += 1
    return shares


def percent_of(amount: int, basis_points: int) -> int:
    """``amount`` x ``basis_points`` / 10 000, rounded half up to the minor unit."""
    return (amount * basis_points + 5_000) // 10_000


def format_money(amount: int, currency: str = "USD") -> str:
    """``8500`` in USD reads ``$85.00``; unknown currencies show their code.

    One fixed, English way for logs and reports; what a cashier reads is
    written by :func:`pos_promo.i18n.words_for` (CLDR, the store's locale)."""
    digits = _DIGITS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**digits)
    text = f"{whole:,}" + (f".{part:0{digits}d}" if digits else "")
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"
