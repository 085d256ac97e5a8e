"""librosa's numba kernels are compiled by one process at a time (models/speech/librosa_loader.py).

Speech replicas starting together used to race on numba's unlocked gufunc cache (numba/numba#10128) and leave a
pair of cache files from different compilations; the next process to load them died with SIGSEGV (seen in CI after
the multi-node test started three speech replicas at once). Here several processes start on an empty cache at the
same moment, and then a fresh one loads what they wrote.
"""

from __future__ import annotations

import subprocess
import sys

USE_KERNELS = (
    "import numpy as np; from softskills.models.speech.voice import analyze_voice; "
    "analyze_voice((np.random.default_rng(1).normal(0, 0.1, 32000)).astype(np.float32))"
)


def test_processes_compiling_at_once_leave_a_cache_every_later_process_can_load(tmp_path):
    env = {"NUMBA_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    starting_together = [subprocess.Popen([sys.executable, "-c", USE_KERNELS], env=env) for _ in range(4)]
    assert [process.wait(timeout=300) for process in starting_together] == [0, 0, 0, 0]
    assert list(tmp_path.rglob("*.nbc")), "the kernels were cached"
    assert subprocess.run([sys.executable, "-c", USE_KERNELS], env=env, timeout=300).returncode == 0
