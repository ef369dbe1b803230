"""Every name a POS vendor imports from ``pos_promo`` says what it is for.

The face is ``pos_promo.__all__``: each class and function there, and each
public method and property of those classes, carries its own docstring
(``help(pos_promo.Engine)`` is what a vendor reads first).
"""

from __future__ import annotations

import inspect

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
