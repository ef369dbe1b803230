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
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "HQ goes away" in out
    assert "HQ is back on the same port" in out
    assert "club-3x [total_limit_reached]" in out
    assert "Everything stopped." in out
