"""The gettext catalogs (locales/<language>/LC_MESSAGES/softskills.po, one per language; locales/softskills.pot is
the template Babel extracts from the code) and the translators that say texts with them.

The .po files are read as they are (Babel's reader), once per process and language: no compiled .mo files to keep
in step. A message the catalog lacks, or has empty or fuzzy, raises MissingTranslation: an answer is never half
English (tests/test_catalogs.py checks every catalog has every message, so this does not happen in a release).
Numbers keep Python's rounding (the digits English shows) and take the locale's separators (Babel, CLDR data);
lists are joined the locale's way (CLDR list patterns); plurals follow the catalog's Plural-Forms header.
"""

from __future__ import annotations

import gettext
import numbers
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.lists import format_list
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

from softskills.models.i18n.text import ENGLISH, SOURCE_LANGUAGE, MissingTranslation, Translator

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "softskills"
TEMPLATE = LOCALES / f"{DOMAIN}.pot"
# Scripts whose sentences end in an ideographic full stop.
IDEOGRAPHIC_FULL_STOP = frozenset({"ja", "zh"})


def catalog_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=1)
def feedback_languages() -> tuple[str, ...]:
    """The languages the answer can be written in: English and every language with a catalog."""
    return (SOURCE_LANGUAGE, *sorted(p.parent.parent.name for p in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po")))


class CatalogTranslator(Translator):
    """Says texts in a language from its catalog."""

    def __init__(self, language: str, path: Path) -> None:
        super().__init__(language)
        with path.open("rb") as po:
            catalog = read_po(po, locale=language)
        self.locale = Locale.parse(language)
        self._plural_index = gettext.c2py(catalog.plural_expr)
        self._messages = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in catalog if m.id and not m.fuzzy}

    def lookup(self, msgid: str, plural: str | None = None, count: int | None = None) -> str:
        said = self._messages.get(msgid)
        if plural is not None and isinstance(said, tuple):
            index = self._plural_index(count)
            said = said[index] if index < len(said) else None
        if not said or not isinstance(said, str):
            raise MissingTranslation(f"No {self.language!r} translation of {msgid!r}")
        return said

    def number(self, value: float, spec: str) -> str:
        kind = spec[-1:] if spec else ""
        if kind in ("", "d") and isinstance(value, numbers.Integral):
            return format(value, spec)
        if kind == "f":
            digits = int(spec.rsplit(".", 1)[1][:-1]) if "." in spec else 6
            return format_decimal(Decimal(format(value, spec)), format=_decimals(digits), locale=self.locale)
        if kind == "%" and spec in ("%", ".0%"):
            return format_percent(Decimal(format(100 * value, ".0f")) / 100, locale=self.locale)
        if kind == "g":
            return format_decimal(Decimal(format(value, spec)), format="0.######", locale=self.locale)
        raise ValueError(f"number format {spec!r} is not localised")

    def list(self, items: list[str], style: str) -> str:
        return format_list(items, style="standard", locale=self.locale)

    def full_stop(self) -> str:
        return "。" if self.language in IDEOGRAPHIC_FULL_STOP else "."


def _decimals(digits: int) -> str:
    return "0." + "0" * digits if digits else "0"


def default_feedback_language(spoken: str | None) -> str:
    """The answer's language when the client names none: the spoken one if a catalog has it, else English."""
    return spoken if spoken in feedback_languages() else SOURCE_LANGUAGE


@lru_cache(maxsize=None)
def translator(language: str) -> Translator:
    """The translator of a feedback language, built once per process."""
    if language == SOURCE_LANGUAGE:
        return ENGLISH
    path = catalog_path(language)
    if not path.is_file():
        raise MissingTranslation(f"No message catalog for {language!r} (languages: {', '.join(feedback_languages())})")
    return CatalogTranslator(language, path)
