"""Who spoke when: speaker diarization from the audio and its voice activity, plus what follows from it.

Pipeline (plain numpy/torch, no Ray): speaker embeddings of WINDOW_S windows stepped by STEP_S inside the energy
voice-activity segments (models/voice.py), agglomerative clustering of those embeddings with the number of speakers
estimated from a similarity threshold (or forced by `speakers_expected`), then every speech frame is labelled by
the windows that cover it.

Embeddings: Resemblyzer's voice encoder (GE2E speaker encoder, Wan et al. 2018, "Generalized End-to-End Loss for
Speaker Verification"; 3-layer LSTM of 256 units over 40-band mel power frames, 256-d L2-normalised output). The
weights are the `resemblyzer/pretrained.pt` file that the Resemblyzer wheel (PyPI, 0.1.4, Apache-2.0) ships; no hub.
The package itself is not imported: its __init__ imports webrtcvad, which needs pkg_resources (gone from current
setuptools), and only the network definition below is needed (same layer names, so the state dict loads as is).

Thresholds (cosine similarity of L2-normalised embeddings), set on the real voices of benchmarks/speakers_set.py
(numbers from that set; `python -m benchmarks.speakers_accuracy` measures the result):
- WINDOW_S 2.0: on the two-speaker pyannote sample, 1.6 s windows (Resemblyzer's own partial length) put the 5th
  percentile of same-speaker similarity (0.71) under the 95th of different-speaker similarity (0.75); 2.4 s windows
  separate them (0.79 > 0.75). 2 s keeps turn boundaries within about a second.
- CLUSTER_SIMILARITY 0.72: average-linkage clustering of the windows stops when the two closest clusters' mean
  window similarity falls below it.
- Then clusters are merged, closest first, while any of these holds:
  - one has less than MIN_SPEAKER_S (3 s) of speech: one or two windows that disagree are a cough, laughter or an
    odd vowel more often than a person (a person who says less than that in the whole recording is not found);
  - their centroids (mean embeddings, which average out window noise) are SPEAKER_MERGE_SIMILARITY (0.85) alike:
    no two different people of the set came closer than 0.83 (the pyannote sample's two women, one channel);
  - they are ONE_STRETCH_MERGE_SIMILARITY (0.70) alike and do not take turns (ALTERNATION_MIN_CHANGES: neither
    comes back after the other): one voice that changes once, e.g. the MFA monologue going from fast speech to
    slow, quieter speech in a noisy room (two halves 0.80 alike), is one person; people in a conversation alternate.
  Different people in the spliced conversations were 0.45-0.76 alike; single-speaker recordings split into
  halves were 0.69-0.99 alike, the low ones only for halves under 3 s or that do not alternate.
- A single-speaker recording must never be split (a coached speaker split in two loses half their speech), so
  every rule leans towards merging: all 27 single-speaker recordings of benchmarks/real stay one speaker.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from softskills.models.speech.librosa_loader import load_librosa
from softskills.models.speech.metrics import SpeechMetrics
from softskills.models.speech.transcribe import Transcript, Word

SAMPLE_RATE = 16000

# Resemblyzer's front end (resemblyzer/hparams.py): 25 ms windows, 10 ms hop, 40 mel bands, power (not log) mel;
# volume normalised to -30 dBFS before the mel (audio_norm_target_dBFS).
MEL_WINDOW = 400
MEL_HOP = 160
MEL_BANDS = 40
EMBEDDING_INPUT_DBFS = -30.0
LSTM_UNITS = 256
LSTM_LAYERS = 3
EMBEDDING_SIZE = 256

WINDOW_S = 2.0
STEP_S = 0.5
MIN_WINDOW_S = 0.75  # shorter speech segments get no embedding of their own (labelled from their neighbours)
CLUSTER_SIMILARITY = 0.72
SPEAKER_MERGE_SIMILARITY = 0.85
ONE_STRETCH_MERGE_SIMILARITY = 0.70
ALTERNATION_MIN_CHANGES = 2
MIN_SPEAKER_S = 3.0
MAX_SPEAKERS = 8
LABEL_HOP_S = 0.05  # resolution of the speaker labels in time

METHOD = "resemblyzer-ge2e-ahc"


@dataclass(frozen=True)
class SpeakerSpan:
    """A stretch of time given to one speaker. Speakers are numbered 1, 2, ... in order of first appearance."""

    speaker: int
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Diarization:
    speaker_count: int
    speech: tuple[SpeakerSpan, ...]  # voice activity labelled by speaker (what the diarization error rate scores)
    turns: tuple[SpeakerSpan, ...]  # a speaker's consecutive speech, pauses included, until another speaker talks
    method: str
    speakers_expected: int | None  # what the caller forced, if anything
    # Cosine similarity of the two closest speakers' mean embeddings: how distinct the voices found are (evidence
    # for the count; None with fewer than two speakers).
    closest_speakers_similarity: float | None
    embedded_windows: int

    def speaking_time_s(self, speaker: int) -> float:
        return sum(s.duration_s for s in self.speech if s.speaker == speaker)


def resemblyzer_weights_path() -> Path:
    """pretrained.pt inside the installed Resemblyzer package, found without importing the package."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("The resemblyzer package (which ships the voice encoder weights) is not installed.")
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise FileNotFoundError(f"No voice encoder weights at {path}.")
    return path


