"""Every public name says what it is for.

The face is ``pos_promo.__all__``: each class and function there, and each
public method and property of those classes, carries its own docstring
(``help(pos_promo.Engine)`` is what a vendor reads first). Beyond the face,
every public function and class defined in a module of ``pos_promo``,
``pos_promo_hq`` and ``pos_promo_daemon``, and every public method and
property of those classes, carries one too: the next engineer reads the
modules, not only the face.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

import pos_promo_daemon
import pos_promo_hq
import pytest

import pos_promo


def undocumented() -> list[str]:
    missing = []
    for name in pos_promo.__all__:
        obj = getattr(pos_promo, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if not inspect.isclass(obj):
            continue
        for attr, value in vars(obj).items():
            if attr.startswith("_"):
                continue
            func = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
            if inspect.isfunction(func) and not (func.__doc__ or "").strip():
                missing.append(f"{name}.{attr}")
    return missing


def test_every_public_name_and_method_has_a_docstring() -> None:
    assert undocumented() == []


def written_doc(module: ModuleType, cls: type) -> str:
    """A class's docstring as its module's source writes it. mypyc keeps only
    a compiled class's signature (``__doc__`` is empty), so a module the
    engine runs compiled is checked against the source it was built from."""
    source = Path(pos_promo.__file__).parent.parent.joinpath(*module.__name__.split("."))
    tree = ast.parse(source.with_suffix(".py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            return (ast.get_docstring(node) or "").strip()
    return ""


def own_doc(obj: object, module: ModuleType | None = None) -> str:
    """The object's own docstring; a dataclass or NamedTuple without one gets
    its signature as ``__doc__``, which says nothing about why it exists."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    if inspect.isclass(obj) and doc.startswith(obj.__name__ + "("):
        return ""
    if inspect.isclass(obj) and not doc and module is not None and compiled(module):
        return written_doc(module, obj)
    return doc


def compiled(module: ModuleType) -> bool:
    """Whether the module was loaded from a mypyc build (see pos_promo.native)."""
    return Path(getattr(module, "__file__", None) or "").suffix in {".so", ".pyd"}


def defined_in(func: object, cls: type) -> bool:
    """Whether ``func`` is a method written in ``cls``'s body (not a lambda
    or an outside function given as a field's default)."""
    qualname = getattr(func, "__qualname__", "")
    return qualname.startswith(cls.__qualname__ + ".") and not qualname.endswith("<lambda>")


def undocumented_in(module: ModuleType) -> list[str]:
    """Public functions, classes, methods and properties the module defines
    without a docstring (names it imports are checked where they live)."""
    name = module.__name__
    missing = []
    for attr, obj in vars(module).items():
        if attr.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if obj.__module__ != name:
            continue
        if not own_doc(obj, module):
            missing.append(f"{name}.{attr}")
        if not inspect.isclass(obj):
            continue
        for method, value in vars(obj).items():
            if method.startswith("_"):
                continue
            func = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
            if not inspect.isfunction(func) or not defined_in(func, obj):
                continue  # a field whose default is a function (a clock) is no method
            if not (func.__doc__ or "").strip():
                missing.append(f"{name}.{attr}.{method}")
    return missing


def every_module() -> list[ModuleType]:
    """Every module of the three packages, the packages themselves included."""
    names = []
    for package in (pos_promo, pos_promo_hq, pos_promo_daemon):
        names.append(package.__name__)
        names += [
            info.name
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
            if not info.name.endswith("__main__")
        ]
    return [importlib.import_module(name) for name in sorted(names)]


def test_every_public_name_in_every_module_has_a_docstring() -> None:
    missing = [entry for module in every_module() for entry in undocumented_in(module)]
    assert missing == []


def test_the_module_walk_finds_what_lacks_a_docstring(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module with one undocumented function, class, method and property,
    beside documented ones and an imported name, yields exactly those four."""
    probe = ModuleType("probe")
    monkeypatch.setitem(sys.modules, "probe", probe)  # where @dataclass looks its module up
    source = (
        "from dataclasses import dataclass\n"
        "from inspect import isclass\n"
        "def bare(): pass\n"
        "def told():\n    'Why.'\n"
        "def _hidden(): pass\n"
        "@dataclass\n"
        "class Plain:\n"
        "    x: int = 0\n"
        "    clock: object = lambda: 0\n"
        "    wait: object = told\n"
        "    def method(self): pass\n"
        "    @property\n"
        "    def prop(self): return 1\n"
        "    def _private(self): pass\n"
        "class Said:\n"
        "    'Why.'\n"
        "    def method(self):\n        'Why.'\n"
    )
    exec(compile(source, "probe", "exec"), probe.__dict__)
    assert undocumented_in(probe) == [
        "probe.bare",
        "probe.Plain",
        "probe.Plain.method",
        "probe.Plain.prop",
    ]


def test_the_face_holds_the_engine_and_every_error_a_caller_may_catch() -> None:
    errors = {
        name
        for name, obj in inspect.getmembers(pos_promo.errors, inspect.isclass)
        if issubclass(obj, pos_promo.PromoError)
    }
    assert errors <= set(pos_promo.__all__)
    assert "Engine" in pos_promo.__all__
    assert pos_promo.Engine.__module__ == "pos_promo.embedded"
    assert not {"mark_sent", "pending_events"} & set(vars(pos_promo.Engine))


def test_a_compiled_class_is_checked_against_the_docstring_its_source_writes() -> None:
    """mypyc leaves a compiled class only its signature; the walk reads the
    source it was built from, so a class compiled or not is held to the same
    words (and one without any would still be named)."""
    from pos_promo.engine import promotion_facts, qualifying

    assert written_doc(promotion_facts, promotion_facts.PromotionFacts).startswith(
        "A Spend & Save campaign's facts as one store sees them"
    )
    assert written_doc(qualifying, qualifying.Qualifying).startswith(
        "The promotions that give something on their own"
    )
    assert written_doc(qualifying, type("Nowhere", (), {})) == ""
