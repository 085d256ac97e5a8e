"""The answer's sentences in the feedback language: real recordings analysed by the in-process pipeline, their bodies
built in Spanish and Japanese (every other language too) from the same analysis, hold no English sentence and write
numbers the language's way; English is the records' own text."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData, Headers, UploadFile

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from softskills.api.errors import InvalidRequest
from softskills.api.request_fields import parse_analysis_request, parse_job_request
from softskills.api.responses import build_full_analysis, build_video_analysis
from softskills.config.options import AnalysisOptions, HttpOptions
from softskills.jobs.runner import JobRequest
from softskills.models.body.pose import PoseLandmarker
from softskills.models.face.landmarks import FaceLandmarker
from softskills.models.i18n.catalogs import feedback_languages, translator
from softskills.models.interpretation.engine import SentenceEncoder
from softskills.models.pipeline import Analysis, AnalysisInput, Pipeline, local_stages
from softskills.models.signals import measure_signals
from softskills.models.speech.spoken_language import LanguageIdentification, detected_languages, requested_languages
from softskills.models.speech.transcribe import SpeechToText
from softskills.models.speech.voice import analyze_voice
from tests.analysis_support import analyze_signals
from tests.test_composition_properties import Decoded, encoder, face_points, uploads  # noqa: F401 (fixtures)
from tests.test_multilingual_text import pieces, transcript, words_from

CLIPS = ("monologue_webm", "face_then_cut_mkv", "falsetto_avi")  # speech and a face; no speech; too little speech
# English words that are words in none of the Latin-script catalog languages: one of them outside a quote is an
# English sentence (or part of one) left in the answer.
ENGLISH_ONLY = frozenset(
    "the and of is are was were your you with this that for not by at from be been have it its "
    "than which while would could each every more only into over under about after before to "
    "there their they what when where who how".split()
)
# What the user said, quoted as said in each language's catalog: not part of the answer's own language.
QUOTED = re.compile(r"«[^»]*»|「[^」]*」|“[^”]*”|„[^“]*“|\"[^\"]*\"")


def english_left(text: str, language: str) -> set[str]:
    """The English-only words in a text of `language`, outside quotes: the Latin words of Japanese or Chinese
    text, the whole words (accents included: "notée" is not "not") of the others."""
    letters = r"[a-z]+" if language in ("ja", "zh") else r"[^\W\d_]+"
    return ENGLISH_ONLY & set(re.findall(letters, QUOTED.sub(" ", text).lower()))


@pytest.fixture(scope="module")
def analyses(real_recordings) -> dict[str, Analysis]:
    """Real recordings through the service's pipeline (in-process stages), and a Japanese and a Spanish talk."""
    stages = local_stages(
        SpeechToText(), FaceLandmarker(), SentenceEncoder(device="cpu"), pose_landmarker=PoseLandmarker()
    )
    pipeline = Pipeline(stages, AnalysisOptions().pipeline_options())

    async def analyse(path: str) -> Analysis:
        with open(path, "rb") as upload:
            return await pipeline.analyze(upload, AnalysisInput(context_phrase="a product launch"))

    found = {name: asyncio.run(analyse(real_recordings[name].path)) for name in CLIPS}
    for language, words in (
        ("ja", pieces(*(["えーと、", "今日", "は", "東京", "へ", "行き", "ました。"] * 6))),
        ("es", words_from("Bueno, este, hoy les presento el proyecto que terminamos. " * 6)),
    ):
        signals = measure_signals(
            Decoded(words[-1].end_s + 1.0, "mp4", has_audio=True, has_video=False),
            voice=None,
            transcript=transcript(words, language),
            provided_transcript=None,
            face_chunks=[],
            client_track=None,
            window_s=5.0,
            languages=requested_languages(language),
        )
        found[f"talk_{language}"] = analyze_signals(signals)
    return found


def sentences_of(body: dict) -> list[str]:
    """Every text of a full-analysis body that a user reads, the answer's own sentences."""
    video, engine = body["video_analysis"], body["engine_analysis"] or {}
    score = video["score_details"]
    texts = [
        *video["strengths"],
        *video["areas_for_improvement"],
        video["detailed_feedback"],
        video["session_summary"],
        video["recommendation"],
        score["overall_reason"],
        *(c["reason"] for c in score["categories"].values()),
        *score["withheld"].values(),
        *video["evidence_quality"]["missing"].values(),
        *(row["speech_reason"] for row in video["time_series_scores"]),
        *(m["label"] for m in video["labeled_moments"]),
        *(m["label"] for m in video["key_moments"]),
        *(m["why"] for m in video["key_moments"]),
        body["engine_analysis_reason"],
        body["videoUrlReason"],
    ]
    speech, face_body = video["metrics"]["speech"], video["metrics"]["body"]
    if speech:
        texts += speech["reasons"].values()
    if face_body:
        texts += [
            face_body[part][key]
            for part, key in (
                ("framing", "reason"),
                ("posture", "tilt_reason"),
                ("posture", "slouch_reason"),
                ("gestures", "reason"),
                ("fidgeting", "reason"),
            )
        ]
    for name in ("engagement", "composure", "expressiveness", "vocal_energy", "eye_contact"):
        if name in engine:
            texts.append(engine[name]["reason"])
    if engine:
        texts += [engine["content"]["relevance_to_context"]["reason"], engine["content"]["coherence"]["reason"]]
    return [t for t in texts if t]