class VoiceEncoder:
    """Resemblyzer's speaker encoder: audio windows in, one 256-d unit vector per window out."""

    def __init__(self, weights_path: str | Path | None = None, device: str = "cpu"):
        import torch  # heavy: imported only where the model is built

        class _Network(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = torch.nn.LSTM(MEL_BANDS, LSTM_UNITS, LSTM_LAYERS, batch_first=True)
                self.linear = torch.nn.Linear(LSTM_UNITS, EMBEDDING_SIZE)

            def forward(self, mels):
                _, (hidden, _) = self.lstm(mels)
                embeds = torch.relu(self.linear(hidden[-1]))
                return embeds / torch.norm(embeds, dim=1, keepdim=True).clamp_min(1e-12)

        checkpoint = torch.load(weights_path or resemblyzer_weights_path(), map_location="cpu", weights_only=True)
        state = {k: v for k, v in checkpoint["model_state"].items() if not k.startswith("similarity_")}
        self._torch = torch
        self._device = device
        self._network = _Network()
        self._network.load_state_dict(state)
        self._network.to(device).eval()

    def embed(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        """Embeddings of the given windows (float32, 16 kHz), shape (len(windows), 256). Windows of equal length
        run as one batch."""
        librosa = load_librosa()
        out = np.zeros((len(windows), EMBEDDING_SIZE), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, w in enumerate(windows):
            by_length.setdefault(len(w), []).append(i)
        for indices in by_length.values():
            mels = np.stack(
                [
                    librosa.feature.melspectrogram(
                        y=_normalize_volume(windows[i]),
                        sr=SAMPLE_RATE,
                        n_fft=MEL_WINDOW,
                        hop_length=MEL_HOP,
                        n_mels=MEL_BANDS,
                    ).T
                    for i in indices
                ]
            ).astype(np.float32)
            with self._torch.inference_mode():
                embeds = self._network(self._torch.from_numpy(mels).to(self._device)).cpu().numpy()
            out[indices] = embeds
        return out


def _normalize_volume(window: np.ndarray) -> np.ndarray:
    """Scale to EMBEDDING_INPUT_DBFS RMS: the encoder reads power mels, so loudness would otherwise leak into
    the voice identity (a speaker who leans towards the microphone must not become a second speaker)."""
    rms = float(np.sqrt(np.mean(np.square(window, dtype=np.float64))))
    if rms <= 0:
        return window.astype(np.float32)
    return (window * (10.0 ** (EMBEDDING_INPUT_DBFS / 20.0) / rms)).astype(np.float32)


@dataclass(frozen=True)
class _Window:
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def _windows(segments: Sequence[tuple[float, float]]) -> list[_Window]:
    """WINDOW_S windows every STEP_S inside each speech segment, the last one flush with the segment's end;
    a segment shorter than WINDOW_S (but at least MIN_WINDOW_S) is one window of its own length. A window never
    spans a silence (>= the voice activity's 0.3 s merge gap): in a conversation that is where the speaker
    changes, and a window of two voices embeds as neither (tried: bridging silences under 0.5 or 1 s made such
    mixed windows a cluster of their own and the speaker count worse on the labelled set)."""
    out = []
    for start_s, end_s in segments:
        length_s = end_s - start_s
        if length_s < MIN_WINDOW_S:
            continue
        if length_s <= WINDOW_S:
            out.append(_Window(start_s, end_s))
            continue
        starts = [*np.arange(start_s, end_s - WINDOW_S, STEP_S), end_s - WINDOW_S]
        out.extend(_Window(float(s), float(s) + WINDOW_S) for s in starts)
    return out


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=-1, keepdims=True).clip(1e-12)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True).clip(1e-12)
    return a @ b.T


def _cluster(embeddings: np.ndarray, windows: list[_Window], speakers_expected: int | None) -> np.ndarray:
    """Cluster index per full-length window (windows in time order)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(embeddings) == 1:
        return np.zeros(1, dtype=int)
    tree = linkage(embeddings, method="average", metric="cosine")
    if speakers_expected is not None:
        return fcluster(tree, t=min(speakers_expected, len(embeddings)), criterion="maxclust") - 1
    labels = fcluster(tree, t=1.0 - CLUSTER_SIMILARITY, criterion="distance") - 1
    while True:
        ids = np.unique(labels)
        if len(ids) == 1:
            return labels
        centroids = np.stack([embeddings[labels == i].mean(axis=0) for i in ids])
        time_s = np.array([_covered_s([w for w, label in zip(windows, labels) if label == i]) for i in ids])
        sim = _cosine(centroids, centroids)
        np.fill_diagonal(sim, -np.inf)
        small = int(np.argmin(time_s))
        if time_s[small] < MIN_SPEAKER_S:
            # Too little speech to be a person: its windows go to the closest other cluster.
            labels[labels == ids[small]] = ids[int(np.argmax(sim[small]))]
            continue
        pairs = sorted(((sim[a, b], a, b) for a in range(len(ids)) for b in range(a + 1, len(ids))), reverse=True)
        merge = next(
            (
                (a, b)
                for s, a, b in pairs
                if s >= SPEAKER_MERGE_SIMILARITY
                or len(ids) > MAX_SPEAKERS
                or (s >= ONE_STRETCH_MERGE_SIMILARITY and not _alternate(labels, ids[a], ids[b]))
            ),
            None,
        )
        if merge is None:
            return labels
        labels[labels == ids[merge[1]]] = ids[merge[0]]


def _covered_s(windows: list[_Window]) -> float:
    """Seconds of speech the windows cover together (they overlap)."""
    total_s, reach_s = 0.0, -np.inf
    for w in sorted(windows, key=lambda w: w.start_s):
        total_s += max(0.0, w.end_s - max(w.start_s, reach_s))
        reach_s = max(reach_s, w.end_s)
    return total_s


def _alternate(labels: np.ndarray, a: int, b: int) -> bool:
    """Whether two clusters take turns: each comes back after the other at least once (runs of a single window,
    boundary flicker between overlapping windows, do not count)."""
    sequence = labels[np.isin(labels, (a, b))]
    edges = np.flatnonzero(np.diff(sequence)) + 1
    runs = [(sequence[i], j - i) for i, j in zip([0, *edges], [*edges, len(sequence)])]
    kept = [label for label, length in runs if length >= 2]
    changes = sum(x != y for x, y in zip(kept, kept[1:]))
    return changes >= ALTERNATION_MIN_CHANGES


def diarize(
    audio: np.ndarray,
    speech_segments: Sequence[tuple[float, float]],
    encoder: VoiceEncoder,
    speakers_expected: int | None = None,
) -> Diarization:
    """Speaker turns of 16 kHz mono audio, given its voice activity (VoiceAnalysis.speech_segments).
    speakers_expected forces the number of speakers (1..MAX_SPEAKERS); otherwise it is estimated."""
    if speakers_expected is not None and not 1 <= speakers_expected <= MAX_SPEAKERS:
        raise ValueError(f"speakers_expected must be between 1 and {MAX_SPEAKERS}.")
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    duration_s = len(audio) / SAMPLE_RATE
    segments = [(max(0.0, float(s)), min(duration_s, float(e))) for s, e in speech_segments]
    segments = [(s, e) for s, e in segments if e > s]
    windows = _windows(segments)
    if not segments:
        return Diarization(0, (), (), METHOD, speakers_expected, None, 0)
    if not windows or speakers_expected == 1:
        return _single_speaker(segments, speakers_expected, len(windows))

    embeddings = encoder.embed([audio[int(w.start_s * SAMPLE_RATE) : int(w.end_s * SAMPLE_RATE)] for w in windows])
    full = np.array([w.duration_s >= WINDOW_S - 1e-6 for w in windows])
    labels = np.full(len(windows), -1)
    if full.sum() >= 2:
        labels[full] = _cluster(embeddings[full], [w for w, f in zip(windows, full) if f], speakers_expected)
    else:
        labels[full] = 0
    if not full.any():
        # Only short segments: too little to tell voices apart unless the caller says how many there are.
        if speakers_expected is None:
            return _single_speaker(segments, speakers_expected, len(windows))
        labels = _cluster(embeddings, windows, speakers_expected)
        full = np.ones(len(windows), dtype=bool)
    ids = np.unique(labels[full])
    centroids = np.stack([embeddings[full][labels[full] == i].mean(axis=0) for i in ids])
    window_sim = _cosine(embeddings, centroids)  # every window, short ones included, against every speaker

    frame_speaker = _label_frames(windows, window_sim, segments, duration_s)
    speech = _speech_spans(frame_speaker, segments)
    speech, order = _number_by_first_appearance(speech)
    used = [i for i in range(len(ids)) if i in order]
    closest = None
    if len(used) >= 2:
        sim = _cosine(centroids[used], centroids[used])
        np.fill_diagonal(sim, -np.inf)
        closest = float(sim.max())
    return Diarization(len(used), speech, turns_from_speech(speech), METHOD, speakers_expected, closest, len(windows))


def _single_speaker(segments, speakers_expected, window_count) -> Diarization:
    speech = tuple(SpeakerSpan(1, s, e) for s, e in segments)
    return Diarization(1, speech, turns_from_speech(speech), METHOD, speakers_expected, None, window_count)


def _label_frames(windows: list[_Window], window_sim: np.ndarray, segments, duration_s: float) -> np.ndarray:
    """Speaker index per LABEL_HOP_S frame (-1 outside speech): the speaker whose centroid the covering windows
    resemble most, each window weighted by a triangle peaking at its centre (a window's edges are the least sure
    part of it). Speech no window covers takes the label of the nearest labelled frame in time."""
    n = int(np.ceil(duration_s / LABEL_HOP_S)) + 1
    score = np.zeros((n, window_sim.shape[1]))
    weight = np.zeros(n)
    for w, sim in zip(windows, window_sim):
        first_frame = int(w.start_s / LABEL_HOP_S)
        frames = np.arange(first_frame, max(first_frame + 1, int(w.end_s / LABEL_HOP_S)))
        position = np.clip(((frames + 0.5) * LABEL_HOP_S - w.start_s) / w.duration_s, 0, 1)  # 0..1 in the window
        tri = 1.0 - np.abs(2.0 * position - 1.0) + 1e-3
        score[frames] += tri[:, None] * sim[None, :]
        weight[frames] += tri
    in_speech = np.zeros(n, dtype=bool)
    for s, e in segments:
        in_speech[int(s / LABEL_HOP_S) : max(int(s / LABEL_HOP_S) + 1, int(np.ceil(e / LABEL_HOP_S)))] = True
    labels = np.where(weight > 0, np.argmax(score, axis=1), -1)
    labelled = np.flatnonzero(labels >= 0)
    gaps = np.flatnonzero(in_speech & (labels < 0))
    if labelled.size and gaps.size:
        nearest = np.clip(np.searchsorted(labelled, gaps), 1, len(labelled) - 1)
        left, right = labelled[nearest - 1], labelled[nearest]
        labels[gaps] = labels[np.where(gaps - left <= right - gaps, left, right)]
    labels[~in_speech] = -1
    return labels


def _speech_spans(frame_speaker: np.ndarray, segments) -> tuple[SpeakerSpan, ...]:
    """Cut each speech segment where the frame label changes."""
    out = []
    for s, e in segments:
        a, b = int(s / LABEL_HOP_S), max(int(s / LABEL_HOP_S) + 1, int(np.ceil(e / LABEL_HOP_S)))
        labels = frame_speaker[a:b]
        cuts = [0, *(np.flatnonzero(np.diff(labels)) + 1), len(labels)]
        for i, j in zip(cuts, cuts[1:]):
            out.append(SpeakerSpan(int(labels[i]), max(s, (a + i) * LABEL_HOP_S), min(e, (a + j) * LABEL_HOP_S)))
    return tuple(sp for sp in out if sp.end_s > sp.start_s)


def _number_by_first_appearance(speech: tuple[SpeakerSpan, ...]) -> tuple[tuple[SpeakerSpan, ...], dict[int, int]]:
    order: dict[int, int] = {}
    for sp in sorted(speech, key=lambda sp: sp.start_s):
        order.setdefault(sp.speaker, len(order) + 1)
    return tuple(SpeakerSpan(order[sp.speaker], sp.start_s, sp.end_s) for sp in speech), order


def turns_from_speech(speech: Sequence[SpeakerSpan]) -> tuple[SpeakerSpan, ...]:
    """Merge each speaker's consecutive speech into turns: two stretches of one speaker are one turn unless
    another speaker talks in the silence between them (a backchannel while they keep talking does not end their
    turn; the other person answering does)."""
    ordered = sorted(speech, key=lambda sp: (sp.start_s, sp.end_s))
    turns: list[SpeakerSpan] = []
    for speaker in sorted({sp.speaker for sp in ordered}):
        own = [sp for sp in ordered if sp.speaker == speaker]
        others = [sp for sp in ordered if sp.speaker != speaker]
        other_starts = np.array([o.start_s for o in others])
        # the latest end among the other speakers' spans that start before a given time
        latest_end = np.maximum.accumulate([o.end_s for o in others]) if others else np.zeros(0)
        current = own[0]
        for nxt in own[1:]:
            started = int(np.searchsorted(other_starts, nxt.start_s, side="left"))
            someone_between = nxt.start_s > current.end_s and started > 0 and latest_end[started - 1] > current.end_s
            if someone_between:
                turns.append(current)
                current = nxt
            else:
                current = SpeakerSpan(speaker, current.start_s, max(current.end_s, nxt.end_s))
        turns.append(current)
    return tuple(sorted(turns, key=lambda t: (t.start_s, t.speaker)))


# --- The transcript by speaker -------------------------------------------------------------------------------------

# Whisper stretches word ends into the following silence and starts first words early (models/speech_metrics.py):
# a word that overlaps nobody's speech goes to the speaker whose speech is nearest, if within this.
WORD_MAX_DISTANCE_S = 1.0


def word_speakers(words: Sequence[Word], speech: Sequence[SpeakerSpan]) -> tuple[int | None, ...]:
    """The speaker of each word: the one whose labelled speech overlaps the word longest; a word in silence goes to
    the nearest speech within WORD_MAX_DISTANCE_S; None when there is none (nobody can be said to have said it)."""
    if not speech:
        return tuple(None for _ in words)
    starts = np.array([s.start_s for s in speech])
    ends = np.array([s.end_s for s in speech])
    speakers = np.array([s.speaker for s in speech])
    out: list[int | None] = []
    for w in words:
        overlap = np.minimum(ends, w.end_s) - np.maximum(starts, w.start_s)
        if overlap.max() > 0:
            totals = {int(k): float(overlap[(speakers == k) & (overlap > 0)].sum()) for k in np.unique(speakers)}
            out.append(max(totals, key=lambda k: (totals[k], -k)))
            continue
        distance = np.maximum(starts - w.end_s, w.start_s - ends)
        nearest = int(np.argmin(distance))
        out.append(int(speakers[nearest]) if distance[nearest] <= WORD_MAX_DISTANCE_S else None)
    return tuple(out)


# --- The person being coached --------------------------------------------------------------------------------------

EVERYONE = "everyone"


def coached_speaker(diarization: Diarization, requested: int | str | None = None) -> int | None:
    """Whom to analyse: `requested` (a speaker number, 1 = first to speak) when given, EVERYONE for the whole audio
    (returns None), by default the speaker with the most speaking time (the earlier one on a tie). None also when
    there is no speech at all. Raises ValueError for a speaker number the recording does not have."""
    if requested == EVERYONE or diarization.speaker_count == 0:
        return None
    if requested is not None:
        if not isinstance(requested, int) or not 1 <= requested <= diarization.speaker_count:
            raise ValueError(
                f"speaker must be between 1 and {diarization.speaker_count} (in order of first "
                f"appearance) or {EVERYONE!r}."
            )
        return requested
    speakers = range(1, diarization.speaker_count + 1)
    return max(speakers, key=lambda k: (round(diarization.speaking_time_s(k), 6), -k))


@dataclass(frozen=True)
class SpeakerView:
    """One speaker's part of the recording, on that speaker's own timeline: their turns joined end to end, every
    other speaker's turn (and the silence around it) cut out. Fed to analyze_voice / analyze_speech, it makes pace,
    pauses and fillers the speaker's alone: another person's talk is neither a pause nor their words, and the
    silence while waiting for the other person is not a pause either. Speech that overlaps inside the speaker's own
    turns stays (it cannot be separated from one microphone)."""

    speaker: int
    audio: np.ndarray | None  # float32 16 kHz: the speaker's turns joined (None when no audio was given)
    transcript: Transcript  # the speaker's words, times on this view's timeline
    kept_s: tuple[tuple[float, float], ...]  # the original intervals kept, in order

    @property
    def duration_s(self) -> float:
        return sum(e - s for s, e in self.kept_s)

    def to_original_s(self, t_s: float) -> float:
        """A time on this view's timeline as a time in the original recording."""
        offset_s = 0.0
        for start_s, end_s in self.kept_s:
            if t_s <= offset_s + (end_s - start_s):
                return start_s + max(0.0, t_s - offset_s)
            offset_s += end_s - start_s
        return self.kept_s[-1][1] if self.kept_s else t_s

    def restore_speech_metrics(self, metrics: SpeechMetrics) -> SpeechMetrics:
        """analyze_speech's result with every time put back on the original recording's timeline (a rolling-pace
        window that spans a cut starts and ends at the mapped times, so it spans the other speaker's turn too)."""
        t = self.to_original_s
        return replace(
            metrics,
            fillers=tuple(replace(f, start_s=t(f.start_s), end_s=t(f.end_s)) for f in metrics.fillers),
            pauses=tuple(replace(p, start_s=t(p.start_s), end_s=t(p.end_s)) for p in metrics.pauses),
            rolling_pace=tuple(replace(w, start_s=t(w.start_s), end_s=t(w.end_s)) for w in metrics.rolling_pace),
        )


def speaker_view(
    audio: np.ndarray | None,
    transcript: Transcript,
    diarization: Diarization,
    speaker: int,
    labels: Sequence[int | None] | None = None,
) -> SpeakerView:
    """The part of the recording that is `speaker`'s (see SpeakerView). labels: word_speakers() of the transcript's
    words, computed here when not given. Without audio only the words and the cut are made (the voice is then
    joined from its frames: models.speech.voice.join_voice)."""
    if labels is None:
        labels = word_speakers(transcript.words, diarization.speech)
    kept = tuple((t.start_s, t.end_s) for t in diarization.turns if t.speaker == speaker)
    offsets = np.concatenate([[0.0], np.cumsum([e - s for s, e in kept])])

    def to_view_s(t_s: float) -> float:
        i = int(np.argmin([0.0 if s <= t_s <= e else min(abs(t_s - s), abs(t_s - e)) for s, e in kept]))
        start_s, end_s = kept[i]
        return float(offsets[i] + np.clip(t_s, start_s, end_s) - start_s)

    words = (
        tuple(
            replace(w, start_s=to_view_s(w.start_s), end_s=to_view_s(w.end_s))
            for w, label in zip(transcript.words, labels)
            if label == speaker
        )
        if kept
        else ()
    )
    segments = tuple(
        (to_view_s(s), to_view_s(e), text)
        for s, e, text in transcript.segments
        if kept and segment_speaker(s, e, transcript.words, labels) == speaker
    )
    confidence = float(np.mean([w.probability for w in words])) if words and transcript.confidence is not None else None
    own = replace(
        transcript, text=" ".join(w.text for w in words), words=words, segments=segments, confidence=confidence
    )
    joined = None
    if audio is not None:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        pieces = [audio[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)] for s, e in kept]
        joined = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return SpeakerView(speaker, joined, own, kept)


