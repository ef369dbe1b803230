"""``pos-promo --db PATH member show ID`` and ``gifts release``: the cumulative gift
from the shell, plus the activity table ``pos-promo report`` prints.

This is the shell's edge, so ``gifts release`` may read the clock (``--at``
overrides it); the engine itself never does.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from pos_promo.cli.io import emit, parse_instant
from pos_promo.cli.text import table
from pos_promo.embedded import Engine
from pos_promo.engine.money import format_money
from pos_promo.errors import UnknownMember
from pos_promo.i18n import Words, progress_of, words_for
from pos_promo.model.member import ActivityMetrics, MemberGifts

__all__ = ["activity_table", "member_text", "register"]

Opener = Callable[[argparse.Namespace], Engine]


def _amount(value: int, measure: str, currency: str) -> str:
    return format_money(value, currency) if measure == "spend" else str(value)


def activity_table(rows: Sequence[ActivityMetrics], currency: str) -> str:
    """Per activity: members, accrued, grants and coupons (``report --format text``)."""
    head = ("activity", "members", "accrued", "grants", "revoked", "issued", "redeemed", "void")
    body = [
        (
            r.activity_id,
            str(r.members),
            _amount(r.accrued, r.measure, currency),
            str(r.grants),
            str(r.grants_revoked),
            str(r.coupons_issued) + (f" (+{r.coupons_scheduled})" if r.coupons_scheduled else ""),
            str(r.coupons_redeemed),
            str(r.coupons_voided),
        )
        for r in rows
    ]
    return table(head, body)


def member_text(gifts: MemberGifts, w: Words, templates: Mapping[str, str]) -> str:
    """Totals, grants and wallet of one member, for a person to read: names
    beside ids, gift coupons by their template's name, money and times as
    the store's locale writes them, on the store's clock."""

    def amount(value: int, measure: str) -> str:
        return w.money(value) if measure == "spend" else str(value)

    parts = [f"member {gifts.member_id}\n\n"]
    parts.append(
        table(
            ("activity", "confirmed", "local", "total", "progress"),
            [
                (
                    w.quoted(a.name, a.activity_id),
                    amount(a.confirmed, a.measure),
                    amount(a.local, a.measure),
                    amount(a.total, a.measure),
                    progress_of(a.measure, a.total, a.next, w) if a.next is not None else "",
                )
                for a in gifts.activities
            ],
        )
    )
    names = {a.activity_id: a.name for a in gifts.activities}
    parts.append("\n")
    parts.append(
        table(
            ("grant", "ordinal", "status", "at", "from"),
            [
                (
                    w.quoted(names.get(g.activity_id, ""), g.activity_id),
                    str(g.ordinal),
                    g.status + (" *" if g.unconfirmed else ""),
                    w.when(g.at),
                    g.source if g.store_id is None else f"{g.source} {g.store_id} {g.order_id}",
                )
                for g in gifts.grants
            ],
        )
    )
    parts.append("\n")
    parts.append(
        table(
            ("coupon", "status", "valid from", "valid until", "source"),
            [
                (
                    w.quoted(templates.get(c.template_id, c.template_id), c.id, "coupon"),
                    c.status + (" *" if c.unconfirmed else ""),
                    w.when(c.valid_from),
                    w.when(c.valid_until),
                    c.source,
                )
                for c in gifts.wallet
            ],
        )
    )
    parts.append("\n* not confirmed by HQ yet\n")
    return "".join(parts).replace("\u00a0", " ").replace("\u202f", " ")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    opener: Opener,
    options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``member show`` and ``gifts release`` to ``pos-promo``; ``options``
    adds what every database command takes (``--store``, ``--format``)."""

    def show(args: argparse.Namespace) -> int:
        with opener(args) as engine:
            if not engine.knows_member(args.member_id):
                raise UnknownMember(args.member_id)
            gifts = engine.member(args.member_id)
            names = {t.id: t.name for t in engine.index.templates.values() if t.name}
            emit(gifts, args.format, lambda: member_text(gifts, words_for(engine.store), names))
        return 0

    def release(args: argparse.Namespace) -> int:
        now = parse_instant(args.at) or dt.datetime.now(dt.UTC)
        with opener(args) as engine:
            emit({"at": now.isoformat(), "released": engine.release_gifts(now)}, args.format)
        return 0

    member = subparsers.add_parser("member", help="a member's cumulative gifts")
    msub = member.add_subparsers(dest="member_command", metavar="ACTION", required=True)
    mshow = msub.add_parser("show", help="totals per activity, grants and wallet of a member")
    mshow.add_argument("member_id", metavar="ID")
    options(mshow)
    mshow.set_defaults(run=show)

    gifts = subparsers.add_parser("gifts", help="cumulative gift coupons")
    gsub = gifts.add_subparsers(dest="gifts_command", metavar="ACTION", required=True)
    rel = gsub.add_parser("release", help="issue the scheduled gift coupons that are due")
    rel.add_argument("--at", metavar="ISO-8601", help="the instant (default: now)")
    options(rel)
    rel.set_defaults(run=release)
