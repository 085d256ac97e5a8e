import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from softskills.models.speech.voice import MONOTONE_SD_SEMITONES, analyze_voice

ASSETS = Path(__file__).parent.parent / "testkit" / "assets"
SR = 16000


def espeak(text: str, speed: int = 150) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    wav = subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", str(speed), "--stdout", text], capture_output=True, check=True
    ).stdout
    audio, sr = sf.read(io.BytesIO(wav), dtype="float32")
    return resample_poly(audio, SR, sr).astype(np.float32)


def test_beckett_pitch_loudness_and_segments():
    audio, sr = sf.read(ASSETS / "speech_beckett.wav", dtype="float32")
    v = analyze_voice(audio, sr)
    # A low male voice: median F0 near 110 Hz, lively reading (several semitones of variation).
    assert 90 < v.pitch_median_hz < 130
    assert v.pitch_sd_semitones > MONOTONE_SD_SEMITONES
    assert v.snr_db > 15
    assert 10 < v.loudness_range_db < 50
    # Six short sentences separated by pauses: several segments, inside the clip, ordered.
    assert len(v.speech_segments) >= 4
    assert all(0 <= s < e <= 10.0 for s, e in v.speech_segments)
    assert v.f0_hz.shape == v.voiced.shape == v.loudness_db.shape
    assert np.all(np.isnan(v.f0_hz[~v.voiced])) and np.all(np.isfinite(v.f0_hz[v.voiced]))


def test_steady_tone_is_monotone_with_exact_pitch():
    t = np.arange(SR * 10) / SR
    audio = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    audio[: 2 * SR] = 0  # 2 s of silence first
    v = analyze_voice(audio)
    assert v.pitch_median_hz == pytest.approx(150, rel=0.02)
    assert v.pitch_sd_semitones < 0.2
    assert len(v.speech_segments) == 1 and v.speech_segments[0][0] == pytest.approx(2.0, abs=0.1)
    assert len(v.monotone_stretches) == 1
    start, end, sd = v.monotone_stretches[0]
    assert start == pytest.approx(2.0, abs=0.1) and end == pytest.approx(10.0, abs=0.1) and sd < 0.2


def test_speech_segments_find_a_synthesised_gap():
    a = espeak("one two three")
    audio = np.concatenate([a, np.zeros(SR * 2, np.float32), a])
    v = analyze_voice(audio)
    loud = np.flatnonzero(np.abs(a) > 1e-3)
    true_gap_s = (len(a) - loud[-1] + SR * 2 + loud[0]) / SR  # espeak's own edge silence + the 2 s inserted
    gaps = [b[0] - a_[1] for a_, b in zip(v.speech_segments, v.speech_segments[1:])]
    assert max(gaps) == pytest.approx(true_gap_s, abs=0.2)


@pytest.mark.parametrize("audio", [np.zeros(0, np.float32), np.zeros(SR * 3, np.float32), np.zeros(100, np.float32)])
def test_silence_or_empty_gives_none_not_error(audio):
    v = analyze_voice(audio)
    assert v.pitch_median_hz is None and v.pitch_sd_semitones is None and v.snr_db is None
    assert v.loudness_range_db is None and v.speech_segments == () and v.monotone_stretches == ()


def test_white_noise_is_not_voiced():
    noise = np.random.default_rng(0).normal(0, 0.05, SR * 3).astype(np.float32)
    v = analyze_voice(noise)
    assert v.voiced.mean() < 0.05


def test_other_sample_rate_is_resampled():
    t = np.arange(22050 * 3) / 22050
    audio = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    audio[:22050] = 0
    v = analyze_voice(audio, 22050)
    assert v.pitch_median_hz == pytest.approx(200, rel=0.02)