def segment_speaker(start_s: float, end_s: float, words: Sequence[Word], labels: Sequence[int | None]) -> int | None:
    """The speaker of most of a transcript segment's words."""
    inside = [label for w, label in zip(words, labels) if start_s <= (w.start_s + w.end_s) / 2 <= end_s and label]
    return max(set(inside), key=inside.count) if inside else None


# --- Conversation metrics ------------------------------------------------------------------------------------------

# A turn that starts before another speaker's turn has ended, or with no silence in between that the voice
# activity hears (it merges gaps under 0.3 s), and goes on after that turn has ended: the other speaker did not
# get to finish, or was cut off as they did. Turn-taking usually leaves a gap of about 200 ms (Stivers et al. 2009,
# "Universals and cultural variation in turn-taking in conversation", PNAS 106:10587), so quick but polite
# take-overs count too; each event carries its gap as evidence. A short overlap wholly inside the other's turn
# (a backchannel, "mm-hm") is not an interruption. Turns of a diarization that does not detect overlapping
# speech (this one) abut at a take-over: their gap is 0.
INTERRUPTION_MAX_GAP_S = 0.0


@dataclass(frozen=True)
class Interruption:
    speaker: int  # who came in
    interrupted_speaker: int
    start_s: float
    gap_s: float  # start minus the interrupted turn's end: negative = overlapping speech


