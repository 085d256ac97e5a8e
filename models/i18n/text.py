"""The sentences a user reads, as records that can be said in any language of the catalogs.

A `Text` is a `str` whose value is the English text, so everything that reads models/ records (the tests, the
benchmarks, logs) reads them as before; it also remembers what it was made from (a catalog key and its values), so
the edge that builds the answer says it again in the user's language (`Translator.render`; the catalogs are read by
models/i18n/catalogs.py). English is the source language: its sentences are the catalog keys themselves, written as
Python format strings ("{value:.1f} fillers/min"), so the English text is exactly what an f-string gave.

Values inside a sentence: a number is formatted for the language (its format spec sets the digits: `.1f`, `.0%`,
`g`; the digits are Python's, the separators the locale's), a `Text` is said in the language too, and a plain `str`
is left as it is (words as spoken, clock times, language codes, the user's own context phrase).

`say`, `say_plural` and `N_` are the keywords Babel's extractor looks for (pyproject.toml, [tool.babel]).
"""

from __future__ import annotations

import numbers
import string
from collections.abc import Iterable
from typing import Any

SOURCE_LANGUAGE = "en"


class MissingTranslation(LookupError):
    """A sentence has no translation in the catalog of the language asked for (a bug: tests/test_catalogs.py)."""


class Text(str):
    """A piece of the answer: its English text, and how to say it in another language (`render`). Its fields are
    named apart from str's methods, which stay usable on the English text."""

    def __new__(cls, english: str, **fields: Any) -> Text:
        text = super().__new__(cls, english)
        text.__dict__.update(fields)
        return text

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self):
        # str's own pickling would rebuild it from the English text alone; the fields travel beside it.
        return _restore, (type(self), str(self), dict(self.__dict__))

    def render(self, translator: Translator) -> str:
        raise NotImplementedError


def _restore(cls: type, english: str, fields: dict) -> Text:
    return Text.__new__(cls, english, **fields)


class Message(Text):
    """A catalog entry and its values: gettext's msgid (with msgid_plural and the count that picks the form)."""

    msgid: str
    plural: str | None
    n: int | None  # the count that picks the plural form (not `count`: that is str.count)
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any], plural: str | None = None, n: int | None = None) -> Message:
        return super().__new__(
            cls, ENGLISH.say(msgid, params, plural, n), msgid=msgid, plural=plural, n=n, params=params
        )

    def render(self, translator: Translator) -> str:
        return translator.say(self.msgid, self.params, self.plural, self.n)


class Join(Text):
    """Several texts said as one: `series` ("0:04, 0:12, 0:30"), `and` ("clarity and confidence"), `clauses`
    ("no A (why); no B (why)") or `sentences` (one after the other)."""

    items: tuple[Any, ...]
    style: str

    def __new__(cls, items: Iterable[Any], style: str) -> Join:
        items = tuple(items)
        return super().__new__(cls, ENGLISH.join(items, style), items=items, style=style)

    def render(self, translator: Translator) -> str:
        return translator.join(self.items, self.style)


class Capitalised(Text):
    """A text said on its own: capitalised and, as a sentence, ending in the language's full stop."""

    inner: str
    full_stop: bool

    def __new__(cls, inner: str, full_stop: bool = True) -> Capitalised:
        return super().__new__(cls, ENGLISH.capitalised(inner, full_stop), inner=inner, full_stop=full_stop)

    def render(self, translator: Translator) -> str:
        return translator.capitalised(self.inner, self.full_stop)


class Clause(Text):
    """A sentence said inside another one: without its full stop."""

    inner: str

    def __new__(cls, inner: str) -> Clause:
        return super().__new__(cls, ENGLISH.clause(inner), inner=inner)

    def render(self, translator: Translator) -> str:
        return translator.clause(self.inner)


def say(msgid: str, /, **params: Any) -> Message:
    """The sentence `msgid` (a format string) with these values."""
    return Message(msgid, params)


