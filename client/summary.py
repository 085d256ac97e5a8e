"""A terminal summary of an analysis: the scores, the top areas to work on (their sentences carry the times), the key
moments with their times, and the recommendation. Accepts `analyze-video`'s body or `full-analysis`'s."""

from __future__ import annotations

CATEGORIES = ("clarity", "confidence", "likeability", "authenticity")
BAR_CELLS = 10
TOP_AREAS = 3


def clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def _bar(score: float | None) -> str:
    if score is None:
        return " " * BAR_CELLS
    filled = round(max(0.0, min(10.0, score)) / 10 * BAR_CELLS)
    return "█" * filled + "·" * (BAR_CELLS - filled)


def summary(body: dict, name: str) -> str:
    analysis = body.get("video_analysis", body)
    evidence = analysis.get("evidence_quality") or {}
    duration = evidence.get("duration_s")
    lines = [f"SoftSkills analysis of {name}" + (f" ({duration:.1f} s)" if duration is not None else "")]
    overall = analysis.get("overall_score")
    lines.append(f"Overall  {overall if overall is not None else 'n/a'}/100")
    for category in CATEGORIES:
        score = (analysis.get("category_scores") or {}).get(category)
        shown = "n/a" if score is None else f"{score:.1f}"
        lines.append(f"  {category:<13} {shown:>4}  {_bar(score)}")
    pace, fillers = analysis.get("speaking_pace_wpm"), analysis.get("filler_word_count")
    pauses = [m for m in analysis.get("labeled_moments", []) if m.get("type") == "long_pause"]
    lines.append(
        f"Pace {'n/a' if pace is None else f'{pace:.0f} wpm'} · "
        f"{'n/a' if fillers is None else fillers} filler words · {len(pauses)} long pauses"
    )
    missing = evidence.get("missing") or {}
    for what, why in missing.items():
        lines.append(f"  not measured ({what}): {why}")
    _section(lines, "Strengths", [f"+ {text}" for text in analysis.get("strengths", [])])
    _section(
        lines, "Top areas to work on", [f"- {text}" for text in analysis.get("areas_for_improvement", [])[:TOP_AREAS]]
    )
    _section(
        lines,
        "Key moments",
        [
            f"{clock(m['start_s'])}–{clock(m['end_s'])}  {m.get('tone', ''):<7}  {m.get('why') or m.get('label', '')}"
            for m in analysis.get("key_moments", [])
        ],
    )
    if analysis.get("recommendation"):
        _section(lines, "Recommendation", [analysis["recommendation"]])
    if "videoUrl" in body:
        lines.append("")
        lines.append(f"Video: {body['videoUrl'] or body.get('videoUrlReason') or 'not kept'}")
    return "\n".join(lines)


def _section(lines: list[str], title: str, items: list[str]) -> None:
    if items:
        lines.append("")
        lines.append(title)
        lines.extend(f"  {item}" for item in items)
