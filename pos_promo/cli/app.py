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
from pos_promo.cli.io import add_format, dispatch, emit, parse_instant, read_input
from pos_promo.codec import decode_campaigns, decode_cart, decode_member_counts, decode_store
from pos_promo.engine.evaluate import evaluate, explain
from pos_promo.engine.index import build_index
from pos_promo.errors import InvalidInput
from pos_promo.i18n import localise
from pos_promo.model.cart import Cart, StoreContext
from pos_promo.render import render_receipt, render_verdict
from pos_promo.scenario import load_scenario, run_scenario
from pos_promo.schemas import SCHEMAS, schema_json

__all__ = ["main"]


def _inputs(args: argparse.Namespace) -> tuple[Any, Cart, StoreContext]:
    """File mode: campaigns, cart and store, each named; nothing is assumed."""
    for option, value in (
        ("--campaigns", args.campaigns),
        ("--cart", args.cart),
        ("--store", args.store),
    ):
        if not value:
            raise InvalidInput(
                option,
                "is required without --db or --scenario"
                + (
                    " (the store's id, time zone, currency and organisations decide time "
                    "slots, money and store rules: none is assumed)"
                    if option == "--store"
                    else ""
                ),
            )
    campaigns = decode_campaigns(read_input(args.campaigns, "--campaigns"))
    cart = decode_cart(read_input(args.cart, "--cart"))
    store = decode_store(read_input(args.store, "--store"))
    return build_index(campaigns, store), cart, store


def _counts(args: argparse.Namespace) -> Any:
    return decode_member_counts(read_input(args.counts, "--counts")) if args.counts else None


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``pos-promo evaluate``: a cart (or a scenario) against campaign files, or against the
    till's database with ``--db``; prints the result in ``--format``."""
    if args.db:
        return cli_db.evaluate_from_db(args)
    if args.scenario:
        scenario = load_scenario(read_input(args.scenario, "--scenario"))
        if args.at:
            scenario = msgspec.structs.replace(scenario, at=parse_instant(args.at))
        result = run_scenario(scenario)
        cart = msgspec.convert(scenario.cart, Cart)
        store = scenario.store or StoreContext(cart.store_id)
        emit(localise(result, store), args.format, lambda: render_receipt(result, cart, store))
        return 0
    index, cart, store = _inputs(args)
    result = evaluate(cart, index, at=parse_instant(args.at), counts=_counts(args))
    emit(localise(result, store), args.format, lambda: render_receipt(result, cart, store))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Exactly the verdict ``evaluate`` gives the campaign, with the same inputs."""
    if args.db:
        return cli_db.explain_from_db(args)
    index, cart, store = _inputs(args)
    verdict = localise(
        explain(cart, index, args.campaign, at=parse_instant(args.at), counts=_counts(args)), store
    )
    emit(verdict, args.format, lambda: render_verdict(verdict, store))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``pos-promo demo``: what ``make demo`` shows, from the data inside the package."""
    from pos_promo import demo

    if args.format == "json":
        emit([{"cart": name, "result": result} for name, _, result in demo.evaluations()], "json")
        code = 0
    else:
        code = demo.main()
    if code or not args.sync:
        return code
    from pos_promo.sync import demo as sync_demo

    return sync_demo.main()


def cmd_schema(args: argparse.Namespace) -> int:
    """``pos-promo schema``: print one JSON Schema, or write them all (``make schema``) so
    docs/schema never drifts from the types."""
    if args.write:
        folder = Path(args.write)
        folder.mkdir(parents=True, exist_ok=True)
        for name in SCHEMAS:
            (folder / f"{name}.json").write_text(schema_json(name))
        return 0
    if not args.name:
        raise InvalidInput("schema", f"name one of {', '.join(SCHEMAS)}, or give --write DIR")
    sys.stdout.write(schema_json(args.name))  # a JSON Schema reads as JSON in either format
    return 0


def _inputs_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--campaigns", metavar="FILE", help="JSON list of campaigns (as HQ serves)")
    parser.add_argument("--cart", metavar="FILE", help="the cart, as JSON")
    parser.add_argument("--store", metavar="FILE", help="store context JSON (id, timezone, ...)")
    parser.add_argument("--counts", metavar="FILE", help="member participation counts JSON")
    parser.add_argument("--at", metavar="ISO-8601", help="the instant (default: the cart's `at`)")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line in one parser, so the README check and the uniform-options tests
    can walk every command."""
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
    add_format(demo, default="text")
    demo.set_defaults(run=cmd_demo)

    ev = sub.add_parser(
        "evaluate", help="evaluate a cart: what each benefit takes off, and why not"
    )
    _inputs_options(ev)
    ev.add_argument("--scenario", metavar="FILE", help="take every input from a scenario file")
    add_format(ev)
    ev.set_defaults(run=cmd_evaluate)

    ex = sub.add_parser("explain", help="why one campaign does or does not apply to a cart")
    _inputs_options(ex)
    ex.add_argument("--campaign", metavar="ID", required=True)
    add_format(ex)
    ex.set_defaults(run=cmd_explain)

    sc = sub.add_parser("schema", help="print the JSON Schema of a wire type")
    sc.add_argument("name", nargs="?", choices=tuple(SCHEMAS))
    sc.add_argument("--write", metavar="DIR", help="write every schema into DIR")
    add_format(sc)
    sc.set_defaults(run=cmd_schema)

    cli_db.register(sub)
    from pos_promo.sync.cli import register as register_sync  # it uses cli.io: import late

    register_sync(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``pos-promo`` entry point: parse, dispatch, return the exit code (errors become one
    line, see :func:`dispatch`)."""
    return dispatch(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
