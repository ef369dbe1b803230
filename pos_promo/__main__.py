"""``python -m pos_promo`` is ``pos-promo``."""

import sys

from pos_promo.cli import main

sys.exit(main())
