"""Voice features from the audio track: pitch (F0), voicing, loudness, energy-based speech segments, SNR and
monotone stretches. Plain numpy/librosa, one pass, cheap enough to run on every upload."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.signal

from softskills.models.intervals import true_runs
from softskills.models.speech.librosa_loader import load_librosa

SAMPLE_RATE = 16000
HOP_S = 0.02
FRAME_LENGTH = 1024  # 64 ms at 16 kHz: yin needs > 2 periods of the lowest F0 (2 * 16000 / 65 = 492 samples)
HOP_LENGTH = int(HOP_S * SAMPLE_RATE)

# F0 search range that covers adult speaking voices (low male ~70 Hz to high female ~350 Hz).
FMIN_HZ = 65.0
FMAX_HZ = 400.0
# Mains hum and rumble (seen at 35-66 Hz in testkit/assets/speech_beckett.wav) otherwise pins F0 at FMIN_HZ
# and lifts the silence between words into the speech range.
HIGHPASS_HZ = 60.0
# Voicing: normalised autocorrelation at the yin period. Praat's default "voicing threshold" is 0.45
# (Boersma 1993, "Accurate short-term analysis of the fundamental frequency ..."); we use the same value.
VOICING_THRESHOLD = 0.45

# Energy voice activity: the noise floor is a low percentile of frame loudness; speech is above it by at least
# SPEECH_MIN_MARGIN_DB or by a fraction of the floor-to-peak range, whichever is larger (adapts to both quiet
# rooms and noisy ones). Frames below ABSOLUTE_SILENCE_DBFS are never speech.
NOISE_FLOOR_PERCENTILE = 5
SPEECH_MIN_MARGIN_DB = 6.0
SPEECH_RANGE_FRACTION = 0.3
ABSOLUTE_SILENCE_DBFS = -70.0
SILENCE_DBFS = -100.0  # loudness reported for digital silence (log of zero)
MERGE_GAP_S = 0.3  # gaps shorter than this are stop closures / breaths inside speech, not silence
MIN_SEGMENT_S = 0.1  # shorter bursts are clicks

# Monotone: pitch SD below 2 semitones over a window of running speech. Typical conversational and read speech
# varies by about 2-4 semitones SD (Traunmüller & Eriksson 1995, "The perceptual evaluation of F0 excursions
# in speech as evidenced in liveliness estimations"); a speaker under 2 st for ~8 s is heard as flat.
# Heuristic thresholds, tune with rated recordings.
MONOTONE_WINDOW_S = 8.0
MONOTONE_STEP_S = 1.0
MONOTONE_SD_SEMITONES = 2.0
MONOTONE_MIN_VOICED_S = 2.0  # a window needs this much voiced speech to judge its pitch at all
MIN_VOICED_FRAMES = 10


@dataclass(frozen=True)
class VoiceAnalysis:
    hop_s: float
    f0_hz: np.ndarray  # float per frame; nan where unvoiced
    voiced: np.ndarray  # bool per frame
    loudness_db: np.ndarray  # frame RMS in dBFS
    speech_segments: tuple[tuple[float, float], ...]  # energy-based voice activity, seconds
    pitch_median_hz: float | None
    pitch_sd_semitones: float | None
    loudness_range_db: float | None  # 95th - 5th percentile of loudness over voiced frames
    snr_db: float | None
    monotone_stretches: tuple[tuple[float, float, float], ...]  # (start_s, end_s, pitch_sd_semitones)

    def frame_times_s(self) -> np.ndarray:
        return np.arange(len(self.loudness_db)) * self.hop_s


def _empty() -> VoiceAnalysis:
    return VoiceAnalysis(HOP_S, np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0), (), None, None, None, None, ())


def semitone_sd(f0_hz: np.ndarray) -> float | None:
    """SD of pitch in semitones around the median: scale-free, so male and female voices compare."""
    f0 = f0_hz[np.isfinite(f0_hz)]
    if len(f0) < MIN_VOICED_FRAMES:
        return None
    return float(np.std(12.0 * np.log2(f0 / np.median(f0))))


def analyze_voice(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> VoiceAnalysis:
    """Pitch via librosa.yin plus a periodicity check (pyin gives voicing itself but costs ~2 s per minute of
    audio on one core against ~0.2 s for yin). Never raises on silence or empty audio: fields are None/empty."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if sample_rate != SAMPLE_RATE and audio.size:
        audio = scipy.signal.resample_poly(audio, SAMPLE_RATE, sample_rate).astype(np.float32)
    if audio.size < FRAME_LENGTH or not np.any(np.isfinite(audio)):
        return _empty()
    # Hum and rumble below HIGHPASS_HZ are not voice: remove them before both loudness and pitch.
    sos = scipy.signal.butter(4, HIGHPASS_HZ, "highpass", fs=SAMPLE_RATE, output="sos")
    audio = scipy.signal.sosfiltfilt(sos, np.nan_to_num(audio)).astype(np.float32)

    rms = load_librosa().feature.rms(y=audio, frame_length=FRAME_LENGTH, hop_length=HOP_LENGTH)[0]
    loudness_db = np.maximum(20.0 * np.log10(np.maximum(rms, 1e-12)), SILENCE_DBFS)
    speech_mask = _speech_mask(loudness_db)
    speech_segments = _segments(speech_mask)
    # Re-derive the mask from the cleaned segments so voicing and statistics use the same notion of speech.
    speech_mask = _mask_from_segments(speech_segments, len(loudness_db))

    f0_hz, voiced = _pitch(audio, speech_mask)
    return _summarised(f0_hz, voiced, loudness_db, speech_segments, snr_db=_snr_db(loudness_db, speech_mask))


