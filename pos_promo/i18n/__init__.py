"""Words for the cashier, in their language.

The engine answers in codes and facts; this package words them for one
store: sentences from gettext catalogs (``locales/*/LC_MESSAGES/*.po``, read
through Babel), money, dates, weekdays and times in the store's CLDR locale,
currency and time zone. English is the catalogs' source language; Simplified
Chinese (``zh_Hans``: ``zh_CN``, ``zh_SG``) is translated.
"""

from pos_promo.i18n.catalog import parse_locale, translations
from pos_promo.i18n.format import Words, display_width, words_for
from pos_promo.i18n.localise import localise
from pos_promo.i18n.reasons import accrual_message, not_applied_message, progress, progress_of

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
