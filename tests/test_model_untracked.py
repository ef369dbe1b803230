"""Every wire type is a value the cyclic garbage collector need not track
(see ``pos_promo/model/__init__.py``): a struct added without ``gc=False``
fails here."""

from __future__ import annotations

import gc
import importlib
import inspect
import pkgutil

import msgspec

import pos_promo.model
from pos_promo.codec import decode_cart
from tests.store.builders import cart, dump, line


def model_structs() -> list[type[msgspec.Struct]]:
    found = []
    for info in pkgutil.iter_modules(pos_promo.model.__path__):
        module = importlib.import_module(f"pos_promo.model.{info.name}")
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, msgspec.Struct)
                and obj.__module__ == module.__name__
            ):
                found.append(obj)
    return found


def test_every_model_struct_is_untracked() -> None:
    structs = model_structs()
    assert len(structs) > 50  # the walk found the model
    assert [s.__qualname__ for s in structs if s.__struct_config__.gc] == []


def test_a_decoded_cart_is_not_tracked() -> None:
    decoded = decode_cart(dump(cart(line("A", 1000), line("B", 500))))
    assert not gc.is_tracked(decoded)
    assert not any(gc.is_tracked(one) for one in decoded.lines)
