"""The sync demo runs unattended, tells the story and stops everything by itself."""

from __future__ import annotations

import subprocess
import sys

from tests.sync.harness import ROOT, env


def test_the_demo_tells_the_offline_then_reconnect_story_and_exits_cleanly() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pos_promo.sync.demo"],
        env=env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,  # bounds a hung demo; each of its steps waits up to 90 s
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "HQ goes away" in out
    assert "HQ is back on the same port" in out
    words = " ".join(out.split())  # receipts wrap at 42 columns
    assert (
        "“Club night: spend $20 save $3, 3 times per member” (club-3x): "
        "Member has already used this the 3 times allowed."
    ) in words
    assert out.count("$70.00 of $100.00, nothing granted") == 2  # neither store alone
    # both wallets receive it, and it reads by its template's name, not its UUID
    assert out.count("HQ granted the gift: coupon “$5 off your next order” (…") == 2
    assert "$5 off your next order" in out  # and the member spends it
    assert "#1 granted by HQ, from both stores' spend; granted once." in out
    assert "Everything stopped." in out
