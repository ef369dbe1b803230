"""``python -m daemon``: see :mod:`daemon.main`."""

import sys

from pos_promo_daemon.main import main

sys.exit(main())
