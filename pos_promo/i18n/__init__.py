"""Words for the cashier, in their language.

The engine answers in codes and facts; this package words them for one
store: sentences from gettext catalogs (``locales/*/LC_MESSAGES/*.po``, read
through Babel), money, dates, weekdays and times in the store's CLDR locale,
currency and time zone. English is the catalogs' source language; Simplified
Chinese (``zh_Hans``: ``zh_CN``, ``zh_SG``) is translated.

Checking a store's locale (:func:`parse_locale`) is all a till needs from
here to open and sell; the wording modules import Babel's dates and numbers,
so their names are imported the first time one is asked for.
"""

from typing import TYPE_CHECKING

from pos_promo.i18n.catalog import parse_locale, translations
from pos_promo.lazy import on_first_use

if TYPE_CHECKING:  # imported on first use: see __getattr__
    from pos_promo.i18n.format import Words, display_width, words_for
    from pos_promo.i18n.localise import localise
    from pos_promo.i18n.reasons import (
        accrual_message,
        not_applied_message,
        progress,
        progress_of,
    )

_ON_FIRST_USE = {
    "Words": "pos_promo.i18n.format",
    "accrual_message": "pos_promo.i18n.reasons",
    "display_width": "pos_promo.i18n.format",
    "localise": "pos_promo.i18n.localise",
    "not_applied_message": "pos_promo.i18n.reasons",
    "progress": "pos_promo.i18n.reasons",
    "progress_of": "pos_promo.i18n.reasons",
    "words_for": "pos_promo.i18n.format",
}


__getattr__ = on_first_use(__name__, _ON_FIRST_USE, globals())


__all__ = [
    "Words",
    "accrual_message",
    "display_width",
    "localise",
    "not_applied_message",
    "parse_locale",
    "progress",
    "progress_of",
    "translations",
    "words_for",
]
