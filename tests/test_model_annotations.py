"""Every wire type's annotations are evaluated objects, not strings (see
``pos_promo/model/__init__.py``): a model module that goes back to
``from __future__ import annotations`` makes the first decoder a till builds
compile each of them again, and fails here."""

from __future__ import annotations

from tests.test_model_untracked import model_structs


def test_every_model_struct_has_evaluated_annotations() -> None:
    structs = model_structs()
    assert len(structs) > 50  # the walk found the model
    strings = [
        f"{struct.__qualname__}.{name}"
        for struct in structs
        for name, annotation in vars(struct).get("__annotations__", {}).items()
        if isinstance(annotation, str)
    ]
    assert strings == []
