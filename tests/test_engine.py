"""The engine's sentence encoder (all-MiniLM-L6-v2 from its PyPI package) and the sentence splitter it reads."""

import os
from dataclasses import dataclass

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import pytest

from softskills.models.interpretation.engine import SentenceEncoder, default_model_dir
from softskills.models.interpretation.model import load_params, summary_indices
from softskills.models.interpretation.sentences import split_sentences

INTERVIEW = (
    "I led a team of five engineers to rebuild our payment service. "
    "We cut checkout errors by forty percent in three months. "
    "My manager asked me to present the results to the leadership team. "
    "I learned to explain technical trade-offs to people outside engineering. "
    "That is why I am applying for this senior engineering role."
)


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder(device="cpu")


def test_weights_come_from_the_package():
    assert os.path.isfile(os.path.join(default_model_dir(), "model.safetensors"))


def test_embeddings_are_normalised(encoder):
    vectors = encoder.embed(["Hello there.", "A second sentence."])
    assert vectors.shape == (2, 384)
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-4


def test_similar_sentences_are_closer_than_unrelated_ones(encoder):
    a, b, c = encoder.embed(
        [
            "We cut checkout errors by forty percent.",
            "Checkout failures fell by 40%.",
            "Penguins live in the southern hemisphere.",
        ]
    )
    assert a @ b > a @ c + 0.2


@dataclass(frozen=True)
class FakeWord:
    text: str
    start_s: float
    end_s: float


def test_sentence_times_from_words():
    words = tuple(
        FakeWord(" " + w, i * 0.5, i * 0.5 + 0.4) for i, w in enumerate("Ever tried. Ever failed. No matter.".split())
    )
    sentences = split_sentences({"text": " Ever tried. Ever failed. No matter.", "words": words})
    assert [(s.start_s, s.end_s) for s in sentences] == [(0.0, 0.9), (1.0, 1.9), (2.0, 2.9)]


def test_a_long_transcript_is_split_and_timed_in_linear_time():
    """The transcript bomb ("a. a. ..." of 210 KB) took 62 s in sentence x word matching; now one sweep (a
    quadratic match would make this test take minutes)."""
    n = 20_000
    text = " ".join(["a."] * n)
    words = [{"word": "a.", "start_s": i * 0.1, "end_s": i * 0.1 + 0.05} for i in range(n)]
    sentences = split_sentences({"text": text, "words": words})
    assert len(sentences) == n and sentences[-1].start_s == pytest.approx((n - 1) * 0.1)


def test_summary_needs_no_sentence_by_sentence_matrix():
    """MMR centrality from the vector sum picks the same sentences as the full similarity matrix."""
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(40, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = vectors @ vectors.T
    centrality = (sims.sum(1) - np.diag(sims)) / 39
    cfg = load_params()["content"]
    chosen: list[int] = []
    while len(chosen) < 3:
        redundancy = sims[:, chosen].max(1) if chosen else np.zeros(40)
        gain = cfg["mmr_lambda"] * centrality - (1 - cfg["mmr_lambda"]) * redundancy
        gain[chosen] = -np.inf
        chosen.append(int(np.argmax(gain)))
    assert summary_indices(vectors, cfg) == sorted(chosen)
