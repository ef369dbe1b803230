"""The wheel a POS vendor installs: only ``pos_promo*`` names at the top of
site-packages, the demo data inside, and ``pos-promo demo`` running from a
fresh virtual environment in a folder far from the checkout.

It builds with ``python -m build --wheel`` (the PyPA front end, in an
isolated environment that fetches setuptools from the package registry),
from a copy of the tree so the checkout gets no ``build/`` folder, and
installs with pip's cache, so it takes tens of seconds; it is marked
``wheel`` and runs in ``make test`` like any other.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import pos_promo

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.wheel


def _run(*args: str | Path, cwd: Path, timeout: float = 240) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(
        ROOT,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            # the tools' caches by name: a pattern like "*cache*" also dropped
            # pos_promo/till/cache.py from the wheel
            ".venv",
            ".git",
            ".pytest_cache",
            ".mypy_cache",
            ".ruff_cache",
            ".hypothesis",
            "__pycache__",
            "build",
            "*.egg-info",
            ".mypy_path",
            "*.db*",
        ),
    )
    out = tmp / "dist"
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", out, source, cwd=tmp)
    (built,) = out.glob("pos_promo-*.whl")
    return built


def test_the_wheel_holds_only_pos_promo_names_the_demo_data_and_the_licence(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert top == {
        "pos_promo",
        "pos_promo_daemon",
        "pos_promo_hq",
        f"pos_promo-{pos_promo.__version__}.dist-info",
    }
    # every module of the checkout, under the name it installs as
    installed_as = {"pos_promo": "pos_promo", "hq": "pos_promo_hq", "daemon": "pos_promo_daemon"}
    modules = {
        f"{name}/{path.relative_to(ROOT / folder).as_posix()}"
        for folder, name in installed_as.items()
        for path in (ROOT / folder).rglob("*.py")
    }
    assert modules - set(names) == set()
    assert "pos_promo/till/cache.py" in names
    assert "pos_promo/demo_data/campaigns.json" in names
    assert "pos_promo/demo_data/carts/1-weekday-lunch.json" in names
    # the message catalogs are read from their .po sources: nothing to compile
    assert "pos_promo/i18n/locales/zh_Hans/LC_MESSAGES/pos_promo.po" in names
    assert "pos_promo/i18n/locales/en/LC_MESSAGES/pos_promo.po" in names
    assert any(name.endswith("dist-info/licenses/LICENSE") for name in names) or any(
        name.endswith("dist-info/LICENSE") for name in names
    )


def test_pos_promo_demo_runs_from_a_fresh_venv_in_any_folder(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    _run(bin_dir / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    out = _run(bin_dir / "pos-promo", "demo", cwd=elsewhere)
    assert out.startswith("pos_promo demo: 5 campaigns cached for store-downtown")
    assert out.count("=" * 64) == 8  # four receipts, each under a two-rule heading
    assert (
        "  “Lunch: spend $30 save $4, $50 save $8”\n"
        "  (lunch-spend-save):\n"
        "    $16.00 of $30.00 on eligible items.\n"
    ) in out
    # the demo ends with the $16 lunch that misses every offer, each one saying why
    assert out.rstrip("\n").splitlines()[-16:] == [
        "TOTAL                               $16.00",
        "------------------------------------------",
        "Not applied:",
        "  “Drinks: buy 2 get 1 free”",
        "  (drinks-3-for-2):",
        "    1 of 3 eligible items.",
        "  “Gold members: spend $60 save $12”",
        "  (gold-weekend):",
        "    Members only: identify the member",
        "    first.",
        "  “Lunch: spend $30 save $4, $50 save $8”",
        "  (lunch-spend-save):",
        "    $16.00 of $30.00 on eligible items.",
        "  “Staff meal: 3 items save $5”",
        "  (staff-meal):",
        "    2 of 3 eligible items.",
    ]

    for command in ("pos-promo", "pos-promo-hq", "pos-promo-daemon"):
        version = _run(bin_dir / command, "--version", cwd=elsewhere)
        assert version == f"{command} {pos_promo.__version__}\n"
    assert "--config" in _run(bin_dir / "python", "-m", "pos_promo_daemon", "--help", cwd=elsewhere)
    assert "--stores" in _run(bin_dir / "python", "-m", "pos_promo_hq", "--help", cwd=elsewhere)
    site = _run(
        bin_dir / "python",
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        cwd=elsewhere,
    ).strip()
    assert not (Path(site) / "daemon").exists()
    assert not (Path(site) / "hq").exists()
    assert not (Path(site) / "fixtures").exists()
