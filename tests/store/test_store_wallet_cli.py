"""``catalog import``, ``coupons add`` and ``wallet`` from the shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pos_promo.cli.db import main
from tests.store.builders import campaign, line
from tests.store.coupon_builders import coupon, member_cart, template


def write(tmp_path: Path, name: str, doc: Any) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc))
    return str(path)


def run(capsys: pytest.CaptureFixture[str], db: str, *argv: str) -> tuple[int, Any, str]:
    code = main(["--db", db, *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip().startswith(("{", "[")) else out, err


def test_a_catalog_coupons_and_a_wallet_from_the_shell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "till.db")
    store = write(tmp_path, "store", {"id": "s1", "timezone": "America/New_York"})
    catalog = write(
        tmp_path,
        "catalog",
        {
            "campaigns": [campaign("p1", sharing_plan="plan-a")],
            "coupon_templates": [template()],
            "sharing_plans": [{"id": "plan-a", "sharing": {"coupons": {"mode": "all"}}}],
            "execution_order": {"coupons": ["t5"]},
        },
    )
    code, report, err = run(capsys, db, "campaigns", "import", catalog, "--store", store)
    assert code == 0, err
    assert (report["added"], report["plans_changed"], report["execution_order"]) == (
        ["p1", "t5"],
        ["plan-a"],
        1,
    )
    coupons = write(tmp_path, "coupons", [coupon(), coupon("c2", member_id="m2")])
    code, added, err = run(capsys, db, "coupons", "add", coupons, "--source", "crm")
    assert (code, added["added"]) == (0, ["c1", "c2"]), err
    order = write(tmp_path, "cart", member_cart("c1", lines=[line("A", 12000)]))
    code, result, err = run(capsys, db, "commit", "--cart", order)
    assert code == 0, err
    assert {a["id"] for a in result["applied"]} == {"p1", "c1"}
    code, wallet, _ = run(capsys, db, "wallet", "m1")
    assert [(c["id"], c["status"], c["source"], c["redeemed_order_id"]) for c in wallet] == [
        ("c1", "redeemed", "crm", "o-1")
    ]


def test_a_bad_coupon_file_is_one_line_on_stderr_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "till.db")
    store = write(tmp_path, "store", {"id": "s1"})
    assert (
        run(capsys, db, "campaigns", "import", write(tmp_path, "c", []), "--store", store)[0] == 0
    )
    bad = write(tmp_path, "bad", [coupon(valid_from="yesterday")])
    code, out, err = run(capsys, db, "coupons", "add", bad)
    assert (code, out) == (2, "")
    assert err.startswith("error: $[0].valid_from: ") and err.count("\n") == 1
    code, _, err = run(capsys, db, "wallet", "m1")  # nothing was added: m1 is unknown
    assert (code, err) == (
        2,
        "error: unknown member 'm1': this till has no order, coupon, count or gift for it\n",
    )
