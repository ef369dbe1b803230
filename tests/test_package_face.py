"""The package's promises to POS vendors: a sorted public API, one error root,
JSON Schemas that match the types, and a README that documents every command."""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
from pathlib import Path

import pos_promo_daemon
import pos_promo_hq
import pytest

import pos_promo
import pos_promo.errors
from pos_promo.cli import build_parser
from pos_promo.schemas import SCHEMAS, schema_json

ROOT = Path(__file__).resolve().parent.parent


def isort_style(names: list[str]) -> list[str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""

    def group(name: str) -> int:
        if name.isupper() and len(name) > 1:
            return 0
        return 1 if name[:1].isupper() else 2

    return sorted(names, key=lambda name: (group(name), name))


def all_modules() -> list[str]:
    """Every module that is not a package: each must declare its public names."""
    return sorted(
        info.name
        for package in (pos_promo, pos_promo_hq, pos_promo_daemon)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        if not info.ispkg
        and not info.name.endswith("__main__")
        # (the runtime mypyc builds beside the compiled engine modules, see
        # pos_promo.native: generated, not the project's to document)
        and not info.name.endswith("__mypyc")
    )


def test_every_module_has_a_sorted_all_naming_real_things() -> None:
    for name in all_modules():
        module = importlib.import_module(name)
        exported = list(getattr(module, "__all__", ["<missing __all__>"]))
        assert exported == isort_style(exported), name
        for symbol in exported:
            assert hasattr(module, symbol), f"{name}.{symbol}"


def test_package_all_is_sorted_and_importable() -> None:
    assert pos_promo.__all__ == isort_style(pos_promo.__all__)
    assert all(hasattr(pos_promo, name) for name in pos_promo.__all__)


def test_every_error_subclasses_promo_error_and_is_in_the_docstring_tree() -> None:
    errors = [
        obj
        for _, obj in inspect.getmembers(pos_promo.errors, inspect.isclass)
        if issubclass(obj, Exception) and obj.__module__ == "pos_promo.errors"
    ]
    doc = pos_promo.errors.__doc__ or ""
    for error in errors:
        assert issubclass(error, pos_promo.PromoError), error
        assert error.__name__ in doc, f"{error.__name__} missing from the tree in errors.py"


def test_schema_files_match_the_types() -> None:
    for name in SCHEMAS:
        written = (ROOT / "docs" / "schema" / f"{name}.json").read_text()
        assert written == schema_json(name), f"run `make schema`: docs/schema/{name}.json drifted"


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix}{name}")
                found += commands(sub, f"{prefix}{name} ")
    return found


def test_readme_documents_every_cli_command() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [
        c
        for c in commands(build_parser())
        if f"pos-promo {c}" not in readme and f"--db till.db {c}" not in readme
    ]
    assert not missing, f"README.md does not show: {missing}"


def test_readme_python_example_prints_what_its_comments_say(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text()
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    promised = [line.split("  # ", 1)[1] for line in code.splitlines() if "print(" in line]
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.splitlines() == promised


def test_every_package_folder_goes_into_the_wheel_under_a_project_name() -> None:
    """The wheel lists packages by hand (hq/ and daemon/ are renamed on install)."""
    import tomllib

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {"pos_promo_hq": "hq", "pos_promo_daemon": "daemon"}
    assert setup["package-dir"] == folders
    found = {"pos_promo_hq", "pos_promo_daemon"} | {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "pos_promo").rglob("__init__.py")
    }
    assert sorted(setup["packages"]) == sorted(found)
    assert all(name.startswith("pos_promo") for name in setup["packages"])
    for folder in folders.values():
        assert not list((ROOT / folder).glob("*/__init__.py")), f"{folder}/ has a subpackage"
