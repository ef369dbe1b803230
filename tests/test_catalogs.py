"""The message catalogs are complete, current and safe to format.

Every sentence the code asks for (Babel's extractor reads it from the
source, as ``make messages`` does) is in the template and translated in
every catalog, with the same ``{fields}``; no catalog keeps sentences the
code no longer uses. A fresh clone reads the ``.po`` files as they are.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from pos_promo.i18n.catalog import LOCALES, catalog_path, translations

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [*sorted((ROOT / "pos_promo" / "i18n").glob("*.py")), ROOT / "pos_promo" / "render.py"]
LANGUAGES = ["en", "zh_Hans"]

MessageId = str | tuple[str, ...]


def in_code() -> set[MessageId]:
    found: set[MessageId] = set()
    for path in SOURCES:
        for _, message, _, _ in extract_from_file(
            "python", str(path), keywords={"_": None, "n_": (1, 2)}
        ):
            found.add(message if isinstance(message, str) else tuple(message))
    return found


def load(path: Path) -> Catalog:
    with path.open("rb") as po:
        return read_po(po)


def ids(catalog: Catalog) -> set[MessageId]:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_code_asks_for_sentences_through_the_catalog() -> None:
    assert len(in_code()) >= 90


def test_the_template_holds_exactly_the_sentences_of_the_code() -> None:
    assert ids(load(LOCALES / "pos_promo.pot")) == in_code()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_translates_every_sentence_with_the_same_fields(language: str) -> None:
    catalog = load(catalog_path(language))
    assert ids(catalog) == in_code()
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        sources = [message.id] if isinstance(message.id, str) else list(message.id)
        targets = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(targets), message.id
        wanted = set().union(*(fields(s) for s in sources))
        for target in targets:
            # a plural form may leave out the number ({n}) where its words say it
            assert fields(target) <= wanted and fields(target) >= wanted - {"n"}, message.id


def test_chinese_is_read_for_simplified_chinese_locales_only() -> None:
    sentence = "Members only: identify the member first."
    assert translations("zh_CN").gettext(sentence) == "仅限会员：请先识别会员。"
    assert translations("zh_Hans_SG").gettext(sentence) == "仅限会员：请先识别会员。"
    assert translations("zh_TW").gettext(sentence) == sentence
    assert translations("en_US").gettext(sentence) == sentence
    assert translations("fr_FR").gettext(sentence) == sentence