def say_plural(singular: str, plural: str, count: int, /, **params: Any) -> Message:
    """The singular or plural sentence for `count` (the language's plural rule picks the form); `{n}` is the count."""
    return Message(singular, {"n": count, **params}, plural, count)


def N_(msgid: str) -> str:  # noqa: N802 (gettext's name for "a catalog key, translated where it is used")
    return msgid


# Translators: joins the clauses of a list, e.g. "no pace (why); no fillers (why)".
CLAUSE_PATTERN = N_("{earlier}; {later}")
# Translators: joins two sentences (Japanese and Chinese need no space after their full stop).
SENTENCE_PATTERN = N_("{earlier} {later}")


def series(items: Iterable[Any]) -> Join:
    return Join(items, "series")


def both(items: Iterable[Any]) -> Join:
    return Join(items, "and")


def clauses(items: Iterable[Any]) -> Join:
    return Join(items, "clauses")


def sentences(items: Iterable[Any]) -> Join:
    return Join(items, "sentences")


class Translator:
    """Says texts in one language. This one is the source language, English: a catalog key is its own text and
    numbers are Python's; models/i18n/catalogs.py reads the other languages from their catalogs."""

    def __init__(self, language: str = SOURCE_LANGUAGE) -> None:
        self.language = language
        self._formatter = _Formatter(self)

    def render(self, text: str | None) -> str | None:
        """The text in this language (None stays None). A plain `str` is English written without a catalog."""
        if text is None:
            return None
        if isinstance(text, Text):
            return str(text) if self.language == SOURCE_LANGUAGE else text.render(self)
        if self.language != SOURCE_LANGUAGE:
            raise MissingTranslation(f"Not a catalog message, so not said in {self.language!r}: {text!r}")
        return text

    def say(self, msgid: str, params: dict[str, Any], plural: str | None, count: int | None) -> str:
        return self._formatter.vformat(self.lookup(msgid, plural, count), (), params)

    def lookup(self, msgid: str, plural: str | None = None, count: int | None = None) -> str:
        return msgid if plural is None or count == 1 else plural

    def number(self, value: float, spec: str) -> str:
        return format(value, spec)

    def join(self, items: Iterable[Any], style: str) -> str:
        said = [self.value(x) for x in items]
        if not said:
            return ""
        if style in ("clauses", "sentences"):
            pattern = self.lookup(CLAUSE_PATTERN if style == "clauses" else SENTENCE_PATTERN)
            joined = said[0]
            for later in said[1:]:
                joined = pattern.format(earlier=joined, later=later)
            return joined
        return self.list(said, style)

    def list(self, items: list[str], style: str) -> str:
        # English keeps its comma lists (CLDR's "standard-narrow"); "and" is CLDR's standard list everywhere.
        from babel.lists import format_list

        return format_list(items, style="standard" if style == "and" else "standard-narrow", locale=self.language)

    def full_stop(self) -> str:
        return "."

    def capitalised(self, text: str, full_stop: bool) -> str:
        said = self.value(text).strip()
        stop = full_stop and not said.endswith((".", "!", "?", "。", "！", "？"))
        return said[:1].upper() + said[1:] + (self.full_stop() if stop else "")

    def clause(self, text: str) -> str:
        return self.value(text).rstrip(".。")

    def value(self, value: Any, spec: str = "") -> str:
        """A value inside a sentence, in this language (module docstring)."""
        if isinstance(value, Text):
            return self.render(value)
        if isinstance(value, str):
            return format(value, spec)
        if isinstance(value, numbers.Real) and not isinstance(value, bool):  # numpy's numbers too
            return self.number(value, spec)
        raise TypeError(f"no way to say a {type(value).__name__} in a sentence")


class _Formatter(string.Formatter):
    def __init__(self, translator: Translator) -> None:
        self.translator = translator

    def format_field(self, value: Any, format_spec: str) -> str:
        return self.translator.value(value, format_spec)


ENGLISH = Translator()
