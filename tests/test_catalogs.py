"""The message catalogs of the answer's sentences (models/i18n): the template holds every message the code says,
every language translates every one of them with the same placeholders and its plural forms, and the sentences
are said with the language's numbers, lists and plurals."""

from __future__ import annotations

import pickle
import string
from pathlib import Path

import numpy as np
import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from softskills.models.i18n.catalogs import TEMPLATE, catalog_path, feedback_languages, translator
from softskills.models.i18n.text import (
    ENGLISH,
    Capitalised,
    Clause,
    MissingTranslation,
    both,
    say,
    say_plural,
    sentences,
    series,
)

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {"en", "es", "fr", "de", "pt", "ja"}
CATALOGS = [language for language in feedback_languages() if language != "en"]
# gettext's Plural-Forms for each language (the GNU gettext manual's table): French counts 0 as singular.
PLURAL_FORMS = {
    "es": (2, "(n != 1)"),
    "de": (2, "(n != 1)"),
    "it": (2, "(n != 1)"),
    "pt": (2, "(n != 1)"),
    "fr": (2, "(n > 1)"),
    "ja": (1, "0"),
    "zh": (1, "0"),
}


def messages(path: Path) -> dict:
    with path.open("rb") as po:
        return {m.id: m for m in read_po(po) if m.id}


def placeholders(text: str) -> set[tuple[str, str]]:
    return {(name, spec) for _, name, spec, _ in string.Formatter().parse(text) if name is not None}


def test_the_template_holds_exactly_the_messages_the_code_says(tmp_path, monkeypatch):
    """`make catalogs` extracts this template: a message added to the code without extracting it fails here, and so
    does a translator's comment that no longer sits right above its message (a reformat can move it away)."""
    monkeypatch.chdir(ROOT)
    extracted = tmp_path / "softskills.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            "pyproject.toml",
            "--add-location=file",
            "-o",
            str(extracted),
            "models",
            "storage",
        ]
    )
    assert set(messages(extracted)) == set(messages(TEMPLATE))
    comments = {msgid: " ".join(m.auto_comments) for msgid, m in messages(extracted).items()}
    assert comments == {msgid: " ".join(m.auto_comments) for msgid, m in messages(TEMPLATE).items()}


def test_the_required_languages_have_catalogs():
    assert REQUIRED <= set(feedback_languages())


@pytest.mark.parametrize("language", CATALOGS)
def test_every_message_is_translated_with_the_same_placeholders(language):
    template, catalog = messages(TEMPLATE), messages(catalog_path(language))
    with catalog_path(language).open("rb") as po:
        header = read_po(po)
    assert (header.num_plurals, header.plural_expr) == PLURAL_FORMS[language]
    problems = []
    for msgid in template:
        entry = catalog.get(msgid)
        if entry is None or entry.fuzzy:
            problems.append(f"missing or fuzzy: {msgid!r}")
            continue
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = placeholders(msgid if isinstance(msgid, str) else msgid[1])
        if isinstance(msgid, tuple) and len(forms) != header.num_plurals:
            problems.append(f"{len(forms)} plural forms for {msgid!r}")
        for form in forms:
            if not form.strip():
                problems.append(f"empty: {msgid!r}")
            elif placeholders(form) != wanted:
                problems.append(f"placeholders {sorted(placeholders(form))} for {sorted(wanted)}: {msgid!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", CATALOGS)
def test_plurals_follow_the_language(language):
    fluent = [
        say_plural(
            "Fluent delivery: {n} filler word in {seconds:.0f} s of speech.",
            "Fluent delivery: {n} filler words in {seconds:.0f} s of speech.",
            n,
            seconds=30.0,
        )
        for n in (0, 1, 2)
    ]
    zero, one, two = (translator(language).render(text) for text in fluent)
    assert "1" in one and "2" in two and one != two
    if PLURAL_FORMS[language][0] == 1:  # one form: only the number changes
        assert one.replace("1", "2") == two
    else:
        assert one.replace("1", "2", 1) != two, "the plural form is the singular's"
        assert (zero.replace("0", "1", 1) == one) == (language == "fr")  # French: 0 is singular


def test_english_is_the_text_itself():
    text = say("Pace is fast at {value:.0f} words per minute (aim for 130-165).", value=181.4)
    assert text == "Pace is fast at 181 words per minute (aim for 130-165)."
    assert translator("en").render(text) == text and type(translator("en").render(text)) is str
    assert say_plural("{n} word", "{n} words", 1) == "1 word" and say_plural("{n} word", "{n} words", 2) == "2 words"
    assert series(["0:04", "0:12", "0:30"]) == "0:04, 0:12, 0:30"
    assert both([say("clarity"), say("confidence")]) == "clarity and confidence"
    assert Capitalised(say("the hands were not visible in any frame")) == "The hands were not visible in any frame."
    assert Clause(say("No speech was detected in the audio.")) == "No speech was detected in the audio"


def test_numbers_lists_and_sentences_take_the_locale():
    """Digits as English rounds them (Python's), separators and lists as CLDR writes them."""
    rate = say("{value:.1f} fillers/min", value=2.25)
    share = say("recognition confidence {value:.0%}", value=0.855)
    assert translator("es").render(rate) == "2,2 muletillas/min"  # Python rounds 2.25 half-even: 2.2
    assert translator("de").render(say("{times:.1f} times", times=2.5)) == "2,5-mal"
    assert translator("fr").render(share).endswith("86\u00a0%")
    assert "2.2" in translator("ja").render(rate) and "2,2" not in translator("ja").render(rate)
    times = series(["0:04", "0:12", "0:30"])
    assert translator("es").render(times) == "0:04, 0:12 y 0:30"
    assert translator("ja").render(times) == "0:04、0:12、0:30"
    two = sentences([say("No transcript text."), say("The file has no video track.")])
    assert translator("ja").render(two).count(" ") == 0 and " " in translator("es").render(two)
    numpy_values = say("Speaker {speaker} speaks for {seconds:.0f} s", speaker=np.int64(2), seconds=np.float64(12.4))
    assert translator("de").render(numpy_values) == "Person 2 spricht 12 s lang"
    reason = Capitalised(say("the hands were not visible in any frame"))
    assert translator("es").render(reason)[0].isupper() and translator("es").render(reason).endswith(".")
    assert translator("ja").render(reason).endswith("。")


def test_a_sentence_outside_the_catalogs_is_an_error_not_english():
    with pytest.raises(MissingTranslation):
        translator("es").render("A sentence written without a catalog.")
    with pytest.raises(MissingTranslation):
        translator("es").render(say("A message nobody extracted."))
    with pytest.raises(MissingTranslation):
        translator("xx")
    assert ENGLISH.render("A sentence written without a catalog.") == "A sentence written without a catalog."


def test_messages_travel_between_processes():
    """Records cross Ray as pickles: a message keeps what it was made from."""
    text = Capitalised(
        say("the hands were visible for only {seconds:.1f} s; gestures need {least:g} s", seconds=1.25, least=3.0)
    )
    copy = pickle.loads(pickle.dumps(text))
    assert copy == text and translator("es").render(copy) == translator("es").render(text)