@dataclass(frozen=True)
class SpeakerShare:
    speaker: int
    speaking_time_s: float  # their labelled speech, pauses inside turns excluded
    talk_share: float  # of all speakers' speaking time (overlapping speech counts for each)
    turn_count: int
    longest_turn_s: float
    interruption_count: int  # interruptions they made
    question_count: int | None  # their words ending in '?'; None without a transcript


@dataclass(frozen=True)
class ConversationMetrics:
    speakers: tuple[SpeakerShare, ...]
    longest_monologue: SpeakerSpan | None  # the longest turn
    interruptions: tuple[Interruption, ...]


def conversation_metrics(
    speech: Sequence[SpeakerSpan], words: Sequence[Word] | None = None, labels: Sequence[int | None] | None = None
) -> ConversationMetrics:
    """Talk time, turns, the longest monologue, interruptions and questions from speaker-labelled speech (a
    Diarization's `speech`, or any reference); words and their word_speakers() labels give the questions."""
    turns = turns_from_speech(speech)
    interruptions = []
    for turn in turns:
        running = [
            o
            for o in turns
            if o.speaker != turn.speaker
            and o.start_s < turn.start_s
            and turn.start_s - o.end_s <= INTERRUPTION_MAX_GAP_S
            and turn.end_s > o.end_s
        ]
        if running:
            cut = max(running, key=lambda o: o.end_s)
            interruptions.append(Interruption(turn.speaker, cut.speaker, turn.start_s, turn.start_s - cut.end_s))
    time_s = {k: sum(s.duration_s for s in speech if s.speaker == k) for k in sorted({s.speaker for s in speech})}
    total_s = sum(time_s.values())
    questions: dict[int, int] | None = None
    if words is not None:
        labels = labels if labels is not None else word_speakers(words, speech)
        questions = {
            k: sum(1 for w, label in zip(words, labels) if label == k and w.text.rstrip().endswith("?")) for k in time_s
        }
    shares = tuple(
        SpeakerShare(
            speaker=k,
            speaking_time_s=t,
            talk_share=t / total_s if total_s > 0 else 0.0,
            turn_count=sum(tr.speaker == k for tr in turns),
            longest_turn_s=max((tr.duration_s for tr in turns if tr.speaker == k), default=0.0),
            interruption_count=sum(i.speaker == k for i in interruptions),
            question_count=None if questions is None else questions[k],
        )
        for k, t in time_s.items()
    )
    longest = max(turns, key=lambda tr: (tr.duration_s, -tr.start_s), default=None)
    return ConversationMetrics(shares, longest, tuple(interruptions))
