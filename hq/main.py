"""``python -m pos_promo_hq`` / ``pos-promo-hq``: run the reference HQ until stopped.

``--database`` (alias ``--db``) is a SQLite file (created 0600 if missing)
or a ``postgresql://`` URL; its schema is migrated at start. Stores and
their tokens come from ``--stores FILE`` (a JSON list of store contexts,
each with a ``token``) or ``--store ID:TOKEN[:TIME_ZONE]``; documents from
``--catalog`` files or folders (``fixtures/`` works). The admin token is
read from ``--admin-token-file`` (readable by its owner only) or the
environment variable ``POS_PROMO_HQ_ADMIN_TOKEN``, never from the command
line, where ``ps`` would show it. Port 0 picks a free port; ``--port-file``
receives the chosen one once the server listens, which is how tests and
the demo find it. SIGTERM and SIGINT stop it cleanly.

It serves under gunicorn (:mod:`hq.serving`): ``--workers`` processes of
``--threads`` threads each; the main process migrates the database and
publishes the catalog before it starts them.

Exit codes: 0 stopped cleanly; 2 bad arguments or an unreadable input file
(stores, catalog, admin token); 3 the address is in use or cannot be
listened on; 4 the database cannot be opened or migrated; 5 a worker could
not start (gunicorn gave up; the log says why). Each failure is one line on
standard error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import msgspec
from pos_promo_hq.catalog import CatalogError, load_catalog, publish
from pos_promo_hq.db import DatabaseError, is_postgres_url, open_database
from pos_promo_hq.server import HQApp
from pos_promo_hq.serving import ServerOptions, serve

from pos_promo import __version__
from pos_promo.model.cart import StoreContext

__all__ = ["ADMIN_TOKEN_ENV", "StoreEntry", "build_parser", "main", "read_admin_token"]

log = logging.getLogger("hq")
ADMIN_TOKEN_ENV = "POS_PROMO_HQ_ADMIN_TOKEN"


class StoreEntry(StoreContext, frozen=True, kw_only=True):
    """A store HQ serves: its context plus the bearer token it authenticates with."""

    token: str


def build_parser() -> argparse.ArgumentParser:
    """HQ's command line; separate from :func:`main` so tests and the README check can read its
    options."""
    p = argparse.ArgumentParser(
        prog="pos-promo-hq", description=__doc__.split("\n")[0], allow_abbrev=False
    )
    p.add_argument(
        "--database",
        "--db",
        dest="database",
        required=True,
        help="a SQLite file (created if missing) or a postgresql:// URL",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8750, help="0 picks a free port")
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--stores", help="JSON list of stores, each with a token")
    p.add_argument("--store", action="append", default=[], metavar="ID:TOKEN[:TZ]")
    p.add_argument("--catalog", action="append", default=[], help="campaign file or folder")
    p.add_argument(
        "--admin-token-file",
        help=f"file holding the admin token (owner-only); default: ${ADMIN_TOKEN_ENV}",
    )
    p.add_argument("--no-replay", action="store_true", help="skip receipt replay")
    p.add_argument(
        "--replay-interval",
        type=float,
        default=0.5,
        help="seconds between looks at the replay queue for orders other HQ processes queued",
    )
    p.add_argument("--workers", type=_positive, default=1, help="worker processes (default 1)")
    p.add_argument("--threads", type=_positive, default=8, help="threads per worker (default 8)")
    p.add_argument(
        "--keepalive",
        type=_positive,
        default=5,
        help="seconds an idle kept-alive connection stays open (default 5)",
    )
    p.add_argument(
        "--graceful-timeout",
        type=_positive,
        default=10,
        help="seconds a stopping worker may finish its requests (default 10)",
    )
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _stores(args: argparse.Namespace) -> list[StoreEntry]:
    entries: list[StoreEntry] = []
    if args.stores:
        data = Path(args.stores).read_bytes()
        entries.extend(msgspec.json.decode(data, type=list[StoreEntry]))
    for spec in args.store:
        parts = spec.split(":")
        if len(parts) < 2:
            raise ValueError(f"--store {spec!r}: expected ID:TOKEN[:TIME_ZONE]")
        tz = parts[2] if len(parts) > 2 else "UTC"
        entries.append(StoreEntry(id=parts[0], token=parts[1], timezone=tz))
    return entries


def read_admin_token(path: str | None) -> str | None:
    """The admin token from ``path`` (refused when group or others may read it),
    else from the environment; ``None``: the admin endpoints stay shut."""
    if path is None:
        return os.environ.get(ADMIN_TOKEN_ENV) or None
    file = Path(path)
    try:
        mode = file.stat().st_mode
        if mode & 0o077:
            raise ValueError(
                f"admin token file {file} is readable by group or others "
                f"(mode {mode & 0o777:o}); run: chmod 600 {file}"
            )
        token = file.read_text().strip()
    except OSError as exc:
        raise ValueError(f"cannot read admin token file {file}: {exc.strerror}") from None
    if not token:
        raise ValueError(f"admin token file {file} is empty")
    return token


def main(argv: Sequence[str] | None = None) -> int:
    """Run HQ (or one of its one-shot commands) and return the exit code; errors an operator can
    fix are one line, never a traceback."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s hq %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        entries = _stores(args)
        documents = [doc for path in args.catalog for doc in load_catalog(Path(path))]
        admin_token = read_admin_token(args.admin_token_file)
    except (OSError, ValueError, CatalogError, msgspec.MsgspecError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    try:
        pool = open_database(args.database, size=1)  # migrated here, once, before any worker
    except DatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    try:
        with pool.connection() as conn:
            added = publish(conn, documents, dt.datetime.now(dt.UTC))
    finally:
        pool.close()  # each worker opens its own connections
    if not is_postgres_url(args.database):
        # closing the last connection removed the WAL and SHM files: made again
        # now, owner-only, as opening with no connection makes them
        open_database(args.database, size=0, migrate=False).close()
    try:  # say so in one line now, rather than let gunicorn retry and log
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((args.host, args.port))
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 3
    app = HQApp(
        database=args.database,
        stores={e.id: StoreContext(e.id, e.timezone, e.currency, e.org_ids) for e in entries},
        tokens={e.token: e.id for e in entries},
        admin_token=admin_token,
        replay=not args.no_replay,
        replay_interval=args.replay_interval,
        pool_size=args.threads,
    )
    log.info(
        "serving %d store(s) with %d worker(s) x %d thread(s), %d new document(s)",
        len(entries),
        args.workers,
        args.threads,
        added,
    )
    try:
        status = serve(
            app,
            ServerOptions(
                host=args.host,
                port=args.port,
                workers=args.workers,
                threads=args.threads,
                keepalive=args.keepalive,
                graceful_timeout=args.graceful_timeout,
                port_file=args.port_file,
                verbose=args.verbose,
            ),
        )
    finally:
        app.faults.remove()
        log.info("stopped")
    return 0 if status == 0 else 5


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
