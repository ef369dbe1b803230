"""The database commands: JSON out, exit 2 and one line on stderr for bad input."""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from pos_promo.cli import db as cli_db
from pos_promo.cli.db import main, register
from tests.store.builders import campaign, cart, line, row_counts


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    docs: dict[str, Any] = {
        "store": {"id": "s1", "timezone": "America/New_York"},
        "campaigns": [campaign("p1")],
        "cart": cart(line("A", 9000, qty=2), member={"id": "m1"}),
        "payments": [{"tender": "card", "amount": 17000}],
        "bad_campaigns": [campaign("p2"), campaign("p3", period={"start": "x"})],
    }
    out = {}
    for name, doc in docs.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc))
        out[name] = str(path)
    out["db"] = str(tmp_path / "till.db")
    return out


def run(capsys: pytest.CaptureFixture[str], db: str, *argv: str) -> tuple[int, Any, str]:
    code = main(["--db", db, *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip().startswith(("{", "[")) else out, err


@pytest.fixture
def till(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> str:
    code, _, err = run(
        capsys, files["db"], "campaigns", "import", files["campaigns"], "--store", files["store"]
    )
    assert code == 0, err
    return files["db"]


def test_campaigns_import_list_and_show(till: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, listed, _ = run(capsys, till, "campaigns", "list")
    assert code == 0
    assert [(c["id"], c["version"], c["status"]) for c in listed] == [("p1", 1, "active")]
    code, shown, _ = run(capsys, till, "campaigns", "show", "p1")
    assert (code, shown["kind"], shown["rule"]["type"]) == (0, "spend_and_save", "spend_save")


def test_a_campaign_file_with_one_invalid_campaign_exits_2_and_changes_nothing(
    till: str, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    before = row_counts(Path(till))
    code, out, err = run(capsys, till, "campaigns", "import", files["bad_campaigns"])
    assert code == 2 and out == ""
    assert err.startswith("error: $[1].period") and err.count("\n") == 1
    assert row_counts(Path(till)) == before


def test_evaluate_commit_show_refund_report_and_outbox(
    till: str, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, evaluated, _ = run(capsys, till, "evaluate", "--cart", files["cart"])
    assert (code, evaluated["total_discount"]) == (0, 1000)
    code, committed, _ = run(
        capsys, till, "commit", "--cart", files["cart"], "--payments", files["payments"]
    )
    assert (code, committed["total"]) == (0, 17000)
    code, refund, _ = run(capsys, till, "refund", "o-1", "--line", "A=1")
    assert (code, refund["lines"][0]["units"], refund["order_fully_refunded"]) == (0, 1, False)
    code, order, _ = run(capsys, till, "orders", "show", "o-1")
    assert (code, order["status"], order["remaining_units"]) == (0, "partially_refunded", {"A": 1})
    code, report, _ = run(capsys, till, "report")
    assert report[0]["campaign_id"] == "p1"
    assert (report[0]["orders"], report[0]["orders_refunded"]) == (0, 1)
    code, text, _ = run(capsys, till, "report", "--format", "text")
    assert code == 0 and text.splitlines()[1].split()[0] == "p1"
    code, box, _ = run(capsys, till, "outbox")
    # committed, refunded, and the participation p1 gave back: A 9000 kept is
    # below its 10000 threshold, so the order no longer takes part
    assert refund["dropped"] == ["p1"] and refund["amount"] == 8000
    assert box == {"pending": 4, "sent": 0}


def test_bad_requests_exit_2_with_one_line_and_change_nothing(
    till: str, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, till, "commit", "--cart", files["cart"])
    before = row_counts(Path(till))
    cases = [
        (["refund", "o-404"], "error: unknown order 'o-404'"),
        (["refund", "o-1", "--line", "A=3"], "error: order 'o-1' line 'A': cannot refund 3"),
        (["refund", "o-1", "--line", "A"], "error: --line: must read LINE_ID=UNITS"),
        (["orders", "show", "o-404"], "error: unknown order"),
        (["campaigns", "show", "nope"], "error: unknown campaign 'nope'"),
        (["commit", "--cart", files["store"]], "error: $.order_id: is required"),
        (["commit", "--cart", "/no/such/file"], "error: --cart: cannot read"),
        (["campaigns", "list", "--store", files["cart"]], "error: $.id: is required"),
    ]
    for argv, message in cases:
        code, out, err = run(capsys, till, *argv)
        assert (code, out) == (2, ""), argv
        assert err.startswith(message) and err.count("\n") == 1, (argv, err)
    assert row_counts(Path(till)) == before


def test_commands_without_a_database_say_so(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["outbox"]) == 2
    assert capsys.readouterr().err == "error: --db: is required: name the till's database file\n"


def test_payments_that_do_not_add_up_exit_2_and_name_both_numbers(
    till: str, files: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps([{"tender": "cash", "amount": 100}]))
    code, _, err = run(capsys, till, "commit", "--cart", files["cart"], "--payments", str(wrong))
    assert code == 2
    assert err == "error: $.payments: must add up to the order total 17000, got 100\n"
    conn = sqlite3.connect(till)
    assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0


def test_register_adds_the_database_commands_to_any_parser() -> None:
    parser = argparse.ArgumentParser(prog="pos-promo")
    parser.add_argument("--db")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["--db", "x.db", "refund", "o-1", "--line", "A=2"])
    assert (args.db, args.order_id, args.line, args.run.__name__) == (
        "x.db",
        "o-1",
        ["A=2"],
        "_refund",
    )
    assert callable(cli_db.evaluate_from_db)
