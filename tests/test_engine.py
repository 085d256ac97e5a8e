import json
import os
from dataclasses import dataclass

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest

from models.interpretation.engine import DEFAULT_PARAMS_PATH, Engine, default_model_dir, load_params
from models.interpretation.sentences import split_sentences

INTERVIEW = (
    "I led a team of five engineers to rebuild our payment service. "
    "We cut checkout errors by forty percent in three months. "
    "My manager asked me to present the results to the leadership team. "
    "I learned to explain technical trade-offs to people outside engineering. "
    "That is why I am applying for this senior engineering role."
)
COHERENT = (
    "Our team planned the product launch for March. "
    "The launch plan listed every marketing channel we would use. "
    "For each channel we set a budget and a launch date. "
    "The marketing budget was approved by the product director in February."
)
UNRELATED = (
    "Penguins live mostly in the southern hemisphere. "
    "The quarterly tax filing deadline is next Tuesday. "
    "Boil the pasta in salted water for nine minutes. "
    "Jupiter has dozens of known moons."
)
FULL_KPIS = {
    "pace_wpm": 150.0, "filler_rate_per_min": 3.0, "filler_count": 3, "long_pause_count": 1, "pause_count": 4,
    "pitch_sd_semitones": 3.0, "loudness_range_db": 14.0, "monotone_ratio": 0.2, "snr_db": 25.0,
    "eye_contact_ratio": 0.62, "face_visible_ratio": 0.95, "look_away_count": 3, "blink_rate_per_min": 20.0,
    "head_motion_deg_per_s": 4.0, "smile_ratio": 0.15, "speech_ratio": 0.8, "duration_s": 60.0,
    "speaking_time_s": 48.0, "word_count": 150,
}


@dataclass(frozen=True)
class FakeTranscript:
    text: str
    segments: tuple


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(device="cpu")


def test_weights_come_from_the_package():
    assert os.path.isfile(os.path.join(default_model_dir(), "model.safetensors"))


def test_embeddings_are_normalised(engine):
    vectors = engine.embed(["Hello there.", "A second sentence."])
    assert vectors.shape == (2, 384)
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-4


def test_relevance_follows_context(engine):
    interview = engine.analyze({}, {"text": INTERVIEW}, "job interview practice")["content"]
    cooking = engine.analyze({}, {"text": INTERVIEW}, "cooking pasta recipe")["content"]
    assert interview["relevance_to_context"]["cosine"] > cooking["relevance_to_context"]["cosine"]
    assert interview["relevance_to_context"]["score"] > cooking["relevance_to_context"]["score"]
    assert len(interview["relevance_to_context"]["evidence"]) == 2


def test_relevance_without_context_is_null(engine):
    relevance = engine.analyze({}, {"text": INTERVIEW}, None)["content"]["relevance_to_context"]
    assert relevance["score"] is None and "context" in relevance["reason"]


def test_coherent_text_scores_higher_than_unrelated(engine):
    coherent = engine.analyze({}, {"text": COHERENT}, None)["content"]["coherence"]
    unrelated = engine.analyze({}, {"text": UNRELATED}, None)["content"]["coherence"]
    assert coherent["score"] > unrelated["score"]
    assert unrelated["evidence"]["weakest_transition"]["from"] in UNRELATED


def test_summary_is_sentences_in_order_with_times(engine):
    sentences = split_sentences({"text": INTERVIEW})
    segments = tuple((i * 4.0, i * 4.0 + 3.5, s.text) for i, s in enumerate(sentences))
    content = engine.analyze({}, FakeTranscript(INTERVIEW, segments), None)["content"]
    summary = content["summary"]
    assert content["sentence_count"] == 5
    assert 1 <= len(summary) <= 3
    texts = [s.text for s in sentences]
    positions = [texts.index(item["text"]) for item in summary]
    assert positions == sorted(positions)
    assert all(item["start_s"] == positions[i] * 4.0 for i, item in enumerate(summary))


@dataclass(frozen=True)
class FakeWord:
    text: str
    start_s: float
    end_s: float


def test_sentence_times_from_words():
    words = tuple(FakeWord(" " + w, i * 0.5, i * 0.5 + 0.4)
                  for i, w in enumerate("Ever tried. Ever failed. No matter.".split()))
    sentences = split_sentences({"text": " Ever tried. Ever failed. No matter.", "words": words})
    assert [(s.start_s, s.end_s) for s in sentences] == [(0.0, 0.9), (1.0, 1.9), (2.0, 2.9)]


