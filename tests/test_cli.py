"""The command line: JSON and receipts out, exit 2 and a path on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pos_promo.cli import main
from tests.helpers import campaign, cart, line

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "fixtures" / "scenarios"


def write(tmp_path: Path, name: str, doc: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def store_file(tmp_path: Path) -> str:
    return write(tmp_path, "store.json", {"id": "s1", "timezone": "UTC", "currency": "USD"})


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("scenario", "total", "lines"),
    [
        ("spec-01-side-shares", 1000, {"A": 900, "A-side": 100}),
    ],
)
def test_spec_examples_hold_through_evaluate_scenario(
    scenario: str, total: int, lines: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["evaluate", "--scenario", str(SCENARIOS / f"{scenario}.json")], capsys)
    assert code == 0
    result = json.loads(out)
    assert result["total_discount"] == total
    assert {x["line_id"]: x["discount"] for x in result["lines"]} == lines


def test_evaluate_files_prints_result_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    campaigns = write(tmp_path, "c.json", [campaign()])
    cart_file = write(tmp_path, "cart.json", cart(line("A", 9000), line("B", 1000)))
    store = store_file(tmp_path)
    args = ["evaluate", "--campaigns", campaigns, "--cart", cart_file, "--store", store]
    code, out, _ = run(args, capsys)
    assert code == 0
    result = json.loads(out)
    assert result["total_discount"] == 1000
    assert result["applied"][0]["id"] == "p1"
    assert result["applied"][0]["amount"] == 1000


def test_at_option_overrides_the_carts_instant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    campaigns = write(tmp_path, "c.json", [campaign()])
    cart_file = write(tmp_path, "cart.json", cart(line("A", 12000)))
    args = [
        "evaluate",
        "--campaigns",
        campaigns,
        "--cart",
        cart_file,
        "--store",
        store_file(tmp_path),
    ]
    args += ["--at", "2027-01-02T00:00Z"]
    code, out, _ = run(args, capsys)
    assert code == 0
    result = json.loads(out)
    assert result["total_discount"] == 0
    assert result["not_applied"][0]["reason"] == "ended"


def test_text_format_prints_a_receipt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = write(tmp_path, "s.json", {"id": "s1", "timezone": "Europe/Paris", "currency": "EUR"})
    campaigns = write(tmp_path, "c.json", [campaign(name="Spend 100 save 10")])
    cart_file = write(
        tmp_path, "cart.json", cart(line("A", 9000, name="Steak"), line("B", 500, name="Tea"))
    )
    args = ["evaluate", "--campaigns", campaigns, "--cart", cart_file, "--store", store]
    code, out, _ = run([*args, "--format", "text"], capsys)
    assert code == 0
    assert "Fri, Nov 20, 2026, 6:00 PM" in out  # 17:00 UTC on the Paris store's clock
    assert "1 × Steak @ €90.00" in out
    assert out.rstrip().splitlines()[-2:] == [
        "  “Spend 100 save 10” (p1):",
        "    €95.00 of €100.00 on eligible items.",
    ]


def test_explain_names_the_reason_for_any_campaign(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other_store = campaign("elsewhere", stores={"store_ids": ["s2"]})
    campaigns = write(tmp_path, "c.json", [campaign(), other_store])
    cart_file = write(tmp_path, "cart.json", cart(line("A", 12000)))
    args = [
        "explain",
        "--campaigns",
        campaigns,
        "--cart",
        cart_file,
        "--store",
        store_file(tmp_path),
    ]
    args += ["--campaign", "elsewhere"]
    code, out, _ = run(args, capsys)
    assert code == 0
    assert json.loads(out)["reason"] == "store_not_eligible"


def test_explain_unknown_campaign_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    campaigns = write(tmp_path, "c.json", [campaign()])
    cart_file = write(tmp_path, "cart.json", cart(line("A", 12000)))
    args = [
        "explain",
        "--campaigns",
        campaigns,
        "--cart",
        cart_file,
        "--store",
        store_file(tmp_path),
    ]
    args += ["--campaign", "nope"]
    code, _, err = run(args, capsys)
    assert code == 2
    assert err == "error: unknown campaign 'nope'\n"


def test_missing_file_is_exit_2_with_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["evaluate", "--campaigns", "/nonexistent.json", "--cart", "x", "--store", "s.json"]
    code, _, err = run(args, capsys)
    assert code == 2
    assert err.startswith("error: --campaigns: cannot read '/nonexistent.json'")


def test_schema_command_prints_the_cart_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["schema", "cart"], capsys)
    assert code == 0
    schema = json.loads(out)
    assert schema["$defs"]["Line"]["properties"]["quantity"]["minimum"] == 1


def test_console_script_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pos_promo", "schema", "store"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert json.loads(done.stdout)["$ref"] == "#/$defs/StoreContext"
