"""720p talking-head clips of 30 s, 60 s and 10 min for the benchmarks, built with the test fixtures' own
functions (espeak-ng speech over the real portrait) and cached in tests/.fixtures/bench/. The same talk in Spanish
measures what a non-English request costs."""

from __future__ import annotations

import fcntl
from pathlib import Path

import numpy as np

from testkit.videos import SAMPLE_RATE, make_talking_head_video, synthesize_script

BENCH_DIR = Path(__file__).resolve().parent.parent / "tests" / ".fixtures" / "bench"
SIZE = (1280, 720)
FPS = 25
# About 60 s of speech at 150 wpm with pauses; longer clips repeat it.
TALK = [
    "Good morning everyone, and thank you for joining this review.",
    "Today I will walk you through three results from our team this quarter.",
    "First, sales grew faster than we planned, mostly in the northern region.",
    "Second, our customers are happier: support tickets fell by a third.",
    "Third, we shipped the new onboarding flow two weeks early.",
    "Um, there were problems too, and I want to be honest about them.",
    "Hiring took longer than expected, so two projects slipped.",
    "We also learned that our forecasts were, you know, too optimistic.",
    "Next quarter we will focus on retention and on faster hiring.",
    "I would like to thank the whole team for the hard work.",
    "Let me now take your questions about the numbers and the plan.",
]
TALK_ES = [
    "Buenos días a todos, y gracias por venir a esta revisión.",
    "Hoy les presento tres resultados de nuestro equipo en este trimestre.",
    "Primero, las ventas crecieron más de lo previsto, sobre todo en la región norte.",
    "Segundo, nuestros clientes están más contentos: las incidencias bajaron un tercio.",
    "Tercero, lanzamos el nuevo proceso de bienvenida dos semanas antes.",
    "Eh, también hubo problemas, y quiero ser honesto con ustedes.",
    "Contratar costó más de lo esperado, así que dos proyectos se retrasaron.",
    "También aprendimos que nuestras previsiones eran, o sea, demasiado optimistas.",
    "El próximo trimestre nos centraremos en la retención y en contratar más rápido.",
    "Quiero agradecer a todo el equipo por el gran trabajo.",
    "Ahora respondo a sus preguntas sobre las cifras y el plan.",
]
TALKS = {"en": (TALK, "en-us"), "es": (TALK_ES, "es")}  # language -> (sentences, espeak-ng voice)
PAUSES_MS = {1: 1500, 4: 2500, 7: 1200}


def bench_video(duration_s: int, language: str = "en") -> Path:
    """The mp4 of `duration_s` seconds at 1280x720, 25 fps (H.264 + AAC), the talk in `language`, built once."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    name = f"talk_{duration_s}s_720p.mp4" if language == "en" else f"talk_{language}_{duration_s}s_720p.mp4"
    path = BENCH_DIR / name
    with open(BENCH_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            sentences, voice = TALKS[language]
            talk = synthesize_script(sentences, pauses_ms=PAUSES_MS, wpm=150, voice=voice).audio
            gap = np.zeros(SAMPLE_RATE, np.float32)
            reps = int(np.ceil(duration_s * SAMPLE_RATE / (len(talk) + len(gap))))
            audio = np.concatenate([talk, gap] * reps)[: duration_s * SAMPLE_RATE]
            tmp = path.with_suffix(".tmp.mp4")
            make_talking_head_video(tmp, audio, container="mp4", width=SIZE[0], height=SIZE[1], fps=FPS)
            tmp.rename(path)
    return path


if __name__ == "__main__":
    import sys

    for seconds in sys.argv[1:] or ["30", "60", "600"]:
        print(bench_video(int(seconds)))
