"""``pos-promo --db PATH status``: the sync status of a till's database.

Wired into :mod:`pos_promo.cli` through :func:`register`. JSON by default,
like every ``pos-promo`` command; ``--format text`` for a person; ``--check``
exits 1 when something needs a person (a stopped job, a dead letter, a
quarantined document), for monitoring scripts.
"""

from __future__ import annotations

import argparse
import sys

import msgspec

from pos_promo.errors import InvalidInput
from pos_promo.sync.status import read_status, render_status

__all__ = ["cmd_status", "register"]


def cmd_status(args: argparse.Namespace) -> int:
    if not getattr(args, "db", None):
        raise InvalidInput("--db", "is required: name the till's database file")
    status = read_status(args.db)
    if args.format == "text":
        sys.stdout.write(render_status(status))
    else:
        encoded = msgspec.json.format(msgspec.json.encode(status), indent=2)
        sys.stdout.write(encoded.decode() + "\n")
    return 1 if args.check and status.attention else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``status`` to the ``pos-promo`` command line."""
    status = subparsers.add_parser(
        "status",
        help="sync status: last successful sync of each kind, backlog, dead letters, quarantine",
    )
    status.add_argument("--format", choices=("json", "text"), default="json")
    status.add_argument(
        "--check", action="store_true", help="exit 1 when something needs attention"
    )
    status.set_defaults(run=cmd_status)
