"""The gift from the shell: commit with payments, member show, report, gifts release.

``gifts release`` reads the clock (the shell is the edge), so its tests
travel it with freezegun, across New York's spring-forward change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from pos_promo.cli import main
from pos_promo.engine.grants import coupon_id
from tests.gifts.builders import MEMBER, activity, template
from tests.helpers import line

DAILY = [{"template_id": "t-5off", "distribution": {"type": "daily", "days": 2}}]


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    files: dict[str, Any] = {
        "store": {"id": "s1", "timezone": "America/New_York"},
        "catalog": {
            "campaigns": [activity(threshold=20000, repeat="once"), activity("g2", gifts=DAILY)],
            "coupon_templates": [template()],
        },
    }
    for name, doc in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
    path = str(tmp_path / "till.db")
    code, _, err = run(
        capsys,
        path,
        "campaigns",
        "import",
        str(tmp_path / "catalog.json"),
        "--store",
        str(tmp_path / "store.json"),
    )
    assert code == 0, err
    return path


def run(capsys: pytest.CaptureFixture[str], db: str, *argv: str) -> tuple[int, Any, str]:
    code = main(["--db", db, *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip().startswith(("{", "[")) else out, err


def commit(
    capsys: pytest.CaptureFixture[str], db: str, price: int, at: str, payments: list[Any]
) -> dict[str, Any]:
    folder = Path(db).parent
    cart = {
        "order_id": f"o-{at}",
        "store_id": "s1",
        "at": at,
        "member": {"id": MEMBER},
        "lines": [line("A", price)],
    }
    (folder / "cart.json").write_text(json.dumps(cart))
    (folder / "payments.json").write_text(json.dumps(payments))
    code, result, err = run(
        capsys,
        db,
        "commit",
        "--cart",
        str(folder / "cart.json"),
        "--payments",
        str(folder / "payments.json"),
    )
    assert code == 0, err
    return dict(result)


def test_commit_prints_the_accruals_and_member_show_prints_totals_grants_and_wallet(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = commit(
        capsys, db, 18000, "2026-11-20T17:00:00Z", [{"tender": "card", "amount": 18000}]
    )
    assert [a["progress"] for a in result["accruals"]] == [
        "$180.00 of $200.00",
        "$180.00 of $200.00",
    ]
    code, shown, _ = run(capsys, db, "member", "show", MEMBER)
    assert code == 0
    assert [(a["activity_id"], a["total"]) for a in shown["activities"]] == [
        ("g1", 18000),
        ("g2", 18000),
    ]
    assert [g["ordinal"] for g in shown["grants"]] == [1]  # g2: every $100
    code, text, _ = run(capsys, db, "member", "show", MEMBER, "--format", "text")
    assert "$180.00 of $200.00" in text and "g2" in text


def test_an_unknown_tender_on_the_command_line_exits_2_with_its_path(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = Path(db).parent
    (folder / "cart.json").write_text(
        json.dumps(
            {
                "order_id": "o",
                "store_id": "s1",
                "at": "2026-11-20T17:00:00Z",
                "lines": [line("A", 100)],
            }
        )
    )
    (folder / "payments.json").write_text(json.dumps([{"tender": "iou", "amount": 100}]))
    code, _, err = run(
        capsys,
        db,
        "commit",
        "--cart",
        str(folder / "cart.json"),
        "--payments",
        str(folder / "payments.json"),
    )
    assert code == 2
    assert err == 'error: $.payments[0].tender: is not an allowed tender, got "iou"\n'


def test_report_lists_each_activity_with_members_accrued_grants_and_coupons(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(capsys, db, 25000, "2026-11-20T17:00:00Z", [{"tender": "cash", "amount": 25000}])
    code, rows, _ = run(capsys, db, "report", "--gifts")
    assert code == 0
    by_id = {r["activity_id"]: r for r in rows}
    assert (by_id["g1"]["members"], by_id["g1"]["accrued"], by_id["g1"]["grants"]) == (1, 25000, 1)
    assert by_id["g1"]["coupons_issued"] == 1
    assert (by_id["g2"]["grants"], by_id["g2"]["coupons_scheduled"]) == (2, 2)
    code, text, _ = run(capsys, db, "report", "--format", "text")
    assert "activity" in text and "$250.00" in text


def test_gifts_release_issues_daily_gifts_at_local_midnight_across_spring_forward(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Saturday 7 March 2026, noon EST; two days later is Monday 9 March, EDT
    commit(capsys, db, 10000, "2026-03-07T17:00:00Z", [{"tender": "card", "amount": 10000}])
    with freeze_time("2026-03-09T03:59:59Z"):  # Sunday 23:59:59 EDT
        code, out, _ = run(capsys, db, "gifts", "release")
    assert (code, out["released"]) == (0, [])
    with freeze_time("2026-03-09T04:00:00Z"):  # Monday 00:00 EDT
        code, out, _ = run(capsys, db, "gifts", "release")
    assert out["released"] == [coupon_id("g2", MEMBER, 1, 1, 1)]
    with freeze_time("2026-03-10T12:00:00Z"):
        code, out, _ = run(capsys, db, "gifts", "release")
    assert out["released"] == []
    code, shown, _ = run(capsys, db, "member", "show", MEMBER)
    (coupon,) = [c for c in shown["wallet"] if c["template_id"] == "t-5off"]
    assert coupon["valid_from"].startswith("2026-03-09T04:00:00")
    assert coupon["valid_until"].startswith("2026-04-08T04:00:00")  # 30 local days
