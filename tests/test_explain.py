"""One verdict (issue 10): ``explain`` says exactly what ``evaluate`` says.

The function, ``Engine.explain`` and ``pos-promo explain`` (file mode and
``--db``) give, for a campaign the cart can touch, evaluate's own verdict:
the same amount, or the same reason, with the same counts, wallet, plans and
instant; for any other campaign, why it cannot touch the cart.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos_promo.cli.app import main
from pos_promo.codec import campaign_from_obj
from pos_promo.embedded import Engine
from pos_promo.model.order import Payment
from tests.store.builders import campaign, cart, line
from tests.test_benefit_properties import worlds
from tests.test_properties import AT, SETTINGS, STORE


def verdicts(result: Any) -> dict[str, Any]:
    found: dict[str, Any] = {a.id: a for a in result.applied}
    found.update({n.id: n for n in result.not_applied})
    return found


@st.composite
def limited_worlds(draw: st.DrawFn) -> Any:
    """Random carts, promotions, member benefits and coupons; some promotions
    limited per member per day or in total, so a till's counts matter."""
    cart_, campaigns, wallet = draw(worlds())
    limited = []
    for c in campaigns:
        if c.__struct_config__.tag == "spend_and_save" and draw(st.booleans()):
            limits = draw(st.sampled_from([{"per_member_daily": 1}, {"per_member_total": 1}]))
            limited.append(campaign_from_obj({**msgspec.to_builtins(c), "limits": limits}))
        else:
            limited.append(c)
    return cart_, limited, wallet


@settings(SETTINGS, max_examples=50)  # each example is a real till database
@given(limited_worlds())
def test_engine_explain_equals_evaluate_for_every_campaign_at_a_till_with_counts(
    world: Any,
) -> None:
    cart_, campaigns, wallet = world
    with (
        tempfile.TemporaryDirectory() as folder,
        Engine.open(Path(folder) / "till.db", STORE, durability="normal") as engine,
    ):
        engine.import_campaigns(list(campaigns))
        engine.add_coupons(list(wallet.values()))
        # an earlier order of the member's today: its participations count
        engine.commit(msgspec.structs.replace(cart_, order_id="earlier"), at=AT)
        result = engine.evaluate(cart_, at=AT)
        said = verdicts(result)
        ids = [c.id for c in campaigns if c.__struct_config__.tag == "spend_and_save"]
        for benefit_id in [*ids, *cart_.coupons]:
            verdict = engine.explain(cart_, benefit_id, at=AT)
            if benefit_id in said:
                assert verdict == said[benefit_id], benefit_id
            else:  # evaluate did not consider it: it cannot touch the cart
                assert verdict.reason in {  # type: ignore[union-attr]
                    "no_eligible_items",
                    "store_not_eligible",
                    "inactive",
                }, (benefit_id, verdict)


@pytest.fixture
def till(tmp_path: Path) -> dict[str, str]:
    """A till whose member already used a once-a-day promotion today."""
    files: dict[str, Any] = {
        "store": {"id": "s1", "timezone": "America/New_York"},
        "campaigns": [
            campaign("daily", limits={"per_member_daily": 1}),
            campaign("other-item", items={"item_ids": ["soup"]}),
        ],
        "cart": cart(line("A", 6000, qty=2), member={"id": "m1"}),
    }
    out = {}
    for name, doc in files.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc))
        out[name] = str(path)
    out["db"] = str(tmp_path / "till.db")
    with Engine.open(out["db"], msgspec.convert(files["store"], type=type(STORE))) as engine:
        engine.import_campaigns(json.dumps(files["campaigns"]))
        first = dict(files["cart"], order_id="earlier")
        engine.commit(json.dumps(first), [Payment("card", 11000)])
    return out


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_the_cli_explain_with_db_says_what_evaluate_says_at_that_till(
    till: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A $120 cart meets "spend 100 save 10"; alone it would save $10, but the
    member already used it today: evaluate says daily_limit_reached, and so
    does explain."""
    evaluated = cli(capsys, "--db", till["db"], "evaluate", "--cart", till["cart"])
    (missed,) = [n for n in evaluated["not_applied"] if n["id"] == "daily"]
    assert missed["reason"] == "daily_limit_reached"
    explained = cli(
        capsys, "--db", till["db"], "explain", "--cart", till["cart"], "--campaign", "daily"
    )
    assert explained == missed
    other = cli(
        capsys, "--db", till["db"], "explain", "--cart", till["cart"], "--campaign", "other-item"
    )
    assert other["reason"] == "no_eligible_items"


def test_the_cli_explain_in_file_mode_says_what_evaluate_says(
    till: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = ["--campaigns", till["campaigns"], "--cart", till["cart"], "--store", till["store"]]
    evaluated = cli(capsys, "evaluate", *inputs)
    (applied,) = evaluated["applied"]
    assert (applied["id"], applied["amount"]) == ("daily", 1000)
    assert cli(capsys, "explain", *inputs, "--campaign", "daily") == applied