def in_language(analysis: Analysis, language: str) -> Analysis:
    """The same analysis with its sentences asked for in `language`."""
    languages = dataclasses.replace(analysis.signals.languages, feedback=language)
    return dataclasses.replace(analysis, signals=dataclasses.replace(analysis.signals, languages=languages))


def bodies(analysis: Analysis, language: str) -> dict:
    return build_full_analysis(in_language(analysis, language), "session-1", None).model_dump(
        mode="json", by_alias=True
    )


@pytest.mark.parametrize("language", ["es", "ja"])
def test_an_answer_in_spanish_or_japanese_has_no_english_sentence(analyses, language):
    for name, analysis in analyses.items():
        english, said = sentences_of(bodies(analysis, "en")), sentences_of(bodies(analysis, language))
        assert len(english) == len(said) and said, name
        assert any(english_left(text, language) for text in english), "the detector finds the English answer"
        for original, text in zip(english, said):
            leftovers = english_left(text, language)
            assert not leftovers, f"{name}: English {sorted(leftovers)} in {text!r}"
            if re.search(r"[A-Za-z]{3}", QUOTED.sub(" ", original)):  # a sentence, not a number or a time
                assert text != original, f"{name}: {text!r} is the English sentence"


def test_numbers_are_written_with_the_languages_decimal_separator(analyses):
    decimals = {"es": ",", "fr": ",", "de": ",", "pt": ",", "it": ",", "ja": ".", "zh": "."}
    for language, separator in decimals.items():
        texts = " ".join(
            QUOTED.sub(" ", text) for analysis in analyses.values() for text in sentences_of(bodies(analysis, language))
        )
        other = "." if separator == "," else ","
        assert re.search(rf"\d{re.escape(separator)}\d", texts), language
        assert not re.search(rf"\d{re.escape(other)}\d", texts), (
            language,
            re.findall(rf".{{30}}\d\{other}\d.{{30}}", texts)[:3],
        )


def test_every_feedback_language_says_every_sentence(analyses):
    """No message of these answers is missing from a catalog (that would raise, not fall back to English)."""
    for language in feedback_languages():
        for analysis in analyses.values():
            body = build_video_analysis(in_language(analysis, language)).model_dump(mode="json")
            assert body["detailed_feedback"] and body["recommendation"]


def test_english_is_the_records_own_text(analyses):
    analysis = analyses["monologue_webm"]
    body = bodies(analysis, "en")["video_analysis"]
    assert body["strengths"] == list(analysis.interpretation.strengths)
    assert body["detailed_feedback"] == analysis.interpretation.detailed_feedback
    assert [m["label"] for m in body["labeled_moments"]] == [e.label for e in analysis.measurements.events]


def test_the_feedback_language_is_the_spoken_one_with_a_catalog_unless_asked(analyses):
    assert requested_languages("es").feedback == "es" and requested_languages("es", "en").feedback == "en"
    assert requested_languages("ja", "de").feedback == "de"
    assert detected_languages(LanguageIdentification("fr", 0.97, 1, 12.0)).feedback == "fr"
    assert detected_languages(LanguageIdentification("sv", 0.97, 1, 12.0)).feedback == "en"  # no Swedish catalog
    assert detected_languages(None).feedback == "en"
    full = bodies(analyses["talk_ja"], "ja")
    assert full["language"]["feedback"] == full["video_analysis"]["language"]["feedback"] == "ja"
    unknown = detected_languages(LanguageIdentification("sv", 0.3, 1, 2.0), "es").reason
    assert translator("es").render(unknown).startswith("No se pudo identificar el idioma con 2 s de habla")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_any_combination_of_missing_signals_is_said_in_every_language(data, face_points, encoder):
    """Whatever is missing (composition's own generator), every language says every sentence, none in English."""
    media, audio, words, provided, chunks, client, observable_only = data.draw(uploads(face_points))
    signals = measure_signals(
        media,
        voice=analyze_voice(audio) if audio is not None else None,
        transcript=words,
        provided_transcript=provided,
        face_chunks=chunks,
        client_track=client,
        window_s=5.0,
        languages=requested_languages("en"),
    )
    analysis = analyze_signals(
        signals, encoder.embed, observable_only=observable_only, context_phrase="quarterly results"
    )
    for language in feedback_languages():
        texts = sentences_of(bodies(analysis, language))
        if language != "en":
            leftovers = english_left(" ".join(texts), language)
            assert not leftovers, (language, sorted(leftovers))


def test_the_feedback_language_field_is_read_bounded_and_kept_by_jobs():
    """`feedback_language` on both forms: `auto` or a language with a catalog, any other value a 422 naming it;
    a job keeps it with its request."""

    def form(value: str) -> FormData:
        video = UploadFile(file=io.BytesIO(b"video"), filename="talk.mp4", headers=Headers())
        return FormData([("video", video), ("feedback_language", value)])

    def read(value: str) -> str | None:
        return parse_analysis_request(form(value), HttpOptions(), observable_only=False).input.feedback_language

    assert (read("es"), read("JA"), read("auto"), read("en")) == ("es", "ja", None, "en")
    for unsupported in ("sv", "english", "es-ES"):
        with pytest.raises(InvalidRequest, match=f"'{unsupported}'"):
            read(unsupported)
    job = parse_job_request(form("de"), HttpOptions(), observable_only=False)
    stored = JobRequest(job.analysis, job.request.input).to_json()
    assert JobRequest.from_json(stored).input.feedback_language == "de"
