"""``python -m pos_promo.cli``: the same as ``pos-promo``."""

from __future__ import annotations

from pos_promo.cli.app import main

raise SystemExit(main())
