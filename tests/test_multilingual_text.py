"""The text metrics in the spoken language: fillers, hedges and questions from each language's lexicon, Japanese and
Chinese tokens, pace in syllables or morae against the language's own norm, and English unchanged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from softskills.models.interpretation.model import for_language, load_params, metric_score
from softskills.models.interpretation.sentences import split_sentences
from softskills.models.speech.language import analyze_language
from softskills.models.speech.lexicons import LEXICONS, SUPPORTED_LANGUAGES, disfluency_prompt, lexicon
from softskills.models.speech.metrics import analyze_speech, lexical_fillers
from softskills.models.speech.syllables import morae, unit_counts, word_syllables
from softskills.models.speech.tokens import text_tokens
from softskills.models.speech.transcribe import Transcript, Word, normalize_word

OTHER_LANGUAGES = [code for code in SUPPORTED_LANGUAGES if code != "en"]


def words_from(text: str, gap: float = 0.05, dur: float = 0.3) -> list[Word]:
    out, t = [], 0.0
    for w in text.split():
        out.append(Word(w, round(t, 3), round(t + dur, 3), 0.9))
        t += dur + gap
    return out


def pieces(*texts: str) -> list[Word]:
    """Whisper-like Japanese or Chinese words: pieces of text without spaces, 0.3 s each."""
    return [Word(x, round(i * 0.3, 3), round(i * 0.3 + 0.28, 3), 0.9) for i, x in enumerate(texts)]


def fillers(text_or_words, language: str) -> list[str]:
    words = words_from(text_or_words) if isinstance(text_or_words, str) else text_or_words
    return [f.word for f in lexical_fillers(words, language)]


def transcript(words: list[Word], language: str) -> Transcript:
    return Transcript(" ".join(w.text for w in words), tuple(words), language, "speech_to_text", "measured", 0.9)


def test_spanish_eh_and_o_sea_are_fillers_and_este_only_when_set_off():
    assert fillers("Eh, o sea, este, yo creo que este libro es bueno.", "es") == ["eh", "o sea", "este"]
    assert fillers("Bueno, em, el proyecto es bueno.", "es") == ["bueno", "em"]
    assert fillers("Padres e hijos vinieron.", "es") == []  # "e" is "and"


def test_german_um_and_er_are_never_fillers_in_german():
    assert fillers("Um acht Uhr kam er, um zu helfen.", "de") == []
    assert fillers("Ähm, also, das ist, äh, sozusagen gut.", "de") == ["ähm", "also", "äh"]
    # The same words in English speech are English fillers.
    assert fillers("Um, er, it is fine.", "en") == ["um", "er"]


def test_french_italian_and_portuguese_fillers():
    assert fillers("Euh, ben, c'est bien, quoi. Quoi ?", "fr") == ["euh", "ben", "quoi"]
    assert fillers("L'accident a eu lieu hier, euhh, en montagne.", "fr") == ["euhh"]  # "eu" is "had"
    assert fillers("Ehm, allora, cioè, la casa è bella.", "it") == ["ehm", "allora", "cioè"]
    assert fillers("Éé, tipo assim, eu acho, né? O resultado é bom.", "pt") == ["éé", "tipo assim", "né"]


def test_japanese_fillers_over_analyser_tokens():
    words = pieces("えー", "と、", "今日", "は", "あの", "人", "に", "会い", "ました。", "あの、", "すみ", "ません。")
    found = lexical_fillers(words, "ja")
    assert [(f.word, f.start_s) for f in found] == [("えーと", 0.0), ("あの", 2.7)]  # not あの人
    assert fillers(pieces("あー、", "そう", "です。", "あー", "して", "歩く。"), "ja") == ["あー"]  # not あーして


def test_chinese_demonstrative_fillers_only_when_set_off():
    words = pieces("嗯，", "那个，", "我", "觉得", "那个", "问题", "很", "好", "啊。")
    assert fillers(words, "zh") == ["嗯", "那个"]


ENGLISH_ONLY_FILLERS = [
    "um",
    "uh",
    "er",
    "erm",
    "uhm",
    "like",
    "so",
    "basically",
    "actually",
    "literally",
    "you",
    "know",
    "i",
    "mean",
]


@given(
    st.sampled_from(OTHER_LANGUAGES),
    st.lists(
        st.tuples(st.sampled_from(ENGLISH_ONLY_FILLERS), st.sampled_from(["", ",", ".", "?"]), st.floats(0.0, 1.0)),
        min_size=1,
        max_size=12,
    ),
)
def test_english_only_filler_words_are_never_fillers_in_another_language(language, tokens):
    t, words = 0.0, []
    for text, punct, gap in tokens:
        words.append(Word(text.capitalize() + punct, t, t + 0.3, 0.9))
        t += 0.3 + gap
    assert lexical_fillers(words, language) == []


def test_a_language_without_a_lexicon_gets_no_english_rules():
    words = words_from("Um, så, jag vet inte, like, you know.")
    assert fillers(words, "sv") == []
    m = analyze_speech(transcript(words, "sv"), None, 5.0)
    assert m.filler_rate_per_min is None and "sv" in m.reasons["filler_rate_per_min"]
    assert m.filler_count is None and m.reasons["filler_count"] == m.reasons["filler_rate_per_min"]  # not "0 fillers"
    assert m.pace_relative is None and m.syllables_per_s is not None  # pyphen has Swedish patterns
    assert analyze_language(words, "sv").hedge_rate_per_100_words is None


def test_english_is_unchanged_by_the_language_argument():
    words = words_from("Um, so, I like it, you know. Like, basically, it was, like, fine.")
    assert lexical_fillers(words) == lexical_fillers(words, "en")
    assert [f.word for f in lexical_fillers(words)] == ["um", "you know", "like", "basically", "like"]


@pytest.mark.parametrize(
    "language, word, count",
    [
        ("es", "casa", 2),
        ("es", "día", 2),
        ("es", "aéreo", 4),
        ("es", "enfáticamente", 6),
        ("de", "Unabhängigkeitserklärung", 8),
        ("de", "Dinosaurier", 5),
        ("fr", "déclaration", 4),
        ("fr", "naïf", 2),
        ("pt", "coração", 3),
        ("pt", "construída", 4),
        ("it", "università", 5),
        ("it", "cioè", 2),
        ("en", "beautiful", 3),
    ],
)
def test_syllables_of_known_words(language, word, count):
    assert word_syllables(word, language) == count


def test_morae_and_chinese_syllables():
    assert morae("トウキョウ") == 4 and morae("ガッコウ") == 4 and morae("コーヒー") == 4 and morae("きょう") == 2
    assert unit_counts(pieces("大家", "好。", "2002年"), "zh") == [2, 1, 5]
    # キョウ ハ トウキョウ ヘ イキマシタ
    assert sum(unit_counts(pieces("今日", "は", "東京", "へ", "行きました。"), "ja")) == 13


def test_japanese_and_chinese_tokens_are_the_analysers_with_times_and_punctuation():
    ja = text_tokens(pieces("今日は", "東京へ", "行きました。"), "ja")
    assert [w.text for w in ja] == ["今日", "は", "東京", "へ", "行き", "まし", "た。"]
    assert ja[0].start_s == 0.0 and ja[1].start_s == pytest.approx(0.187, abs=0.001)
    assert all(a.start_s <= b.start_s for a, b in zip(ja, ja[1:]))
    zh = text_tokens(pieces("我们今天", "去北京大学。"), "zh")
    assert [w.text for w in zh] == ["我们", "今天", "去", "北京大学。"]
    assert text_tokens(words_from("Hola a todos."), "es") == words_from("Hola a todos.")


def test_japanese_and_chinese_metrics_count_tokens_and_split_sentences():
    metrics = analyze_language(pieces("たぶん", "大丈夫", "だと", "思います。", "どう", "思い", "ますか？"), "ja")
    assert [h.text for h in metrics.hedges] == ["たぶん", "と思い"]  # not どう思います: no と
    assert [q.text for q in metrics.questions] == ["どう思いますか？"]
    sentences = split_sentences({"text": "すると、泣き始めた。驚いた主は飛び上がった。"})
    assert [s.text for s in sentences] == ["すると、泣き始めた。", "驚いた主は飛び上がった。"]


def test_pace_is_in_the_language_unit_and_judged_against_its_own_norm():
    assert lexicon("es").comfortable_rate == pytest.approx(150 / 60 * 1.3 * 7.82 / 6.19)
    assert lexicon("zh").comfortable_rate < lexicon("en").comfortable_rate < lexicon("ja").comfortable_rate
    ja = analyze_speech(transcript(pieces("今日", "は", "東京", "へ", "行き", "ました。"), "ja"), None, 2.0)
    assert ja.pace_wpm is None and "Japanese" in ja.reasons["pace_wpm"] and ja.pace_unit == "mora"
    assert ja.syllable_count == 13 and ja.syllables_per_s == pytest.approx(13 / 1.78)
    assert all(w.wpm is None for w in ja.rolling_pace)
    en = analyze_speech(transcript(words_from("We shipped the new release on time today."), "en"), None, 5.0)
    assert en.pace_relative == pytest.approx(en.pace_wpm / 150)


def test_english_pace_scores_are_unchanged_and_other_languages_use_the_relative_curve():
    params = load_params()
    wpm_curve = params["metrics"]["pace_wpm"]["curve"]
    relative_curve = params["metrics"]["pace_relative"]["curve"]
    assert [y for _, y in relative_curve] == [y for _, y in wpm_curve]
    assert [x for x, _ in relative_curve] == pytest.approx([x / 150 for x, _ in wpm_curve], abs=1e-6)
    for wpm in range(40, 280, 5):
        assert metric_score(relative_curve, wpm / 150) == pytest.approx(metric_score(wpm_curve, wpm), abs=1e-4)
    assert for_language(params, "en") is params
    spanish = for_language(params, "es")
    assert (
        spanish["categories"]["clarity"]["weights"]["pace_relative"]
        == params["categories"]["clarity"]["weights"]["pace_wpm"]
    )
    assert "pace_wpm" not in spanish["categories"]["clarity"]["weights"]
    # A typical Spanish reader (7.82 syllables/s read, scaled to conversational pace) at the centre of the Spanish
    # range scores 10; the same speaker's ~190 words per minute would score under 8 by English norms.
    assert metric_score(relative_curve, 1.0) == 10
    assert metric_score(wpm_curve, 190) < 8


def test_every_lexicon_entry_names_its_source_and_has_a_prompt():
    for lex in LEXICONS.values():
        assert lex.hesitation_source and lex.syllable_rate_source and disfluency_prompt(lex.language)
        assert all(source for source in (*lex.particles.values(), *lex.markers.values(), *lex.hedges.values()))
    assert disfluency_prompt("pt-BR") == LEXICONS["pt"].disfluency_prompt and disfluency_prompt("sv") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Um,", "um"),
        ("I'm.", "i'm"),
        ("ました。", "ました"),
        ("¿Qué?", "qué"),
        ("है", "है"),
        ("e\u0301", "é"),
        ("Über.", "über"),
        ("（笑）", "笑"),
    ],
)
def test_normalize_word_keeps_every_script(text, expected):
    assert normalize_word(text) == expected


def test_the_acoustic_filled_pause_detector_reads_character_timed_words():
    """Whisper times Japanese and Chinese per character: a flat voiced stretch those characters cover (a level-tone
    syllable, a long vowel) is speech, and an uncovered one between them is a hesitation, as in English."""
    import numpy as np

    from softskills.models.speech.metrics import FILLED_PAUSE_LABEL, acoustic_fillers
    from softskills.models.speech.voice import analyze_voice

    sr = 16000
    t = np.arange(int(0.6 * sr)) / sr
    level = (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)  # a flat pitch for 0.6 s
    audio = np.concatenate([np.zeros(sr, np.float32), level, np.zeros(sr, np.float32)])
    voice = analyze_voice(audio)
    covered = [Word(c, round(1.0 + 0.15 * i, 3), round(1.15 + 0.15 * i, 3), 0.9) for i, c in enumerate("妈妈说好")]
    assert acoustic_fillers(covered, voice) == []
    apart = [Word("我", 0.2, 0.4, 0.9), Word("们", 0.4, 0.6, 0.9), Word("好", 2.0, 2.2, 0.9)]
    found = acoustic_fillers(apart, voice)
    assert [f.word for f in found] == [FILLED_PAUSE_LABEL] and found[0].start_s == pytest.approx(1.0, abs=0.1)


def _bodies(words: list[Word], language: str, embed=None):
    """The analyze-video and full-analysis bodies of a talk in `language` (no audio analysis, no face)."""
    from softskills.models.interpretation.feedback import SENTENCE_LANGUAGE
    from softskills.models.signals import measure_signals
    from softskills.models.speech.spoken_language import requested_languages
    from tests.analysis_support import analyze_signals, bodies
    from tests.test_composition_properties import Decoded

    signals = measure_signals(
        Decoded(words[-1].end_s + 1.0, "mp4", has_audio=True, has_video=False),
        voice=None,
        transcript=transcript(words, language),
        provided_transcript=None,
        face_chunks=[],
        client_track=None,
        window_s=5.0,
        languages=requested_languages(language, SENTENCE_LANGUAGE),
    )
    return bodies(analyze_signals(signals, embed))


def test_a_japanese_talk_is_judged_in_morae_end_to_end():
    talk = pieces(*(["えーと、", "今日", "は", "東京", "へ", "行き", "ました。"] * 6))
    body, full = _bodies(talk, "ja")
    speech = body["metrics"]["speech"]
    assert speech["pace_wpm"] is None and "Japanese" in speech["reasons"]["pace_wpm"]
    # えーと (4) + キョウハトウキョウヘイキマシタ
    assert speech["pace_unit"] == "mora" and speech["syllable_count"] == 6 * 16
    assert all(w["wpm"] is None and w["syllables_per_s"] > 0 for w in speech["rolling_pace"])
    assert [f["word"] for f in speech["fillers"]] == ["えーと"] * 6
    components = {c["metric"] for c in body["score_details"]["categories"]["clarity"]["components"]}
    assert "pace_relative" in components and "pace_wpm" not in components
    assert "pace_relative" in full["engine_kpis"] and "pace_wpm" not in full["engine_kpis"]
    assert "morae" in body["detailed_feedback"] and "wpm" not in body["detailed_feedback"]


def test_a_spanish_talk_gets_spanish_norms_and_no_english_sentence_model():
    talk = words_from("Bueno, este, hoy les presento el proyecto que terminamos en marzo. " * 5)
    body, full = _bodies(talk, "es", embed=lambda texts: pytest.fail("the English sentence model read Spanish"))
    speech = body["metrics"]["speech"]
    assert speech["pace_wpm"] > 0 and speech["pace_relative"] == pytest.approx(
        speech["syllables_per_s"] / lexicon("es").comfortable_rate, rel=1e-2
    )
    assert [f["word"] for f in speech["fillers"]] == ["bueno", "este"] * 5
    components = {c["metric"] for c in body["score_details"]["categories"]["clarity"]["components"]}
    assert "pace_relative" in components and "pace_wpm" not in components
    assert "English-only" in full["engine_analysis"]["content"]["coherence"]["reason"]