def test_short_talk_has_no_coherence(engine):
    content = engine.analyze({}, {"text": "Just one sentence here."}, "anything")["content"]
    assert content["coherence"]["score"] is None
    assert len(content["summary"]) == 1


def test_interpretations_from_full_kpis(engine):
    result = engine.analyze(FULL_KPIS, {"text": ""}, None)
    for name in ("engagement", "composure", "expressiveness", "vocal_energy", "eye_contact"):
        assert result[name]["level"] in ("low", "moderate", "high")
        assert 0.0 <= result[name]["score"] <= 1.0
    eye = result["eye_contact"]
    assert "62%" in eye["reason"] and "3 look-aways" in eye["reason"]
    assert eye["evidence"]["eye_contact_ratio"] == 0.62
    assert result["content"]["sentence_count"] == 0


def test_missing_kpi_gives_null_with_reason(engine):
    kpis = {**FULL_KPIS, "blink_rate_per_min": None}
    del kpis["eye_contact_ratio"]
    result = engine.analyze(kpis, {"text": ""}, None)
    assert result["composure"]["level"] is None and "blink_rate_per_min" in result["composure"]["reason"]
    assert result["eye_contact"]["level"] is None and "eye_contact_ratio" in result["eye_contact"]["reason"]
    assert result["vocal_energy"]["level"] is not None


def test_thresholds_come_from_params_file(engine, tmp_path):
    assert engine.interpret("eye_contact", FULL_KPIS)["level"] == "moderate"
    params = load_params(DEFAULT_PARAMS_PATH)
    params["thresholds"]["eye_contact_ratio"] = {"low": 0.1, "high": 0.5}
    path = tmp_path / "params.json"
    path.write_text(json.dumps(params))
    engine.params = load_params(path)
    try:
        assert engine.interpret("eye_contact", FULL_KPIS)["level"] == "high"
    finally:
        engine.params = load_params(DEFAULT_PARAMS_PATH)


def test_output_is_json_safe(engine):
    kpis = {**FULL_KPIS, "look_away_intervals": [[3.0, 4.2], [10.5, 12.0]], "snr_db": float("nan")}
    result = engine.analyze(kpis, {"text": INTERVIEW, "segments": [[0.0, 20.0, INTERVIEW]]}, "job interview")
    encoded = json.dumps(result, allow_nan=False)
    assert json.loads(encoded)["eye_contact"]["moments"][0] == {"kind": "look_away_intervals",
                                                                "start_s": 3.0, "end_s": 4.2}
    assert result["model"] == "all-MiniLM-L6-v2" and result["params_version"] == "1"


def test_a_long_transcript_is_split_and_timed_in_linear_time():
    """The transcript bomb ("a. a. ..." of 210 KB) took 62 s in sentence x word matching; now one sweep (a
    quadratic match would make this test take minutes)."""
    n = 20_000
    text = " ".join(["a."] * n)
    words = [{"word": "a.", "start_s": i * 0.1, "end_s": i * 0.1 + 0.05} for i in range(n)]
    sentences = split_sentences({"text": text, "words": words})
    assert len(sentences) == n and sentences[-1].start_s == pytest.approx((n - 1) * 0.1)


def test_summary_needs_no_sentence_by_sentence_matrix(engine):
    """MMR centrality from the vector sum picks the same sentences as the full similarity matrix."""
    import numpy as np

    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(40, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = vectors @ vectors.T
    centrality = (sims.sum(1) - np.diag(sims)) / 39
    cfg = engine.params["content"]
    chosen: list[int] = []
    while len(chosen) < 3:
        redundancy = sims[:, chosen].max(1) if chosen else np.zeros(40)
        gain = cfg["mmr_lambda"] * centrality - (1 - cfg["mmr_lambda"]) * redundancy
        gain[chosen] = -np.inf
        chosen.append(int(np.argmax(gain)))
    assert engine._summary_indices(vectors) == sorted(chosen)


def test_precomputed_sentences_and_embeddings_give_the_same_analysis(engine):
    sentences = split_sentences({"text": INTERVIEW})
    texts = [s.text for s in sentences] + ["job interview practice"]
    embeddings = dict(zip(texts, engine.embed(texts)))
    direct = engine.analyze(FULL_KPIS, {"text": INTERVIEW}, "job interview practice")
    batched = engine.analyze(FULL_KPIS, {"text": INTERVIEW}, "job interview practice", sentences=sentences,
                             embeddings=embeddings)
    assert batched == direct
