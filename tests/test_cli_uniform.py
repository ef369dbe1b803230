"""One command line (issue 14, part 6): every command takes ``--format
text|json`` with JSON indented the same way everywhere; ``--db`` mode takes
the options file mode takes; nothing is assumed silently; an unknown member
or order is one error line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import msgspec
import pytest

from pos_promo.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
DEMO = FIX / "demo"
GOLD_CART = str(DEMO / "carts" / "3-gold-member.json")
STORE = str(DEMO / "store.json")
CAMPAIGNS = str(DEMO / "campaigns.json")


def leaf_parsers(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                inner = leaf_parsers(sub, f"{prefix}{name} ")
                found += inner or [(f"{prefix}{name}", sub)]
    return found


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def till(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    db = str(tmp_path / "till.db")
    steps = [
        ("campaigns", "import", CAMPAIGNS, "--store", STORE),
        ("campaigns", "import", str(FIX / "catalog.json")),
        ("coupons", "add", str(FIX / "coupons.json")),
        ("commit", "--cart", GOLD_CART, "--payments", str(FIX / "payments-T1-0003.json")),
    ]
    for step in steps:
        assert run(capsys, "--db", db, *step)[0] == 0, step
    return db


def test_every_command_takes_format_text_or_json() -> None:
    missing = []
    for name, parser in leaf_parsers(build_parser()):
        formats = [a for a in parser._actions if "--format" in a.option_strings]
        if not formats or tuple(formats[0].choices or ()) != ("json", "text"):
            missing.append(name)
    assert missing == []


COMMANDS = [
    ("campaigns", "list"),
    ("campaigns", "show", "gold-weekend"),
    ("campaigns", "import", CAMPAIGNS),
    ("coupons", "add", str(FIX / "coupons.json")),
    ("wallet", "m-1001"),
    ("evaluate", "--cart", GOLD_CART),
    ("explain", "--cart", GOLD_CART, "--campaign", "gold-weekend"),
    ("commit", "--cart", GOLD_CART),
    ("refund", "T1-0003", "--line", "2=1", "--refund-id", "r-1"),
    ("orders", "show", "T1-0003"),
    ("report",),
    ("report", "--gifts"),
    ("outbox",),
    ("member", "show", "m-1001"),
    ("gifts", "release", "--at", "2026-12-01T12:00:00Z"),
    ("status",),
    ("requeue", "--all"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_every_database_command_prints_indented_json_or_text(
    command: tuple[str, ...], till: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", till, *command, "--format", "json")
    assert (code, err) == (0, "")
    assert out == msgspec.json.format(out.encode(), indent=2).decode() + "\n"  # all alike
    json.loads(out)
    code, text, err = run(capsys, "--db", till, *command, "--format", "text")
    assert (code, err) == (0, "")
    assert text.strip() and not text.lstrip().startswith(("{", "["))


def db_text(capsys: pytest.CaptureFixture[str], till: str, *args: str) -> str:
    code, out, err = run(capsys, "--db", till, *args, "--format", "text")
    assert (code, err) == (0, "")
    return out


SUNDAY = ("--at", "2026-11-29T19:45:00Z")  # the day after the fixture's committed T1-0003


def test_db_mode_evaluate_honours_format_text_and_counts(
    till: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = db_text(capsys, till, "evaluate", "--cart", GOLD_CART, *SUNDAY)
    assert "  (gold-weekend)                   -$12.00" in text
    totals = [line.split() for line in text.splitlines() if line.startswith(("Total", "TOTAL"))]
    assert totals == [["Total", "discount", "-$12.00"], ["TOTAL", "$70.00"]]
    counts = str(FIX / "counts-m-1001.json")  # gold-weekend: 3 in all, 1 today (daily limit 1)
    args = ("evaluate", "--cart", GOLD_CART, *SUNDAY, "--counts", counts)
    result = json.loads(run(capsys, "--db", till, *args)[1])
    assert result["total_discount"] == 0
    reasons = {n["id"]: n["reason"] for n in result["not_applied"]}
    assert reasons["gold-weekend"] == "daily_limit_reached"


def test_db_mode_explain_runs(till: str, capsys: pytest.CaptureFixture[str]) -> None:
    explain = ("explain", "--cart", GOLD_CART, "--campaign")
    assert db_text(capsys, till, *explain, "big-table") == (
        "“Big table: spend $150 save $20” (big-table) [threshold_not_met] "
        "$82.00 of $150.00 on eligible items.\n"
    )
    # the database's counts: m-1001 took it today, in T1-0003
    assert db_text(capsys, till, *explain, "gold-weekend") == (
        "“Gold members: spend $60 save $12” (gold-weekend) [daily_limit_reached] "
        "Member has already used this the 1 time allowed today.\n"
    )
    assert db_text(capsys, till, *explain, "gold-weekend", *SUNDAY) == (
        "“Gold members: spend $60 save $12” (gold-weekend) applies: -$12.00, tier 1\n"
    )


def test_db_mode_refuses_the_file_inputs_it_replaces_by_name(
    till: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "--db", till, "evaluate", "--cart", GOLD_CART, "--campaigns", CAMPAIGNS
    )
    assert (code, out) == (2, "")
    assert err == (
        "error: --campaigns: cannot be used with --db: the database's campaign cache is used "
        "(import the file first: pos-promo --db PATH campaigns import FILE)\n"
    )


def test_file_mode_without_store_is_an_error_naming_the_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "evaluate", "--campaigns", CAMPAIGNS, "--cart", GOLD_CART)
    assert (code, out) == (2, "")
    assert err == (
        "error: --store: is required without --db or --scenario (the store's id, time zone, "
        "currency and organisations decide time slots, money and store rules: none is "
        "assumed)\n"
    )


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (
            ("wallet", "M-1001"),
            "unknown member 'M-1001': this till has no order, coupon, count or gift for it",
        ),
        (
            ("member", "show", "M-1001", "--format", "text"),
            "unknown member 'M-1001': this till has no order, coupon, count or gift for it",
        ),
        (
            ("orders", "show", "T1-9999"),
            "unknown order 'T1-9999': no such order was committed here",
        ),
        (("refund", "T1-9999"), "unknown order 'T1-9999': no such order was committed here"),
    ],
)
def test_an_unknown_member_or_order_is_one_error_line(
    command: tuple[str, ...], error: str, till: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", till, *command)
    assert (code, out, err) == (2, "", f"error: {error}\n")


def test_a_repeated_commit_says_so(till: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", till, "commit", "--cart", GOLD_CART)
    assert code == 0
    assert json.loads(out)["repeat"] is True


def test_orders_show_text_is_a_reprint_with_item_names_and_refunds(
    till: str, capsys: pytest.CaptureFixture[str]
) -> None:
    refund = ("refund", "T1-0003", "--line", "2=1", "--at", "2026-11-29T15:00:00Z")
    assert run(capsys, "--db", till, *refund)[0] == 0
    text = db_text(capsys, till, "orders", "show", "T1-0003")
    assert text.split("\n")[:4] == [
        " " * 17 + "REPRINT",
        " " * 14 + "Order T1-0003",
        " " * 11 + "Store store-downtown",
        " " * 8 + "Sat, Nov 28, 2026, 2:45 PM",
    ]
    assert "2 × House red (glass) @ $9.00       $18.00" in text
    assert text.splitlines()[-2:] == [
        # the kept $73.00 still meets gold-weekend's $60: the glass comes back whole
        "Refund 1                            -$9.00",
        "  Sun, Nov 29, 2026, 10:00 AM",
    ]
