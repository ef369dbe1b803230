"""The package's rooms keep their jobs: the engine computes, the store records.

The embedded engine (:mod:`pos_promo.till`, behind :class:`pos_promo.Engine`)
reads through the store, computes through the engine and records through
the store. A store module that called an engine function would be deciding
again (how much a refund gives back, which grants a total no longer reaches),
so the store may import only *types* from :mod:`pos_promo.engine`; and the
engine, pure, imports nothing that reaches a database, a file or a clock.
Checked on the source (AST), so an import inside a function counts too.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pos_promo"

# what the engine may import from outside itself: values, types and pure helpers
ENGINE_MAY_IMPORT = {
    "__future__",
    "bisect",
    "collections",
    "copy",  # an index update copies the other stores' campaigns without reading them
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "functools",
    "heapq",
    "itertools",
    "math",
    "msgspec",
    "operator",
    "typing",
    "uuid",
    "zoneinfo",
    "pos_promo.engine",
    "pos_promo.errors",
    "pos_promo.ids",
    "pos_promo.limits",
    "pos_promo.model",
}
# and single names: the store's time zone, looked up (and checked) like zoneinfo does
ENGINE_MAY_IMPORT_NAMES = {("pos_promo.codec", "load_zone")}


def imports(path: Path) -> list[tuple[str, str | None, int]]:
    """``(module, name or None, line)`` of every import in a source file."""
    found: list[tuple[str, str | None, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.module, alias.name, node.lineno) for alias in node.names]
    return found


def is_type(obj: object) -> bool:
    """A class, or an alias of one (``LineUnits = tuple[...]``): names that
    describe data, not code that decides about it."""
    return inspect.isclass(obj) or isinstance(obj, types.GenericAlias | types.UnionType)


def engine_calls_in_store() -> list[str]:
    wrong = []
    for path in sorted((PACKAGE / "store").glob("*.py")):
        where = f"{path.relative_to(ROOT)}"
        for module, name, line in imports(path):
            if module == "pos_promo" and name == "engine":
                wrong.append(f"{where}:{line} imports the engine package")
            if not module.startswith("pos_promo.engine"):
                continue
            if name is None:
                wrong.append(f"{where}:{line} imports module {module}")
                continue
            obj = getattr(importlib.import_module(module), name)
            if not is_type(obj):
                wrong.append(f"{where}:{line} imports {module}.{name}, which computes")
    return wrong


def test_the_store_imports_no_computing_function_from_the_engine() -> None:
    assert engine_calls_in_store() == []


def test_the_engine_imports_nothing_that_does_io() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((PACKAGE / "engine").glob("*.py"))
        for module, name, line in imports(path)
        if not any(module == ok or module.startswith(ok + ".") for ok in ENGINE_MAY_IMPORT)
        and (module, name) not in ENGINE_MAY_IMPORT_NAMES
    ]
    assert wrong == []


def test_the_check_sees_a_computing_import(tmp_path: Path) -> None:
    """The AST walk and the type test tell a function from a type."""
    source = tmp_path / "probe.py"
    source.write_text(
        "from pos_promo.engine.grants import grant_id, PlannedCoupon\n"
        "def later():\n    import pos_promo.engine.money\n"
    )
    found = imports(source)
    assert found == [
        ("pos_promo.engine.grants", "grant_id", 1),
        ("pos_promo.engine.grants", "PlannedCoupon", 1),
        ("pos_promo.engine.money", None, 3),
    ]
    grants = importlib.import_module("pos_promo.engine.grants")
    assert not is_type(grants.grant_id)
    assert is_type(grants.PlannedCoupon)
    assert is_type(importlib.import_module("pos_promo.engine.accrual").LineUnits)
