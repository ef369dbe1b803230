"""``python -m hq``: see :mod:`hq.main`."""

import sys

from pos_promo_hq.main import main

sys.exit(main())
