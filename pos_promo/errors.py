"""Every error pos_promo raises, under one root so a POS can catch them all.

Each exception builds its own message from the facts it is given, so the
same mistake always reads the same way, and subclasses the builtin it is
closest to so callers that only know Python's vocabulary still catch it::

    PromoError
    ├── InvalidInput (ValueError)          a document broke a rule: path, value, rule
    │   ├── InvalidCampaign                a campaign, tier, scope or sharing setting
    │   ├── InvalidCart                    the cart being rung up
    │   └── InvalidStore                   the store context (id, time zone, currency)
    └── UnknownCampaign (LookupError)      an id that names no campaign
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "InvalidCampaign",
    "InvalidCart",
    "InvalidInput",
    "InvalidStore",
    "PromoError",
    "UnknownCampaign",
]

_MISSING = object()


class PromoError(Exception):
    """Root of every error pos_promo raises."""


class InvalidInput(PromoError, ValueError):
    """A document broke a rule.

    ``path`` is a JSON path into the document (``$.lines[2].quantity``),
    ``rule`` says what was expected and ``value`` is what was found, so the
    one-line message is enough to fix the input without reading code.
    """

    def __init__(self, path: str, rule: str, value: Any = _MISSING) -> None:
        self.path = path
        self.rule = rule
        self.value = None if value is _MISSING else value
        self.has_value = value is not _MISSING
        message = f"{path}: {rule}"
        if self.has_value:
            message += f", got {_show(value)}"
        super().__init__(message)


class InvalidCampaign(InvalidInput):
    """A campaign (or its tiers, scopes, periods or sharing) is not valid."""


class InvalidCart(InvalidInput):
    """The cart being rung up is not valid; nothing was evaluated or written."""


class InvalidStore(InvalidInput):
    """The store context (id, time zone, currency, organisations) is not valid."""


class UnknownCampaign(PromoError, LookupError):
    """An id that names no campaign known to this engine."""

    def __init__(self, campaign_id: str) -> None:
        self.campaign_id = campaign_id
        super().__init__(f"unknown campaign {campaign_id!r}")


def _show(value: Any) -> str:
    """Render a found value the way it looked in the JSON document."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
