"""``python -m hq``: see :mod:`hq.main`."""

import sys

from hq.main import main

sys.exit(main())
