"""Real output for the docs: starts the service from serve_config.cpu.yaml, posts two real recordings as the
guide's curl does (the unscripted monologue of the real set to analyze-video, Beckett's talk to full-analysis),
writes the whole bodies to docs/sample-*.json and the excerpts into docs/real-output.md.
Run it with `make samples` after a change that moves the numbers.

The temporary video URL differs on every run, so it is shown with `make serve`'s address and its name, expiry and
signature as "…".
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from benchmarks.real_set import real_set
from testkit.service_runner import running_service
from testkit.videos import FIXTURE_DIR, fixture_set

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
PAGE = DOCS / "real-output.md"
ELIDED = "…"
SERVE_URL = "http://127.0.0.1:8000"  # cli/serve.py
# The analyze-video excerpt: the guide's fields plus the evidence summary; long lists keep their first items.
ANALYZE_EXCERPT_ITEMS = {"time_series_scores": 1, "labeled_moments": 2, "key_moments": 1}
ANALYZE_EXCERPT_SKIPPED = ("score_details", "metrics", "analysis_version")
FULL_EXCERPT_ENGINE_PARTS = ("eye_contact", "content")
_JSON_BLOCK = re.compile(r"```json\n.*?\n```", re.S)


def _masked_url(url: str | None) -> str | None:
    """The service runs on a free port here; show `make serve`'s address, and elide what changes every run."""
    return None if url is None else f"{SERVE_URL}/media/{ELIDED}?expires={ELIDED}&signature={ELIDED}"


def analyze_excerpt(body: dict) -> dict:
    out = {}
    for key, value in body.items():
        if key in ANALYZE_EXCERPT_SKIPPED:
            continue
        keep = ANALYZE_EXCERPT_ITEMS.get(key)
        out[key] = value[:keep] + [ELIDED] if keep is not None and len(value) > keep else value
    return out


def full_excerpt(body: dict) -> dict:
    engine = body["engine_analysis"] or {}
    return {
        "sessionId": body["sessionId"],
        "transcript": body["transcript"],
        "videoUrl": body["videoUrl"],
        "videoUrlReason": body["videoUrlReason"],
        "engine_analysis": {**{k: engine[k] for k in FULL_EXCERPT_ENGINE_PARTS if k in engine}, ELIDED: ELIDED},
    }


def replace_real_output(page: str, analyze: dict, full: dict) -> str:
    """Swap the page's first two ```json blocks for the new excerpts."""
    blocks = iter([analyze, full])
    return _JSON_BLOCK.sub(
        lambda _: "```json\n" + json.dumps(next(blocks), indent=2, ensure_ascii=False) + "\n```", page, count=2
    )


def main() -> None:
    (monologue,) = real_set(FIXTURE_DIR, {"monologue_mp4"})
    beckett = fixture_set(FIXTURE_DIR)["beckett_mp4"]
    with tempfile.TemporaryDirectory(prefix="softskills-samples-") as data_dir, running_service(Path(data_dir)) as svc:
        analyze = svc.post("/api/v1/analyze-video", monologue.path)
        full = svc.post(
            "/api/v1/full-analysis",
            beckett.path,
            data={"context_phrase": "motivational talk about failure", "sessionId": "demo-1"},
        )
    analyze.raise_for_status()
    full.raise_for_status()
    analyze_body, full_body = analyze.json(), full.json()
    full_body["videoUrl"] = _masked_url(full_body["videoUrl"])
    (DOCS / "sample-analyze-video.json").write_text(json.dumps(analyze_body, indent=2, ensure_ascii=False) + "\n")
    (DOCS / "sample-full-analysis.json").write_text(json.dumps(full_body, indent=2, ensure_ascii=False) + "\n")
    PAGE.write_text(replace_real_output(PAGE.read_text(), analyze_excerpt(analyze_body), full_excerpt(full_body)))
    print(f"wrote {DOCS / 'sample-analyze-video.json'}, {DOCS / 'sample-full-analysis.json'} and {PAGE}")


if __name__ == "__main__":
    main()
