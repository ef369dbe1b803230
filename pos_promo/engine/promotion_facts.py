"""What the engine's compiled code reads of a Spend & Save campaign, as one
compiled class.

A compiled campaign (:class:`~pos_promo.engine.compiled.Compiled`) is a
msgspec struct: compiled code reads each of its fields through a generic
attribute look-up (~200 instructions), while the same read of a class
compiled with it is a load at a fixed place. The qualifying pass reads a
dozen of them of every campaign a cart reaches, and every run reads the
tiers, so the numbers and names those read are kept here, worked out once
when the campaign is compiled for the store (see
``compiled.compile_campaign``); ``pos_promo.native`` builds this module
with the others.
"""

from __future__ import annotations

__all__ = ["PromotionFacts"]


class PromotionFacts:
    """A Spend & Save campaign's facts as one store sees them, the ones read
    on every evaluation: its names, what its tiers count and give, its side
    and modifier settings, its audience class. Never changed once its
    index has filed it (the audience class is set then, see
    ``index._file``)."""

    def __init__(
        self,
        *,
        campaign_id: str,
        kind: str,
        name: str,
        plan: str | None,
        all_items: bool,
        excludes: bool,
        auto_apply: bool,
        cap: int,
        child_bits: int,
        most: int,
        measure: int,
        thresholds: tuple[int, ...],
        values: tuple[int, ...],
        floor: int,
        reads_before: bool,
    ) -> None:
        # copies of the campaign's own (read for every campaign a cart reaches)
        self.id = campaign_id
        self.kind = kind
        self.name = name
        # the sharing plan it names, when its stacking rules were not
        # resolved when compiled (a plan's settings arrive with each evaluation)
        self.plan = plan
        self.all_items = all_items  # its items are every item
        self.excludes = excludes  # ... but some left out
        self.auto_apply = auto_apply
        self.cap = cap  # the order maximum (-1: none)
        self.child_bits = child_bits  # its side and modifier settings (see compiled.child_bits)
        # the most it can give on any cart: its largest tier saving, capped
        # (-1: not known without the cart, for "buy X get Y free")
        self.most = most
        # the rule's tiers as numbers (see compiled.tier_table)
        self.measure = measure
        self.thresholds = thresholds
        self.values = values
        self.floor = floor  # the lowest threshold: below it no tier is met
        # whether the most it can give after others depends on what they
        # take off (see spend_and_save.upper_bound): "buy X get Y free", or
        # tiers that save less as they rise
        self.reads_before = reads_before
        # its audience class in the index it is filed in (see
        # index.audience_class; -1: none, as with participation limits: its
        # verdict is its own)
        self.audience = -1

    def _fields(self) -> tuple[object, ...]:
        return (
            self.id,
            self.kind,
            self.name,
            self.plan,
            self.all_items,
            self.excludes,
            self.auto_apply,
            self.cap,
            self.child_bits,
            self.most,
            self.measure,
            self.thresholds,
            self.values,
            self.floor,
            self.reads_before,
            self.audience,
        )

    def __eq__(self, other: object) -> bool:
        """Equal field by field, as the compiled campaign holding it is."""
        if not isinstance(other, PromotionFacts):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"PromotionFacts{self._fields()!r}"
