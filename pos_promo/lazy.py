"""Names a package imports the first time they are asked for (PEP 562).

Why: a till that only sells must not pay at start for the wording code
(Babel, catalogs) it may never use; the package still offers those names
as plain attributes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["on_first_use"]


def on_first_use(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: each name of ``homes`` is
    imported from the module it maps to when first asked for, then kept in
    ``namespace`` (the package's globals) as a plain attribute."""

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    return __getattr__
