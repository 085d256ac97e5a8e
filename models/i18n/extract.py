"""A Babel extraction method for the interpretation parameter file (pyproject.toml, [tool.babel]): each metric's
`label` is a catalog message, said inside reasons and the recommendation ("no filler words (...)"), so the labels
stay in the one versioned parameter file and still reach the catalogs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any


def interpretation_labels(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict
) -> Iterator[tuple[int, str, str, list[str]]]:
    """(line, function, message, comments) for each metric label, as Babel's extractors yield them."""
    text = fileobj.read().decode(options.get("encoding", "utf-8"))
    lines = text.splitlines()
    for metric, spec in json.loads(text)["metrics"].items():
        label = spec["label"]
        quoted = json.dumps(label, ensure_ascii=False)
        line = next((n for n, content in enumerate(lines, 1) if f'"label": {quoted}' in content), 0)
        yield line, "N_", label, [f'The label of the metric {metric} (e.g. "no {label} (why)").']