def _summarised(
    f0_hz: np.ndarray,
    voiced: np.ndarray,
    loudness_db: np.ndarray,
    speech_segments: tuple[tuple[float, float], ...],
    snr_db: float | None,
) -> VoiceAnalysis:
    """The per-frame tracks with the summaries computed from them."""
    voiced_f0 = f0_hz[voiced]
    pitch_median = float(np.median(voiced_f0)) if len(voiced_f0) >= MIN_VOICED_FRAMES else None
    # Over voiced frames only: the energy gate's speech segments hold the quiet closures and breaths between
    # syllables, whose level is the room's, not the voice's (a clean recording read 84 dB with them).
    voiced_db = loudness_db[: len(voiced)][voiced]
    loudness_range = (
        float(np.percentile(voiced_db, 95) - np.percentile(voiced_db, 5))
        if voiced_db.size >= MIN_VOICED_FRAMES
        else None
    )
    speech_mask = _mask_from_segments(speech_segments, len(f0_hz))
    return VoiceAnalysis(
        hop_s=HOP_S,
        f0_hz=f0_hz,
        voiced=voiced,
        loudness_db=loudness_db,
        speech_segments=speech_segments,
        pitch_median_hz=pitch_median,
        pitch_sd_semitones=semitone_sd(f0_hz),
        loudness_range_db=loudness_range,
        snr_db=snr_db,
        monotone_stretches=_monotone_stretches(f0_hz, speech_mask),
    )


def restrict_voice(voice: VoiceAnalysis, intervals: tuple[tuple[float, float], ...]) -> VoiceAnalysis:
    """One speaker's voice on the recording's own timeline: frames outside `intervals` (the other speakers' turns
    and the silence between) are neither voiced nor speech, and every summary is recomputed from what is left."""
    keep = _mask_from_segments(tuple(intervals), len(voice.f0_hz))
    voiced = voice.voiced & keep
    f0 = np.where(voiced, voice.f0_hz, np.nan)
    segments = tuple(
        (max(s, a), min(e, b)) for s, e in voice.speech_segments for a, b in intervals if min(e, b) > max(s, a)
    )
    return _summarised(f0, voiced, voice.loudness_db, segments, voice.snr_db)


