"""Every ``pos-promo`` failure is one line naming what to fix, with a
documented exit code (pos_promo.cli.io, docs/errors.md); never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pos_promo.cli import main
from pos_promo.cli.io import EXIT_BUG, EXIT_INPUT, EXIT_STORE
from pos_promo.embedded import Engine
from tests.doors.conftest import snapshot
from tests.store.builders import STORE, cart, dump, line


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def till(engine: Engine, db_path: Path) -> str:
    return str(db_path)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{\n  "order_id": "o-1",\n  "store_id": "s1"\n  "lines": []\n}', "line 4, column 3"),
        ('{"order_id": "o-1",}', "line 1, column 20"),
        ('{\n  "order_id": "é', "line 2, column 17"),
    ],
)
def test_bad_json_names_its_line_and_column(
    till: str,
    db_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    where: str,
) -> None:
    bad = tmp_path / "cart.json"
    bad.write_text(text)
    before = snapshot(db_path)
    code, out, err = run(capsys, "--db", till, "commit", "--cart", str(bad))
    assert (code, out) == (EXIT_INPUT, "")
    assert err.startswith(f"error: $: is not valid JSON at {where}: ")
    assert err.count("\n") == 1
    assert snapshot(db_path) == before


def test_an_empty_file_says_it_is_empty(
    till: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "cart.json"
    empty.write_text("\n")
    assert run(capsys, "--db", till, "commit", "--cart", str(empty)) == (
        EXIT_INPUT,
        "",
        "error: $: is empty: expected a JSON document\n",
    )


@pytest.mark.parametrize(
    ("name", "reason"), [("missing.json", "No such file or directory"), (".", "Is a directory")]
)
def test_a_file_that_cannot_be_read_names_the_option(
    till: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, reason: str
) -> None:
    path = str(tmp_path / name)
    code, out, err = run(capsys, "--db", till, "commit", "--cart", path)
    assert (code, out) == (EXIT_INPUT, "")
    assert err == f"error: --cart: cannot read {path!r} ({reason})\n"


def test_a_scenario_that_cannot_be_read_is_one_line_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, "evaluate", "--scenario", "/no/such.json") == (
        EXIT_INPUT,
        "",
        "error: --scenario: cannot read '/no/such.json' (No such file or directory)\n",
    )


def test_a_file_that_is_not_a_database_exits_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database, just text" * 100)
    code, out, err = run(capsys, "--db", str(junk), "outbox")
    assert (code, out) == (EXIT_STORE, "")
    assert err.startswith(f"error: {junk}: not a usable SQLite database")
    assert err.count("\n") == 1


def test_another_stores_database_exits_4(
    till: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "store.json"
    other.write_text(json.dumps({"id": "s2"}))
    assert run(capsys, "--db", till, "outbox", "--store", str(other)) == (
        EXIT_STORE,
        "",
        "error: this database belongs to store 's1', not 's2': one database per till\n",
    )


def test_a_bug_is_one_line_and_exit_70(
    till: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(self: Engine) -> None:
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(Engine, "outbox_counts", broken)
    code, out, err = run(capsys, "--db", till, "outbox")
    assert (code, out) == (EXIT_BUG, "")
    assert err == (
        "error: internal error (ZeroDivisionError: division by zero second line); "
        "rerun with POS_PROMO_DEBUG=1 for the traceback and report it\n"
    )


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    cart_file = tmp_path / "cart.json"
    cart_file.write_bytes(dump(cart(line("A", 100, qty=10**18))))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pos_promo",
            "--db",
            str(tmp_path / "t.db"),
            "commit",
            "--cart",
            str(cart_file),
            "--store",
            str(_store_file(tmp_path)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == EXIT_INPUT
    assert done.stdout == ""
    assert done.stderr == (
        "error: $.lines[0].quantity: expected int <= 1000, got 1000000000000000000\n"
    )


def _store_file(tmp_path: Path) -> Path:
    path = tmp_path / "store.json"
    path.write_text(json.dumps({"id": STORE.id, "timezone": STORE.timezone}))
    return path
