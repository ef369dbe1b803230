"""The message catalogs: gettext ``.po`` files read through Babel.

The ``.po`` sources under ``locales/`` are the catalogs themselves: they are
parsed and turned into gettext translations the first time a language is
asked for, so a fresh clone and an installed wheel need no compile step.
A locale is matched to a catalog by its CLDR likely script (``zh_CN`` and
``zh`` read ``zh_Hans``; ``zh_TW`` is ``zh_Hant``, which has no catalog, and
reads English rather than the wrong script).

``pathlib`` (with ``urllib.parse`` and ``ipaddress``, ~10 ms) is imported
only when a catalog is looked for: a till opening checks its locale here
and reads no words.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Babel and gettext are imported where used: a till selling reads no words
    import gettext
    from pathlib import Path

    from babel import Locale

    LOCALES: Path  # made on first use: see __getattr__

__all__ = ["DOMAIN", "LOCALES", "catalog_path", "parse_locale", "translations"]

DOMAIN = "pos_promo"


def __getattr__(name: str) -> Path:
    """``LOCALES``, the folder of the catalogs, made the first time it is asked for."""
    if name != "LOCALES":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _locales()


@functools.cache
def _locales() -> Path:
    from pathlib import Path

    return Path(__file__).parent / "locales"


def parse_locale(name: str) -> Locale:
    """The CLDR locale ``name`` (``en_US``, ``de-DE``, ``zh_CN``); ``ValueError`` if unknown."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown locale {name!r}") from exc


def catalog_path(language: str) -> Path:
    """Where the ``.po`` catalog of ``language`` (``en``, ``zh_Hans``) lives."""
    return _locales() / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _candidates(locale: Locale) -> list[str]:
    from babel import Locale
    from babel.core import get_global

    script = locale.script
    if script is None:
        likely = get_global("likely_subtags").get(locale.language)
        script = Locale.parse(likely).script if likely else None
    found = [f"{locale.language}_{script}"] if script else []
    if locale.territory:
        found.append(f"{locale.language}_{locale.territory}")
    if locale.language != "zh":  # Chinese in another script is not Chinese to read
        found.append(locale.language)
    return found


@functools.cache
def translations(locale: str) -> gettext.NullTranslations:
    """The gettext translations for ``locale``; English (the message ids) when
    no catalog fits. Built once per locale and kept: catalogs do not change
    while the program runs."""
    import gettext

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for name in _candidates(parse_locale(locale)):
        path = catalog_path(name)
        if path.is_file():
            with path.open("rb") as po:
                catalog = read_po(po, locale=name, domain=DOMAIN)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            return gettext.GNUTranslations(buffer)
    return gettext.NullTranslations()
