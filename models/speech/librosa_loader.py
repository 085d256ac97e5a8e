"""librosa, loaded so that processes starting together on one machine cannot crash each other.

librosa compiles its numba kernels on first use and caches them beside its sources. numba writes a cached gufunc as
two files with no lock between them (numba/numba#10128): speech replicas that compile at the same moment (three
replicas starting on one machine, or several Ray nodes on one host) can leave a pair from different compilations,
and every later process that loads the pair dies with a segmentation fault. So the first use in each process
holds a machine-wide lock while it imports librosa and runs the kernels this package uses once: one process compiles
and writes the cache, the others wait and then only read it.
"""

from __future__ import annotations

import fcntl
import tempfile
import threading
from pathlib import Path
from types import ModuleType

import numpy as np

LOCK_PATH = Path(tempfile.gettempdir()) / "softskills-librosa-compile.lock"
SAMPLE_RATE = 16000

_loaded: ModuleType | None = None
_loading = threading.Lock()


def load_librosa() -> ModuleType:
    """The librosa module, its kernels compiled (or read from the cache) under the machine-wide lock."""
    global _loaded
    with _loading:
        if _loaded is None:
            with open(LOCK_PATH, "a") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    _loaded = _compile_kernels()
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)
        return _loaded


def _compile_kernels() -> ModuleType:
    """Every librosa call of models/speech, once, on one second of float32 noise: kernels are compiled per dtype
    (the pipeline passes float32), not per frame length or hop."""
    import librosa

    audio = np.random.default_rng(0).normal(0.0, 0.1, SAMPLE_RATE).astype(np.float32)
    librosa.yin(audio, fmin=65.0, fmax=400.0, sr=SAMPLE_RATE)
    librosa.feature.rms(y=audio)
    librosa.feature.melspectrogram(y=audio, sr=SAMPLE_RATE)
    return librosa
