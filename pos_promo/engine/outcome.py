"""What one benefit gives on given prices: an outcome, or a miss and why.

Every benefit family (member price, member discount, promotions, coupons)
answers with these, so the stacking search and the report treat them alike.
"""

from __future__ import annotations

from collections.abc import Callable

from msgspec import Struct

from pos_promo.engine.units import UnitRef

__all__ = ["Miss", "Outcome"]


class Outcome:
    """What the promotion gives on these prices.

    The ``allocation`` may be handed over as a function, worked out the
    first time it is read: most outcomes only compete on their amount and
    are never applied. Treat an outcome as immutable.
    """

    __slots__ = ("_allocation", "_later", "amount", "capped", "tier")

    def __init__(
        self,
        amount: int,
        tier: int,  # 1-based
        capped: bool,
        allocation: dict[UnitRef, int] | None = None,
        *,
        later: Callable[[], dict[UnitRef, int]] | None = None,
    ) -> None:
        if allocation is None and later is None:
            raise TypeError("Outcome needs an allocation or a function that works it out")
        self.amount = amount
        self.tier = tier
        self.capped = capped
        self._allocation = allocation
        self._later = later

    @property
    def allocation(self) -> dict[UnitRef, int]:
        """Discount per unit, worked out on first use: the search compares amounts of many
        outcomes but allocates only the ones it keeps."""
        allocation = self._allocation
        if allocation is None:
            assert self._later is not None
            allocation = self._allocation = self._later()
            self._later = None
        return allocation

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Outcome):
            return NotImplemented
        return (self.amount, self.tier, self.capped, self.allocation) == (
            other.amount,
            other.tier,
            other.capped,
            other.allocation,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Outcome(amount={self.amount!r}, tier={self.tier!r}, capped={self.capped!r}, "
            f"allocation={self.allocation!r})"
        )


class Miss(Struct, frozen=True):
    """Why the promotion gives nothing on these prices.

    ``measure`` says whether ``needed``/``reached`` are money or item counts.
    """

    reason: str
    needed: int | None = None
    reached: int | None = None
    measure: str = "money"
