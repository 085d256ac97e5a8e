"""Long audio fans out across speech-to-text replicas: cut at silences, transcribe the parts, merge the times."""

from __future__ import annotations

import numpy as np

from softskills.models.speech.transcribe import Transcript, Word

FRAME_S = 0.05  # energy frame used to find the quietest place to cut
SEARCH_FROM = 0.6  # a cut lands in the last 40% of the allowed length, where the energy is lowest


def split_at_silences(audio: np.ndarray, sample_rate: int, max_segment_s: float) -> list[tuple[int, int]]:
    """Sample ranges that cover the audio, each at most max_segment_s long, cut at the quietest 50 ms frame of
    the last 40% of each range, so a cut falls in a pause rather than in a word whenever the speaker pauses."""
    n = len(audio)
    max_len = int(max_segment_s * sample_rate)
    if n <= max_len:
        return [(0, n)] if n else []
    hop = int(FRAME_S * sample_rate)
    frames = n // hop
    energy = np.square(audio[: frames * hop].astype(np.float64)).reshape(frames, hop).mean(1)
    ranges = []
    start = 0
    while n - start > max_len:
        lo, hi = (start + int(SEARCH_FROM * max_len)) // hop, (start + max_len) // hop
        cut = (lo + int(np.argmin(energy[lo:hi]))) * hop + hop // 2
        ranges.append((start, cut))
        start = cut
    ranges.append((start, n))
    return ranges


def merge_transcripts(parts: list[tuple[float, Transcript]]) -> Transcript:
    """One transcript from (offset_s, transcript) parts in time order: word and segment times shifted by the
    offset, confidence the mean probability over all words (as for a single pass)."""
    words = tuple(
        Word(w.text, w.start_s + offset, w.end_s + offset, w.probability) for offset, t in parts for w in t.words
    )
    segments = tuple((a + offset, b + offset, text) for offset, t in parts for a, b, text in t.segments)
    first = parts[0][1]
    return Transcript(
        text=" ".join(t.text for _, t in parts if t.text),
        words=words,
        language=first.language,
        source=first.source,
        timing=first.timing,
        confidence=float(np.mean([w.probability for w in words])) if words else None,
        segments=segments,
        model=first.model,
    )
