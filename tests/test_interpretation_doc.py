"""INTERPRETATION.md and the parameter file agree, both ways: the document's tables are read back into the file's
shape (every curve point, window entry, weight, flag and setting) and compared with the file, less its prose
(`about`, `label`, `unit`, `evidence`). A number the file gains, loses or changes without the document, or the
other way round, is a difference; the mutations below show the comparison catches each kind."""

from __future__ import annotations

import copy
import math
import re

import pytest

from softskills.models.interpretation.model import PARAMS_PATH, load_params

DOC_PATH = PARAMS_PATH.parent / "INTERPRETATION.md"
PROSE_KEYS = {"about", "label", "unit", "evidence"}
NOT_WINDOWABLE = "not windowable"
ABSENT = "—"


def markdown_tables(text: str) -> dict[str, list[list[str]]]:
    """Every table's rows (cells stripped; header and separator dropped), by its header cells joined with "|"."""
    tables: dict[str, list[list[str]]] = {}
    rows: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            tables["|".join(rows[0])] = rows[2:]
            rows = []
    return tables


def name(cell: str) -> str:
    return cell.strip().strip("`")


def curve(text: str) -> list[list[float]]:
    """`60→1, 135–165→10` → [[60, 1], [135, 10], [165, 10]]."""
    points = []
    for point in text.split(","):
        values, score = point.strip().split("→")
        points += [[float(v), float(score)] for v in values.split("–")]
    return points


def weights(text: str) -> dict[str, float]:
    """`pace_wpm` 0.25, `stt_confidence` 0.15 → {"pace_wpm": 0.25, "stt_confidence": 0.15}."""
    return {metric: float(weight) for metric, weight in re.findall(r"`(\w+)` ([\d.]+)", text)}


def documented(text: str) -> dict:
    """The parameter file as the document states it."""
    tables = markdown_tables(text)
    params: dict = {"metrics": {}, "categories": {}, "interpretations": {}, "overall": {"weights": {}}}
    for metric, shape, _status, _source in tables["Metric|Curve (value → score)|Status|Source / rationale"]:
        params["metrics"][name(metric)] = {"curve": curve(shape)}
    windows = {
        name(metric): window for metric, window in tables["Metric|In a window (window measurement: value → score)"]
    }
    for metric in params["metrics"].keys() - windows.keys():
        params["metrics"][metric]["window"] = "missing from the Windows table"
    for metric, window in windows.items():
        spec = params["metrics"].setdefault(metric, {})
        if not window.startswith(NOT_WINDOWABLE):
            measured, points = re.fullmatch(r"`(\w+)`: ([^(]*?)(?: \(.*\))?", window).groups()
            spec["window"] = {"metric": measured, "curve": curve(points)}
    for category, inferred, overall, metrics in tables["Category|Inferred|Overall weight|Metrics (weight)"]:
        params["categories"][category] = {"inferred": {"yes": True, "no": False}[inferred], "weights": weights(metrics)}
        params["overall"]["weights"][category] = float(overall)
    for level, metrics, moments in tables["Level|Metrics (weight)|Moments shown"]:
        params["interpretations"][level] = {"weights": weights(metrics), "moments": re.findall(r"`(\w+)`", moments)}
    for metric, better, floor, personal in tables["Name|Better|Floor (take-to-take SD)|Personal curve (z → score)"]:
        spec = {"floor": float(floor)}
        if better != ABSENT:
            spec["better"] = better
        if personal != ABSENT:
            spec["personal_curve"] = curve(personal)
        params.setdefault("personal", {}).setdefault("metrics", {})[name(metric)] = spec
    for setting, value, _meaning in tables["Setting|Value|Meaning"]:
        *parents, key = name(setting).split(".")
        place = params
        for parent in parents:
            place = place.setdefault(parent, {})
        place[key] = value.split(", ") if ", " in value else value
    return params


def without_prose(value):
    if isinstance(value, dict):
        return {k: without_prose(v) for k, v in value.items() if k not in PROSE_KEYS}
    return value


