"""``pos-promo --db PATH status`` and ``requeue``: sync, seen from the till.

Wired into :mod:`pos_promo.cli` through :func:`register`.

- ``status``: JSON by default, like every ``pos-promo`` command;
  ``--format text`` for a person; ``--check`` exits 1 when something needs a
  person (a stopped job, a dead letter, a quarantined document, a backlog
  too old, a job failing or without success for too long; see
  :mod:`pos_promo.sync.status`), naming each reason on stderr.
- ``requeue EVENT_ID... | --all``: put dead letters back in the outbox once
  the cause was fixed at HQ; the daemon pushes them at its next run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pos_promo.cli.io import add_format, emit
from pos_promo.errors import InvalidInput, StoreError
from pos_promo.sync.local import open_database
from pos_promo.sync.outbox import requeue_dead
from pos_promo.sync.status import read_status, render_status

__all__ = ["cmd_requeue", "cmd_status", "register"]


def cmd_status(args: argparse.Namespace) -> int:
    """``pos-promo sync status``: what the daemon last did and what needs attention; ``--check``
    exits 1 if anything does, for monitoring."""
    if not getattr(args, "db", None):
        raise InvalidInput("--db", "is required: name the till's database file")
    status = read_status(args.db)
    emit(status, args.format, lambda: render_status(status))
    if args.check and status.attention:
        for line in status.attention:
            sys.stderr.write(f"attention: {line}\n")
        return 1
    return 0


def cmd_requeue(args: argparse.Namespace) -> int:
    """``pos-promo sync requeue``: send dead-lettered events again after the cause was fixed at
    HQ."""
    if not getattr(args, "db", None):
        raise InvalidInput("--db", "is required: name the till's database file")
    if not args.event_ids and not args.all:
        raise InvalidInput("EVENT_ID", "name at least one dead letter, or pass --all")
    if not Path(args.db).is_file():
        raise StoreError(args.db, "no such database file")
    conn = open_database(args.db)
    try:
        ids = list(args.event_ids)
        if args.all:
            ids = [i for (i,) in conn.execute("SELECT event_id FROM sync_dead_letters")]
        requeued = requeue_dead(conn, ids)
    finally:
        conn.close()
    emit({"requeued": requeued}, args.format)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``status`` and ``requeue`` to the ``pos-promo`` command line."""
    status = subparsers.add_parser(
        "status",
        help="sync status: last successful sync of each kind, backlog, dead letters, quarantine",
    )
    add_format(status)
    status.add_argument(
        "--check", action="store_true", help="exit 1 when something needs attention"
    )
    status.set_defaults(run=cmd_status)
    requeue = subparsers.add_parser(
        "requeue", help="put dead letters (events HQ rejected) back in the outbox"
    )
    requeue.add_argument("event_ids", nargs="*", metavar="EVENT_ID")
    requeue.add_argument("--all", action="store_true", help="every dead letter")
    add_format(requeue)
    requeue.set_defaults(run=cmd_requeue)