def join_voice(voice: VoiceAnalysis, intervals: tuple[tuple[float, float], ...]) -> VoiceAnalysis:
    """The frames inside `intervals` joined end to end: the voice on a speaker view's timeline (the same cut as
    models.speech.speakers.speaker_view's audio), with no new pitch analysis."""
    frames = [(int(round(a / HOP_S)), int(round(b / HOP_S))) for a, b in intervals]
    pieces = [slice(max(0, a), min(len(voice.f0_hz), b)) for a, b in frames]
    offsets = np.cumsum([0.0] + [(p.stop - p.start) * HOP_S for p in pieces])
    segments = []
    for (a, b), offset in zip(intervals, offsets):
        segments += [
            (offset + max(s, a) - a, offset + min(e, b) - a) for s, e in voice.speech_segments if min(e, b) > max(s, a)
        ]

    def join(arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(arrays) if arrays else np.zeros(0)

    return _summarised(
        join([voice.f0_hz[p] for p in pieces]),
        join([voice.voiced[p] for p in pieces]).astype(bool),
        join([voice.loudness_db[p] for p in pieces]),
        tuple(segments),
        voice.snr_db,
    )


def _speech_mask(loudness_db: np.ndarray) -> np.ndarray:
    floor = float(np.percentile(loudness_db, NOISE_FLOOR_PERCENTILE))
    peak = float(np.percentile(loudness_db, 99))
    threshold = floor + max(SPEECH_MIN_MARGIN_DB, SPEECH_RANGE_FRACTION * (peak - floor))
    return (loudness_db > threshold) & (loudness_db > ABSOLUTE_SILENCE_DBFS)


def _segments(mask: np.ndarray) -> tuple[tuple[float, float], ...]:
    merged: list[list[float]] = []
    for s, e in ((start * HOP_S, stop * HOP_S) for start, stop in true_runs(mask)):
        if merged and s - merged[-1][1] < MERGE_GAP_S:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    return tuple((round(float(s), 3), round(float(e), 3)) for s, e in merged if e - s >= MIN_SEGMENT_S)


def _mask_from_segments(segments: tuple[tuple[float, float], ...], n_frames: int) -> np.ndarray:
    mask = np.zeros(n_frames, dtype=bool)
    for s, e in segments:
        mask[int(round(s / HOP_S)) : int(round(e / HOP_S))] = True
    return mask


def _pitch(audio: np.ndarray, speech_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f0 = load_librosa().yin(
        audio, fmin=FMIN_HZ, fmax=FMAX_HZ, sr=SAMPLE_RATE, frame_length=FRAME_LENGTH, hop_length=HOP_LENGTH
    )
    n = min(len(f0), len(speech_mask))
    f0, speech_mask = f0[:n], speech_mask[:n]
    periodicity = _periodicity(audio, f0)
    # yin returns the search bounds when it finds no dip: that is noise, not a voice at 65 or 400 Hz.
    in_range = (f0 > FMIN_HZ * 1.02) & (f0 < FMAX_HZ * 0.98)
    voiced = speech_mask & in_range & (periodicity >= VOICING_THRESHOLD)
    return np.where(voiced, f0, np.nan), voiced


def _periodicity(audio: np.ndarray, f0_hz: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of each (centred) frame at the period yin chose: near 1 for a voiced frame."""
    padded = np.pad(audio, FRAME_LENGTH // 2)
    frames = load_librosa().util.frame(padded, frame_length=FRAME_LENGTH, hop_length=HOP_LENGTH)[:, : len(f0_hz)]
    lags = np.clip(np.round(SAMPLE_RATE / f0_hz).astype(int), 1, FRAME_LENGTH - 1)
    out = np.zeros(len(f0_hz))
    for i, lag in enumerate(lags):
        a, b = frames[:-lag, i], frames[lag:, i]
        denom = np.sqrt(np.dot(a, a) * np.dot(b, b))
        out[i] = np.dot(a, b) / denom if denom > 0 else 0.0
    return out


def _snr_db(loudness_db: np.ndarray, speech_mask: np.ndarray) -> float | None:
    """Mean speech power over mean noise power. With (almost) no pauses, the quietest frames stand in for noise."""
    if not speech_mask.any():
        return None
    power = 10.0 ** (loudness_db / 10.0)
    noise = power[~speech_mask]
    if noise.size < MIN_VOICED_FRAMES:
        noise = np.sort(power)[: max(1, len(power) * NOISE_FLOOR_PERCENTILE // 100)]
    return float(10.0 * np.log10(power[speech_mask].mean() / noise.mean()))


def _monotone_stretches(f0_hz: np.ndarray, speech_mask: np.ndarray) -> tuple[tuple[float, float, float], ...]:
    """Slide an 8 s window over the clip; flag windows with enough voiced speech and low pitch SD; merge
    overlapping flagged windows and report each merged stretch with its own SD."""
    window, step = int(MONOTONE_WINDOW_S / HOP_S), int(MONOTONE_STEP_S / HOP_S)
    min_voiced = int(MONOTONE_MIN_VOICED_S / HOP_S)
    n = len(f0_hz)
    if n < window:
        return ()  # too short to call a stretch monotone
    starts = list(range(0, n - window + 1, step))
    if starts[-1] != n - window:
        starts.append(n - window)
    flagged: list[list[int]] = []
    for s in starts:
        seg = f0_hz[s : s + window]
        if np.isfinite(seg).sum() < min_voiced:
            continue
        sd = semitone_sd(seg)
        if sd is not None and sd < MONOTONE_SD_SEMITONES:
            if flagged and s <= flagged[-1][1]:
                flagged[-1][1] = s + window
            else:
                flagged.append([s, s + window])
    out = []
    for s, e in flagged:
        speech = np.flatnonzero(speech_mask[s:e])  # trim silence at the window edges
        if speech.size:
            s, e = s + int(speech[0]), s + int(speech[-1]) + 1
        sd = semitone_sd(f0_hz[s:e])
        if sd is not None:
            out.append((round(s * HOP_S, 2), round(e * HOP_S, 2), round(sd, 3)))
    return tuple(out)