def differences(doc, real, path: str = "") -> list[str]:
    """Where the document (`doc`, as documented() reads it) and the parameter file (`real`) differ."""
    if isinstance(real, dict):
        if not isinstance(doc, dict):
            return [f"{path}: the file has a table of values, the document {doc!r}"]
        found = [f"{path}.{k}: in the file, not in the document" for k in sorted(real.keys() - doc.keys())]
        found += [f"{path}.{k}: in the document, not in the file" for k in sorted(doc.keys() - real.keys())]
        for key in sorted(real.keys() & doc.keys()):
            found += differences(doc[key], real[key], f"{path}.{key}")
        return found
    if isinstance(real, list):
        if not isinstance(doc, list) or len(doc) != len(real):
            return [f"{path}: the file has {real}, the document {doc}"]
        return [d for i, (a, b) in enumerate(zip(doc, real)) for d in differences(a, b, f"{path}[{i}]")]
    if isinstance(real, bool) or isinstance(real, str):
        return [] if doc == real else [f"{path}: the file has {real!r}, the document {doc!r}"]
    try:
        same = math.isclose(float(doc), float(real), rel_tol=0, abs_tol=1e-9)
    except (TypeError, ValueError):
        same = False
    return [] if same else [f"{path}: the file has {real!r}, the document {doc!r}"]


def check(params: dict) -> list[str]:
    return differences(documented(DOC_PATH.read_text()), without_prose(params))


def test_the_document_states_every_number_of_the_parameter_file():
    assert check(load_params()) == []


def changed(edit) -> dict:
    params = copy.deepcopy(load_params())
    edit(params)
    return params


@pytest.mark.parametrize(
    "edit, where",
    [
        (lambda p: p["metrics"]["pace_wpm"]["curve"][2].__setitem__(1, 7), ".metrics.pace_wpm.curve[2][1]"),
        (lambda p: p["metrics"]["filler_rate_per_min"]["window"]["curve"].pop(), ".metrics.filler_rate_per_min.window"),
        (lambda p: p["metrics"]["smile_ratio"].pop("window"), ".metrics.smile_ratio.window: in the document"),
        (
            lambda p: p["metrics"]["blink_rate_per_min"].update(window={"metric": "blink_count", "curve": [[0, 5]]}),
            ".metrics.blink_rate_per_min.window: in the file",
        ),
        (
            lambda p: p["metrics"].update(speech_ratio={"curve": [[0, 0], [1, 10]]}),
            ".metrics.speech_ratio: in the file",
        ),
        (lambda p: p["metrics"].pop("fidget_ratio"), ".metrics.fidget_ratio: in the document"),
        (
            lambda p: p["categories"]["confidence"]["weights"].pop("slouch_ratio"),
            ".categories.confidence.weights.slouch_ratio: in the document",
        ),
        (lambda p: p["categories"]["likeability"].update(inferred=False), ".categories.likeability.inferred"),
        (lambda p: p["overall"]["weights"].update(clarity=0.4), ".overall.weights.clarity"),
        (lambda p: p["interpretations"]["composure"]["moments"].append("hedge"), ".interpretations.composure.moments"),
        (lambda p: p.update(min_coverage=0.5), ".min_coverage"),
        (lambda p: p.update(version="9.9"), ".version"),
        (lambda p: p["content"].update(max_summary_words=80), ".content.max_summary_words: in the file"),
        (lambda p: p["personal"]["metrics"]["pace_wpm"].update(floor=5.0), ".personal.metrics.pace_wpm.floor"),
        (
            lambda p: p["personal"]["metrics"]["eye_contact_ratio"].update(better="lower"),
            ".personal.metrics.eye_contact_ratio.better",
        ),
        (lambda p: p["personal"]["metrics"]["smile_ratio"]["personal_curve"].pop(), ".personal.metrics.smile_ratio"),
        (
            lambda p: p["personal"]["metrics"]["clarity"].update(personal_curve=[[0, 10]]),
            ".personal.metrics.clarity.personal_curve: in the file",
        ),
        (lambda p: p["personal"]["calibration"].update(weight=0.3), ".personal.calibration.weight"),
    ],
)
def test_the_comparison_finds_every_kind_of_change(edit, where):
    found = check(changed(edit))
    assert any(d.startswith(where) for d in found), found
