"""``python -m daemon``: see :mod:`daemon.main`."""

import sys

from daemon.main import main

sys.exit(main())
