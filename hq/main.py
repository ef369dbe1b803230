"""``python -m hq`` / ``pos-promo-hq``: run the reference HQ until stopped.

Stores and their tokens come from ``--stores FILE`` (a JSON list of store
contexts, each with a ``token``) or ``--store ID:TOKEN[:TIME_ZONE]``;
documents from ``--catalog`` files or folders (``fixtures/`` works). Port 0
picks a free port; ``--port-file`` receives the chosen one once the server
listens, which is how tests and the demo find it. SIGTERM and SIGINT stop
it cleanly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import msgspec
from pos_promo_hq.catalog import CatalogError, load_catalog, publish
from pos_promo_hq.db import Pool
from pos_promo_hq.server import HQApp, HQServer

from pos_promo import __version__
from pos_promo.model.cart import StoreContext

__all__ = ["StoreEntry", "build_parser", "main"]

log = logging.getLogger("hq")


class StoreEntry(StoreContext, frozen=True, kw_only=True):
    """A store HQ serves: its context plus the bearer token it authenticates with."""

    token: str


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pos-promo-hq", description=__doc__.split("\n")[0])
    p.add_argument("--db", required=True, help="HQ's SQLite file (created if missing)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8750, help="0 picks a free port")
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--stores", help="JSON list of stores, each with a token")
    p.add_argument("--store", action="append", default=[], metavar="ID:TOKEN[:TZ]")
    p.add_argument("--catalog", action="append", default=[], help="campaign file or folder")
    p.add_argument("--admin-token", default=os.environ.get("POS_PROMO_HQ_ADMIN_TOKEN"))
    p.add_argument("--no-replay", action="store_true", help="skip receipt replay")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s hq %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        entries = _stores(args)
        documents = [doc for path in args.catalog for doc in load_catalog(Path(path))]
    except (OSError, ValueError, CatalogError, msgspec.MsgspecError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    pool = Pool(args.db)
    with pool.connection() as conn:
        added = publish(conn, documents, dt.datetime.now(dt.UTC))
    app = HQApp(
        pool=pool,
        stores={e.id: StoreContext(e.id, e.timezone, e.currency, e.org_ids) for e in entries},
        tokens={e.token: e.id for e in entries},
        admin_token=args.admin_token,
        replay=not args.no_replay,
    )
    server = HQServer((args.host, args.port), app)
    port = server.server_address[1]

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.port_file:
        tmp = Path(args.port_file + ".tmp")
        tmp.write_text(str(port))
        tmp.replace(args.port_file)
    log.info(
        "listening on http://%s:%d (%d store(s), %d new document(s))",
        args.host,
        port,
        len(entries),
        added,
    )
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        pool.close()
        log.info("stopped")
    return 0
