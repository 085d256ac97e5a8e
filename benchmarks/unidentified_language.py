"""What the service answers for speech whose language it cannot identify (docs/known-limits.md): espeak-ng's
Swedish voice reading a short interview answer over the real webcam face, posted to the running CPU service, with
the default feedback language and with Spanish feedback. Prints the language block, the transcript and the word
measures.

    flock /tmp/softskills-ray.lock env HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.unidentified_language
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from benchmarks.languages_set import FACE
from benchmarks.real_set import mux
from benchmarks.speakers_set import read_audio
from testkit.service_runner import running_service

SWEDISH = (
    "Jag heter Anna och jag arbetar som ingenjör i Stockholm. Förra året ledde jag ett projekt där vi byggde om "
    "vårt betalsystem. Vi minskade felen med fyrtio procent på tre månader. Nu söker jag en ny roll där jag kan "
    "lära mig mer och hjälpa ett större team att lyckas."
)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run(["espeak-ng", "-v", "sv", "-s", "150", "-w", str(tmp / "sv.wav"), SWEDISH], check=True)
        audio = read_audio(tmp / "sv.wav")
        mux(tmp / "sv.mp4", FACE, 0.0, audio, len(audio) / 16000 + 0.5, "mp4")
        (tmp / "data").mkdir()
        with running_service(tmp / "data") as service:
            for data in ({}, {"feedback_language": "es"}):
                body = service.post("/api/v1/full-analysis", str(tmp / "sv.mp4"), data=data).json()
                analysis = body["video_analysis"]
                print(json.dumps(body["language"], ensure_ascii=False))
                print("transcript:", body["transcript"][:160])
                print(
                    "filler_word_count:",
                    analysis["filler_word_count"],
                    "| speaking_pace_wpm:",
                    analysis["speaking_pace_wpm"],
                    "| category_scores:",
                    analysis["category_scores"],
                )
                print("detailed_feedback:", analysis["detailed_feedback"][:300], "\n")


if __name__ == "__main__":
    main()
