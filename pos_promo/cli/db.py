"""``pos-promo --db PATH ...``: the till database from the shell.

:func:`register` adds the database commands to the ``pos-promo`` parser:
``campaigns import|list|show``, ``coupons add``, ``wallet``, ``commit``,
``refund``, ``orders show``, ``report``, ``outbox``, and (from
:mod:`pos_promo.cli.gifts`) ``member show`` and ``gifts release``.
``evaluate`` already exists there; with ``--db`` it should call
:func:`evaluate_from_db`. Each command reads the
database from the global ``--db`` and the store from ``--store FILE`` (a
StoreContext JSON), defaulting to the store the database recorded.

Every command takes ``--format text|json`` (JSON, indented, by default);
``evaluate`` and ``explain`` take every option file mode takes (``--at``,
``--counts``, ``--store``), and refuse the file-mode inputs the database
replaces (``--campaigns``, ``--scenario``) by name. An unknown member or
order is a one-line error. Errors are :class:`PromoError`\\ s, which the
``pos-promo`` entry point prints as one ``error: ...`` line and exit code 2.
This module is the shell's edge, so it may read the clock: it stamps imports
and refunds with the current time (``--at`` overrides a refund's).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence

from pos_promo.cli import gifts as cli_gifts
from pos_promo.cli.io import add_format, dispatch, emit, parse_instant, read_input
from pos_promo.cli.text import table
from pos_promo.codec import decode_cart, decode_member_counts, decode_store
from pos_promo.doors import accept_payments
from pos_promo.embedded import Engine
from pos_promo.engine.money import format_money
from pos_promo.errors import InvalidInput, UnknownMember
from pos_promo.i18n import localise
from pos_promo.model.cart import Cart, MemberCounts, StoreContext
from pos_promo.model.order import CampaignMetrics
from pos_promo.render import render_receipt, render_verdict

__all__ = [
    "evaluate_from_db",
    "explain_from_db",
    "known_member",
    "main",
    "register",
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _store(args: argparse.Namespace) -> StoreContext | None:
    path = getattr(args, "store", None)
    return decode_store(read_input(path, "--store")) if path else None


def _open(args: argparse.Namespace) -> Engine:
    if not getattr(args, "db", None):
        raise InvalidInput("--db", "is required: name the till's database file")
    return Engine.open(args.db, _store(args))


def known_member(engine: Engine, member_id: str) -> str:
    """``member_id`` if the till holds anything about it; else one ``UnknownMember`` line."""
    if not engine.knows_member(member_id):
        raise UnknownMember(member_id)
    return member_id


def _campaigns_import(args: argparse.Namespace) -> int:
    payload = read_input(args.file, "FILE")
    with _open(args) as engine:
        report = engine.import_campaigns(payload, at=_now())
        emit(report, args.format)
    _warn_unknown(report.unknown_fields)
    return 0


def _warn_unknown(paths: Sequence[str]) -> None:
    """One line per field no wire type knows: imported anyway, but said aloud."""
    for path in paths:
        print(f"warning: {path}: unknown field, ignored", file=sys.stderr)


def _coupons_add(args: argparse.Namespace) -> int:
    payload = read_input(args.file, "FILE")
    with _open(args) as engine:
        report = engine.add_coupons(payload, source=args.source, at=_now())
        emit(report, args.format)
    _warn_unknown(report.unknown_fields)
    return 0


def _wallet(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        emit(engine.wallet(known_member(engine, args.member_id)), args.format)
    return 0


def _campaigns_list(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        emit(engine.campaigns(), args.format)
    return 0


def _campaigns_show(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        emit(engine.campaign(args.id), args.format)
    return 0


def _refused_with_db(args: argparse.Namespace) -> None:
    """File-mode inputs the database replaces are refused by name, not ignored."""
    for option, attr in (("--campaigns", "campaigns"), ("--scenario", "scenario")):
        if getattr(args, attr, None):
            raise InvalidInput(
                option,
                "cannot be used with --db: the database's campaign cache is used "
                "(import the file first: pos-promo --db PATH campaigns import FILE)",
            )


def _cart_and_counts(args: argparse.Namespace) -> tuple[Cart, MemberCounts | None]:
    _refused_with_db(args)
    if not getattr(args, "cart", None):
        raise InvalidInput("--cart", "is required: the cart, as JSON")
    cart = decode_cart(read_input(args.cart, "--cart"))
    counts_file = getattr(args, "counts", None)
    counts = decode_member_counts(read_input(counts_file, "--counts")) if counts_file else None
    return cart, counts


def evaluate_from_db(args: argparse.Namespace) -> int:
    """``pos-promo --db PATH evaluate --cart FILE [--at ISO] [--counts FILE] [--format F]``."""
    cart, counts = _cart_and_counts(args)
    with _open(args) as engine:
        result = engine.evaluate(cart, at=parse_instant(getattr(args, "at", None)), counts=counts)
        emit(
            localise(result, engine.store),
            args.format,
            lambda: render_receipt(result, cart, engine.store),
        )
    return 0


def explain_from_db(args: argparse.Namespace) -> int:
    """``pos-promo --db PATH explain --cart FILE --campaign ID [--at] [--counts] [--format]``."""
    cart, counts = _cart_and_counts(args)
    with _open(args) as engine:
        verdict = localise(
            engine.explain(
                cart, args.campaign, at=parse_instant(getattr(args, "at", None)), counts=counts
            ),
            engine.store,
        )
        emit(verdict, args.format, lambda: render_verdict(verdict, engine.store))
    return 0


def _commit(args: argparse.Namespace) -> int:
    cart = decode_cart(read_input(args.cart, "--cart"))
    payments = accept_payments(read_input(args.payments, "--payments")) if args.payments else None
    with _open(args) as engine:
        result = engine.commit(cart, payments, at=parse_instant(args.at))
        emit(
            localise(result, engine.store),
            args.format,
            lambda: render_receipt(result, cart, engine.store),
        )
    return 0


def _units(text: str) -> tuple[str, int]:
    line, sep, units = text.rpartition("=")
    if not sep or not line:
        raise InvalidInput("--line", "must read LINE_ID=UNITS", text)
    try:
        return line, int(units)
    except ValueError:
        raise InvalidInput("--line", "must end in a whole number of units", text) from None


def _refund(args: argparse.Namespace) -> int:
    lines: dict[str, int] | None = None
    if args.line:
        lines = {}
        for text in args.line:
            line, units = _units(text)
            lines[line] = lines.get(line, 0) + units
    at = parse_instant(args.at) or _now()
    with _open(args) as engine:
        refund = engine.refund(args.order_id, lines, refund_id=args.refund_id, at=at)
        emit(
            refund,
            args.format,
            lambda: render_receipt(engine.order(args.order_id), store=engine.store, refund=refund),
        )
    return 0


def _orders_show(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        record = engine.order(args.order_id)
        emit(record, args.format, lambda: render_receipt(record, record.cart, engine.store))
    return 0


def _report_text(rows: Sequence[CampaignMetrics], currency: str) -> str:
    head = ("campaign", "orders", "refunded", "members", "given", "refunded $", "net")
    body = [
        (
            r.campaign_id,
            str(r.orders),
            str(r.orders_refunded),
            str(r.members),
            format_money(r.discount_given, currency),
            format_money(r.discount_refunded, currency),
            format_money(r.discount_net, currency),
        )
        for r in rows
    ]
    return table(head, body)


def _report(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        currency = engine.store.currency
        if args.gifts:
            activities = engine.gift_report()
            emit(activities, args.format, lambda: cli_gifts.activity_table(activities, currency))
            return 0
        rows = engine.report()
        if args.format == "text":
            sys.stdout.write(_report_text(rows, currency))
            activities = engine.gift_report()
            if activities:
                sys.stdout.write("\n" + cli_gifts.activity_table(activities, currency))
        else:
            emit(rows, args.format)
    return 0


def _outbox(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        emit(engine.outbox_counts(), args.format)
    return 0


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="FILE",
        help="store context JSON (default: the store this database recorded)",
    )


def _options(parser: argparse.ArgumentParser) -> None:
    """What every database command takes: ``--store FILE`` and ``--format``."""
    _store_option(parser)
    add_format(parser)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the database commands to ``pos-promo``'s sub-command set."""
    campaigns = subparsers.add_parser("campaigns", help="the campaign cache in the database")
    csub = campaigns.add_subparsers(dest="campaigns_command", metavar="ACTION", required=True)
    imp = csub.add_parser(
        "import", help="import a campaign list or a catalog (as HQ serves it), atomically"
    )
    imp.add_argument(
        "file",
        metavar="FILE",
        help="JSON list of campaigns, or {campaigns, coupon_templates, sharing_plans, "
        "execution_order} ('-' for stdin)",
    )
    _options(imp)
    imp.set_defaults(run=_campaigns_import)
    lst = csub.add_parser("list", help="cached campaigns: id, kind, version, status")
    _options(lst)
    lst.set_defaults(run=_campaigns_list)
    show = csub.add_parser("show", help="one cached campaign, in full")
    show.add_argument("id", metavar="ID")
    _options(show)
    show.set_defaults(run=_campaigns_show)

    coupons = subparsers.add_parser("coupons", help="coupons in the database's wallet")
    wsub = coupons.add_subparsers(dest="coupons_command", metavar="ACTION", required=True)
    add = wsub.add_parser("add", help="add wallet coupons, or take newer state for known ones")
    add.add_argument("file", metavar="FILE", help="JSON list of coupons ('-' for stdin)")
    add.add_argument("--source", default="hq", help="where they came from (default: hq)")
    _options(add)
    add.set_defaults(run=_coupons_add)
    wallet = subparsers.add_parser("wallet", help="a member's coupons: window, status, order")
    wallet.add_argument("member_id", metavar="MEMBER_ID")
    _options(wallet)
    wallet.set_defaults(run=_wallet)

    commit = subparsers.add_parser("commit", help="evaluate and record an order (idempotent)")
    commit.add_argument("--cart", metavar="FILE", required=True, help="the cart, as JSON")
    commit.add_argument("--payments", metavar="FILE", help='JSON [{"tender":..,"amount":..}]')
    commit.add_argument("--at", metavar="ISO-8601", help="the instant (default: the cart's)")
    _options(commit)
    commit.set_defaults(run=_commit)

    refund = subparsers.add_parser("refund", help="refund a whole order, or some units")
    refund.add_argument("order_id", metavar="ORDER_ID")
    refund.add_argument(
        "--line",
        metavar="LINE_ID=UNITS",
        action="append",
        help="units of one line to refund (repeatable; default: the whole order)",
    )
    refund.add_argument("--refund-id", metavar="ID", help="makes a retried refund safe")
    refund.add_argument("--at", metavar="ISO-8601", help="the refund's instant (default: now)")
    _options(refund)
    refund.set_defaults(run=_refund)

    orders = subparsers.add_parser("orders", help="committed orders")
    osub = orders.add_subparsers(dest="orders_command", metavar="ACTION", required=True)
    oshow = osub.add_parser("show", help="an order: result, receipt, payments, refunds")
    oshow.add_argument("order_id", metavar="ORDER_ID")
    _options(oshow)
    oshow.set_defaults(run=_orders_show)

    report = subparsers.add_parser(
        "report", help="per-campaign metrics, net of refunds (text: and per gift activity)"
    )
    report.add_argument(
        "--gifts", action="store_true", help="the cumulative gift activities instead"
    )
    _options(report)
    report.set_defaults(run=_report)

    box = subparsers.add_parser("outbox", help="events for HQ: pending and sent counts")
    _options(box)
    box.set_defaults(run=_outbox)
    cli_gifts.register(subparsers, _open, _options)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pos-promo")
    parser.add_argument("--db", metavar="PATH", help="the till's SQLite database")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register(sub)
    ev = sub.add_parser("evaluate", help="evaluate a cart against the database")
    ev.add_argument("--cart", metavar="FILE")
    ev.add_argument("--at", metavar="ISO-8601")
    ev.add_argument("--counts", metavar="FILE")
    _options(ev)
    ev.set_defaults(run=evaluate_from_db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The database commands on their own (their tests use this)."""
    return dispatch(_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
