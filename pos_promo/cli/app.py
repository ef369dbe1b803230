"""``pos-promo``: evaluate carts and explain campaigns from the shell.

Every command prints JSON by default (a POS vendor's scripts read it) and
exits 2 with a one-line ``error: <path>: <rule>, got <value>`` on bad input,
never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from pos_promo import __version__
from pos_promo.cli import db as cli_db
from pos_promo.cli.io import dispatch, emit_json, parse_instant, read_input
from pos_promo.codec import decode_campaigns, decode_cart, decode_member_counts, decode_store
from pos_promo.engine.evaluate import evaluate, explain
from pos_promo.engine.index import build_index
from pos_promo.errors import InvalidInput
from pos_promo.i18n import localise
from pos_promo.model.cart import Cart, StoreContext
from pos_promo.model.result import EvaluationResult
from pos_promo.render import render_receipt
from pos_promo.scenario import load_scenario, run_scenario
from pos_promo.schemas import SCHEMAS, schema_json
from pos_promo.sync.cli import register as register_sync

__all__ = ["main"]


def _emit(obj: Any, cart: Cart | None, fmt: str, store: StoreContext) -> None:
    """A result as a receipt or as JSON, its sentences in the store's language."""
    if fmt == "text" and isinstance(obj, EvaluationResult):
        sys.stdout.write(render_receipt(obj, cart, store))
        return
    emit_json(localise(obj, store))


def _inputs(args: argparse.Namespace) -> tuple[Any, Cart, StoreContext]:
    if not args.campaigns or not args.cart:
        raise InvalidInput("--campaigns", "and --cart are required without --scenario")
    campaigns = decode_campaigns(read_input(args.campaigns, "--campaigns"))
    cart = decode_cart(read_input(args.cart, "--cart"))
    store = (
        decode_store(read_input(args.store, "--store"))
        if args.store
        else StoreContext(cart.store_id)
    )
    return build_index(campaigns, store), cart, store


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.db:
        return cli_db.evaluate_from_db(args)
    if args.scenario:
        scenario = load_scenario(args.scenario)
        if args.at:
            scenario = msgspec.structs.replace(scenario, at=parse_instant(args.at))
        result = run_scenario(scenario)
        cart = msgspec.convert(scenario.cart, Cart)
        _emit(result, cart, args.format, scenario.store or StoreContext(cart.store_id))
        return 0
    index, cart, store = _inputs(args)
    counts = decode_member_counts(read_input(args.counts, "--counts")) if args.counts else None
    result = evaluate(cart, index, at=parse_instant(args.at), counts=counts)
    _emit(result, cart, args.format, store)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    index, cart, store = _inputs(args)
    counts = decode_member_counts(read_input(args.counts, "--counts")) if args.counts else None
    _emit(
        explain(cart, index, args.campaign, at=parse_instant(args.at), counts=counts),
        cart,
        "json",
        store,
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``pos-promo demo``: what ``make demo`` shows, from the data inside the package."""
    from pos_promo import demo

    code = demo.main()
    if code or not args.sync:
        return code
    from pos_promo.sync import demo as sync_demo

    return sync_demo.main()


def cmd_schema(args: argparse.Namespace) -> int:
    if args.write:
        folder = Path(args.write)
        folder.mkdir(parents=True, exist_ok=True)
        for name in SCHEMAS:
            (folder / f"{name}.json").write_text(schema_json(name))
        return 0
    if not args.name:
        raise InvalidInput("schema", f"name one of {', '.join(SCHEMAS)}, or give --write DIR")
    sys.stdout.write(schema_json(args.name))
    return 0


def _inputs_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--campaigns", metavar="FILE", help="JSON list of campaigns (as HQ serves)")
    parser.add_argument("--cart", metavar="FILE", help="the cart, as JSON")
    parser.add_argument("--store", metavar="FILE", help="store context JSON (id, timezone, ...)")
    parser.add_argument("--counts", metavar="FILE", help="member participation counts JSON")
    parser.add_argument("--at", metavar="ISO-8601", help="the instant (default: the cart's `at`)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pos-promo", description="Offline promotion engine for restaurant POS."
    )
    parser.add_argument("--db", metavar="PATH", help="the till's SQLite database")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser(
        "demo", help="receipts for the sample carts (shipped in the package), in any folder"
    )
    demo.add_argument(
        "--sync",
        action="store_true",
        help="then the offline-then-reconnect story with a reference HQ and two daemons",
    )
    demo.set_defaults(run=cmd_demo)

    ev = sub.add_parser(
        "evaluate", help="evaluate a cart: what each benefit takes off, and why not"
    )
    _inputs_options(ev)
    ev.add_argument("--scenario", metavar="FILE", help="take every input from a scenario file")
    ev.add_argument("--format", choices=("json", "text"), default="json")
    ev.set_defaults(run=cmd_evaluate)

    ex = sub.add_parser("explain", help="why one campaign does or does not apply to a cart")
    _inputs_options(ex)
    ex.add_argument("--campaign", metavar="ID", required=True)
    ex.set_defaults(run=cmd_explain)

    sc = sub.add_parser("schema", help="print the JSON Schema of a wire type")
    sc.add_argument("name", nargs="?", choices=tuple(SCHEMAS))
    sc.add_argument("--write", metavar="DIR", help="write every schema into DIR")
    sc.set_defaults(run=cmd_schema)

    cli_db.register(sub)
    register_sync(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return dispatch(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
