"""The records a Spend & Save run makes (see :mod:`pos_promo.engine.spend_and_save`).

Kept in a module of their own: ``spend_and_save`` runs compiled when it is
built (see :mod:`pos_promo.native`), and mypyc, which compiles it, does not
honour a msgspec struct's class options (``frozen``, ``gc=False``): defined
here, they are the same structs whether the engine runs compiled or not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from msgspec import Struct

from pos_promo.engine.compiled import Compiled
from pos_promo.engine.units import CartView, Prices, UnitRef

__all__ = ["Fill", "Rows", "Tier", "Unit"]


class Unit(Struct, frozen=True):
    """A main unit as a run walks it: what it adds to a money threshold, the
    line units (it and its children) that take its discount, and how much
    they can take."""

    ref: UnitRef
    counted: int  # what the unit adds to a money threshold
    shared: tuple[UnitRef, ...]  # the line units that take its discount
    discountable: int


class Rows(Struct, gc=False):
    """The lines a promotion on some main lines reads: the lines whose units
    count toward its threshold, those that share its discount, its main
    lines (each as a tuple of line indexes); and how many main units.

    Valid with unique line ids and each child unit carried by one main unit
    (``spend_and_save._carried``): every unit of a main line then carries its
    children's units alike, so a total over units is a total over rows
    (see ``spend_and_save._lines_total``). One per main lines and settings,
    for the evaluation. Untracked (``gc=False``): it holds line indexes
    only. Not frozen: ``bundles`` is filled in by
    ``spend_and_save._bundles`` the first time a run finds a main unit at
    zero, which most runs (and the one run on a node's prices of a commit
    with two promotions) never do."""

    counted: tuple[int, ...]
    shared: tuple[int, ...]
    mains: tuple[int, ...]
    units: int  # main units
    whole: bool  # it counts and discounts every unit of the cart
    alike: bool  # the lines it counts are the lines that share its discount
    shares: int  # bits of the children that share its discount (side 2, modifier 8)
    # the main lines with children sharing its discount, with those children
    # when each has one unit per main unit (see spend_and_save._sharing_children), else None;
    # None until asked for
    bundles: tuple[tuple[int, tuple[int, ...] | None], ...] | None = None


class Fill(Struct, frozen=True, gc=False):
    """An outcome's allocation, worked out when read (by ``fill_on``:
    ``spend_and_save._fill_on``): one is made for every run, and most are
    never read.

    Untracked by the garbage collector, as the search's other per-run and
    per-offer callables (``offers._Promotion``): it holds the campaign, the
    cart view, prices and numbers, none of which can lead back to it."""

    fill_on: Callable[..., dict[UnitRef, int]]
    amount: int
    campaign: Compiled
    view: CartView
    prices: Prices
    mains: Sequence[int]
    only_items: bool
    free: int | None

    def __call__(self) -> dict[UnitRef, int]:
        return self.fill_on(
            self.amount,
            self.campaign,
            self.view,
            self.prices,
            self.mains,
            self.only_items,
            self.free,
        )


class Tier(Struct, frozen=True, gc=False):
    """The tier a cart meets and what it gives (a struct, made in C: one is
    made for every promotion that meets a tier, hundreds a cart with many live).

    A picked tier is told from a :class:`Miss` by ``isinstance(picked,
    Tier)``, not ``isinstance(picked, Miss)``: against a struct class (whose
    metaclass is not ``type`` itself) ``isinstance`` is quick when it holds
    and ~5x slower when it does not, so the hot paths test for what a result
    mostly is (a tier, an int, an outcome)."""

    amount: int
    tier: int  # 1-based
    capped: bool
    free: int | None  # "get Y free": how many units are free
