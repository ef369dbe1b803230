"""``pos-promo --db PATH ...``: the till database from the shell.

:func:`register` adds the database commands to the ``pos-promo`` parser:
``campaigns import|list|show``, ``coupons add``, ``wallet``, ``commit``,
``refund``, ``orders show``, ``report``, ``outbox``, and (from
:mod:`pos_promo.cli.gifts`) ``member show`` and ``gifts release``.
``evaluate`` already exists there; with ``--db`` it should call
:func:`evaluate_from_db`. Each command reads the
database from the global ``--db`` and the store from ``--store FILE`` (a
StoreContext JSON), defaulting to the store the database recorded.

Output is JSON (indented) for scripts; errors are :class:`PromoError`\\ s,
which the ``pos-promo`` entry point prints as one ``error: ...`` line and
exit code 2. This module is the shell's edge, so it may read the clock: it
stamps imports, refunds and "sent" marks with the current time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence

import msgspec

from pos_promo.cli import gifts as cli_gifts
from pos_promo.cli.io import dispatch, emit_json, parse_instant, read_input
from pos_promo.codec import decode_cart, decode_store, validation_error
from pos_promo.embedded import Engine
from pos_promo.engine.money import format_money
from pos_promo.errors import InvalidInput, InvalidPayment
from pos_promo.i18n import localise
from pos_promo.model.cart import StoreContext
from pos_promo.model.order import CampaignMetrics, Payment

__all__ = ["evaluate_from_db", "main", "register"]

_PAYMENTS = msgspec.json.Decoder(list[Payment])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _store(args: argparse.Namespace) -> StoreContext | None:
    path = getattr(args, "store", None)
    return decode_store(read_input(path, "--store")) if path else None


def _open(args: argparse.Namespace) -> Engine:
    if not getattr(args, "db", None):
        raise InvalidInput("--db", "is required: name the till's database file")
    return Engine.open(args.db, _store(args))


def _campaigns_import(args: argparse.Namespace) -> int:
    payload = read_input(args.file, "FILE")
    with _open(args) as engine:
        emit_json(engine.import_campaigns(payload, at=_now()))
    return 0


def _coupons_add(args: argparse.Namespace) -> int:
    payload = read_input(args.file, "FILE")
    with _open(args) as engine:
        emit_json(engine.add_coupons(payload, source=args.source, at=_now()))
    return 0


def _wallet(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        emit_json(engine.wallet(args.member_id))
    return 0


def _campaigns_list(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        emit_json(engine.campaigns())
    return 0


def _campaigns_show(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        emit_json(engine.campaign(args.id))
    return 0


def evaluate_from_db(args: argparse.Namespace) -> int:
    """``pos-promo --db PATH evaluate --cart FILE [--at ISO] [--store FILE]``."""
    if not getattr(args, "cart", None):
        raise InvalidInput("--cart", "is required: the cart to evaluate, as JSON")
    cart = decode_cart(read_input(args.cart, "--cart"))
    with _open(args) as engine:
        result = engine.evaluate(cart, at=parse_instant(getattr(args, "at", None)))
        emit_json(localise(result, engine.store))
    return 0


def _commit(args: argparse.Namespace) -> int:
    cart = decode_cart(read_input(args.cart, "--cart"))
    payments = None
    if args.payments:
        raw = read_input(args.payments, "--payments")
        try:
            payments = _PAYMENTS.decode(raw)
        except msgspec.MsgspecError as exc:
            raise validation_error(exc, raw, InvalidPayment, "$.payments") from None
    with _open(args) as engine:
        emit_json(localise(engine.commit(cart, payments, at=parse_instant(args.at)), engine.store))
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
    with _open(args) as engine:
        emit_json(engine.refund(args.order_id, lines, refund_id=args.refund_id, at=_now()))
    return 0


def _orders_show(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        emit_json(engine.order(args.order_id))
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
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    out = []
    for row in [head, *body]:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out) + "\n"


def _report(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        if args.format == "text":
            currency = engine.store.currency
            sys.stdout.write(_report_text(engine.report(), currency))
            activities = engine.gift_report()
            if activities:
                sys.stdout.write("\n" + cli_gifts.activity_table(activities, currency))
        elif args.gifts:
            emit_json(engine.gift_report())
        else:
            emit_json(engine.report())
    return 0


def _outbox(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        emit_json(engine.outbox_counts())
    return 0


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="FILE",
        help="store context JSON (default: the store this database recorded)",
    )


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
    _store_option(imp)
    imp.set_defaults(run=_campaigns_import)
    lst = csub.add_parser("list", help="cached campaigns: id, kind, version, status")
    _store_option(lst)
    lst.set_defaults(run=_campaigns_list)
    show = csub.add_parser("show", help="one cached campaign, in full")
    show.add_argument("id", metavar="ID")
    _store_option(show)
    show.set_defaults(run=_campaigns_show)

    coupons = subparsers.add_parser("coupons", help="coupons in the database's wallet")
    wsub = coupons.add_subparsers(dest="coupons_command", metavar="ACTION", required=True)
    add = wsub.add_parser("add", help="add wallet coupons, or take newer state for known ones")
    add.add_argument("file", metavar="FILE", help="JSON list of coupons ('-' for stdin)")
    add.add_argument("--source", default="hq", help="where they came from (default: hq)")
    _store_option(add)
    add.set_defaults(run=_coupons_add)
    wallet = subparsers.add_parser("wallet", help="a member's coupons: window, status, order")
    wallet.add_argument("member_id", metavar="MEMBER_ID")
    _store_option(wallet)
    wallet.set_defaults(run=_wallet)

    commit = subparsers.add_parser("commit", help="evaluate and record an order (idempotent)")
    commit.add_argument("--cart", metavar="FILE", required=True, help="the cart, as JSON")
    commit.add_argument("--payments", metavar="FILE", help='JSON [{"tender":..,"amount":..}]')
    commit.add_argument("--at", metavar="ISO-8601", help="the instant (default: the cart's)")
    _store_option(commit)
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
    _store_option(refund)
    refund.set_defaults(run=_refund)

    orders = subparsers.add_parser("orders", help="committed orders")
    osub = orders.add_subparsers(dest="orders_command", metavar="ACTION", required=True)
    oshow = osub.add_parser("show", help="an order: result, receipt, payments, refunds")
    oshow.add_argument("order_id", metavar="ORDER_ID")
    _store_option(oshow)
    oshow.set_defaults(run=_orders_show)

    report = subparsers.add_parser(
        "report", help="per-campaign metrics, net of refunds (text: and per gift activity)"
    )
    report.add_argument(
        "--gifts", action="store_true", help="JSON: the cumulative gift activities instead"
    )
    report.add_argument("--format", choices=("json", "text"), default="json")
    _store_option(report)
    report.set_defaults(run=_report)

    box = subparsers.add_parser("outbox", help="events for HQ: pending and sent counts")
    _store_option(box)
    box.set_defaults(run=_outbox)
    cli_gifts.register(subparsers, _open, _store_option)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pos-promo")
    parser.add_argument("--db", metavar="PATH", help="the till's SQLite database")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register(sub)
    ev = sub.add_parser("evaluate", help="evaluate a cart against the database")
    ev.add_argument("--cart", metavar="FILE")
    ev.add_argument("--at", metavar="ISO-8601")
    _store_option(ev)
    ev.set_defaults(run=evaluate_from_db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The database commands on their own (their tests use this)."""
    return dispatch(_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
