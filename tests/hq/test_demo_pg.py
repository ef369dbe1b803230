"""``make demo-pg``: the offline-then-reconnect story with HQ on PostgreSQL under
gunicorn with two workers, two daemons pushing to it, told to the end."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests import pg
from tests.sync.harness import ROOT, env

pytestmark = pytest.mark.postgres


def test_the_demo_tells_the_same_story_on_postgresql_with_two_workers() -> None:
    pg.require()  # skips (or fails under CI) when the server is away
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pos_promo.sync.demo",
            "--database",
            pg.base_url(),
            "--workers",
            "2",
        ],
        env=env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "HQ on PostgreSQL, gunicorn with 2 worker process(es)." in out
    assert "HQ is back on the same port" in out
    words = " ".join(out.split())  # receipts wrap at 42 columns
    assert (
        "“Club night: spend $20 save $3, 3 times per member” (club-3x): "
        "Member has already used this the 3 times allowed."
    ) in words
    assert out.count("HQ granted the gift: coupon") == 2
    assert "#1 granted by HQ, from both stores' spend; granted once." in out
    assert "Everything stopped." in out
