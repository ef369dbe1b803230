"""The compiled engine (pos_promo.native): used only when built for this
interpreter from the sources beside it, and never in part."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from pos_promo import native
from pos_promo.engine.candidate import Candidate
from pos_promo.engine.run_parts import Fill, Tier

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder whose manifest is that of a build of the sources as they are."""
    monkeypatch.delenv("POS_PROMO_PURE", raising=False)
    (tmp_path / "sources.txt").write_text(native._manifest(), encoding="utf-8")
    return tmp_path


def test_a_build_of_these_sources_goes_first_on_the_engines_path(built: Path) -> None:
    path = ["/the/engine"]
    assert native.activate(path, str(built)) is True
    assert path == [str(built), "/the/engine"]


def test_a_build_of_an_older_source_is_not_used(built: Path) -> None:
    manifest = (built / "sources.txt").read_text(encoding="utf-8").splitlines()
    at = 1 + native.COMPILED.index("selection")
    name, crc, size = manifest[at].split()
    assert name == "selection"
    manifest[at] = f"selection {'0' if crc[0] != '0' else '1'}{crc[1:]} {size}"
    (built / "sources.txt").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    path = ["/the/engine"]
    assert native.activate(path, str(built)) is False
    assert path == ["/the/engine"]


def test_another_interpreters_build_is_not_used(built: Path) -> None:
    manifest = (built / "sources.txt").read_text(encoding="utf-8").splitlines()
    assert manifest[0] == sys.implementation.cache_tag
    manifest[0] = "cpython-399"
    (built / "sources.txt").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    path = ["/the/engine"]
    assert native.activate(path, str(built)) is False
    assert path == ["/the/engine"]


def test_nothing_built_runs_as_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POS_PROMO_PURE", raising=False)
    path = ["/the/engine"]
    assert native.activate(path, str(tmp_path / "nothing")) is False
    assert path == ["/the/engine"]


def test_pos_promo_pure_keeps_the_source(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POS_PROMO_PURE", "1")
    path = ["/the/engine"]
    assert native.activate(path, str(built)) is False
    assert path == ["/the/engine"]


def test_the_manifest_names_each_compiled_module_its_crc_and_size() -> None:
    lines = native._manifest().splitlines()
    assert lines[0] == sys.implementation.cache_tag
    assert [line.split()[0] for line in lines[1:]] == list(native.COMPILED)
    sources = Path(native.__file__).parent / "engine"
    for line, name in zip(lines[1:], native.COMPILED, strict=True):
        text = (sources / f"{name}.py").read_bytes()
        assert line == f"{name} {zlib.crc32(text):08x} {len(text)}"


def test_this_run_runs_the_engine_the_way_it_was_asked_to() -> None:
    """`make test` runs every test with the engine as Python (POS_PROMO_PURE=1)
    and, once built, again with POS_PROMO_NATIVE=1, where every compiled
    module must be the extension; a plain run has all of them or none."""
    running = native.compiled_modules()
    if os.environ.get("POS_PROMO_NATIVE") == "1":
        assert running == list(native.COMPILED)
    elif os.environ.get("POS_PROMO_PURE") == "1":
        assert running == []
    else:
        assert running in ([], list(native.COMPILED))


def status(env: dict[str, str]) -> str:
    code = "import sys; from pos_promo.native import main; sys.exit(main(['status']))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env
    )
    return out.stdout


def test_status_says_which_modules_run_compiled() -> None:
    """As Python whatever is built with POS_PROMO_PURE=1; in the compiled
    run of `make test` (POS_PROMO_NATIVE=1), every module compiled."""
    pure = dict(os.environ, POS_PROMO_PURE="1")
    assert (
        status(pure)
        == "compiled: none; as Python: masks, money, prices, promotion_facts, qualifying,"
        " selection, spend_and_save\n"
    )
    if os.environ.get("POS_PROMO_NATIVE") == "1":
        built = {k: v for k, v in os.environ.items() if k != "POS_PROMO_PURE"}
        everything = (
            "compiled: masks, money, prices, promotion_facts, qualifying, selection,"
            " spend_and_save; as Python: none\n"
        )
        assert status(built) == everything


def test_no_compiled_module_defines_a_struct() -> None:
    """mypyc does not honour a msgspec struct's class options (``frozen``,
    ``gc=False``): a struct defined in a compiled module would be mutable,
    unhashable and tracked there and not in the Python run. The compiled
    modules keep theirs in modules of their own (candidate, run_parts)."""
    found = []
    for name in native.COMPILED:
        path = ROOT / "pos_promo" / "engine" / f"{name}.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(base) for base in node.bases]
                if any(base == "Struct" or base.endswith(".Struct") for base in bases):
                    found.append(f"{name}.{node.name}")
    assert found == []
    for struct in (Candidate, Fill, Tier):
        assert struct.__struct_config__.frozen
        assert not struct.__struct_config__.gc
