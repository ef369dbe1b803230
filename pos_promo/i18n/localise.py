"""A result with its sentences filled in, for people and for scripts alike.

The engine leaves ``message`` (and a gift preview's ``progress``) empty:
wording belongs to the edge, which knows who reads it. :func:`localise`
fills them in the store's language; the codes and their facts stay as they
are, so a POS may still translate the codes itself.
"""

from __future__ import annotations

from typing import overload

import msgspec

from pos_promo.i18n.format import Words, words_for
from pos_promo.i18n.reasons import accrual_message, not_applied_message, progress
from pos_promo.model.cart import StoreContext
from pos_promo.model.result import Applied, EvaluationResult, NotApplied

__all__ = ["localise"]


@overload
def localise(result: EvaluationResult, store: StoreContext | Words) -> EvaluationResult: ...
@overload
def localise(result: NotApplied, store: StoreContext | Words) -> NotApplied: ...
@overload
def localise(result: Applied, store: StoreContext | Words) -> Applied: ...
def localise(
    result: EvaluationResult | NotApplied | Applied, store: StoreContext | Words
) -> EvaluationResult | NotApplied | Applied:
    """``result`` with every sentence written for ``store`` (its locale,
    currency and time zone); an :class:`Applied` needs none."""
    w = store if isinstance(store, Words) else words_for(store)
    if isinstance(result, NotApplied):
        return msgspec.structs.replace(result, message=not_applied_message(result, w))
    if isinstance(result, Applied):
        return result
    return msgspec.structs.replace(
        result,
        not_applied=tuple(
            msgspec.structs.replace(item, message=not_applied_message(item, w))
            for item in result.not_applied
        ),
        accruals=tuple(
            msgspec.structs.replace(a, progress=progress(a, w), message=accrual_message(a, w))
            for a in result.accruals
        ),
    )
