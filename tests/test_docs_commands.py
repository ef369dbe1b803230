"""Every shell command the README and docs/*.md show runs as written.

The sqlite-utils habit: documentation that is tested does not rot. Each
page's ```sh and ```bash fences run, in order, in a fresh temporary folder
holding a copy of ``fixtures/`` (so ``fixtures/demo/store.json`` and friends
resolve as they do in a checkout), with this venv's ``pos-promo``,
``pos-promo-hq`` and ``pos-promo-daemon`` first on the PATH. A command that
exits non-zero fails the test with the page, the line and the command.
```text fences are illustrative (servers, daemons, PostgreSQL) and are not
run. Pages do not share a folder: each page's commands must stand on their
own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\w*)\s*$")


def shell_commands(text: str) -> list[tuple[int, str]]:
    """``(line number, command)`` for each command of the sh/bash fences,
    backslash continuations joined; blank and comment-only lines skipped."""
    found: list[tuple[int, str]] = []
    language: str | None = None
    pending: tuple[int, str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        fence = FENCE.match(line)
        if fence:
            language = None if language is not None else fence.group(1)
            continue
        if language not in ("sh", "bash"):
            continue
        start, command = (pending[0], pending[1] + "\n" + line) if pending else (number, line)
        pending = None
        if command.rstrip().endswith("\\"):
            pending = (start, command)
            continue
        if command.strip() and not command.lstrip().startswith("#"):
            found.append((start, command))
    return found


def test_commands_are_read_with_their_line_numbers_and_continuations() -> None:
    page = "a\n```sh\nfoo \\\n  --bar\n# note\n\nbaz  # x\n```\n```text\nnot run\n```\n"
    assert shell_commands(page) == [(3, "foo \\\n  --bar"), (7, "baz  # x")]


PAGES = [
    page
    for page in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
    if shell_commands(page.read_text())
]


def test_the_readme_shows_commands_to_run() -> None:
    assert ROOT / "README.md" in PAGES


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_documented_shell_command_runs(page: Path, tmp_path: Path) -> None:
    commands = shell_commands(page.read_text())
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    name = page.relative_to(ROOT).as_posix()
    for number, command in commands:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(
                f"{name}:{number}: `{command}` exited {done.returncode}\n"
                f"stdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-2000:]}",
                pytrace=False,
            )
