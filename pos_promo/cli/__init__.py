"""The ``pos-promo`` command: one package for the whole command line.

``app`` builds the parser and runs file-mode commands, ``db`` the commands
that work on a till database (``--db``), ``gifts`` the gift views, ``io``
reading inputs and printing outputs the same way for every command.
"""

from __future__ import annotations

from pos_promo.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
