"""MkDocs hook (mkdocs.yml `hooks:`): the two reference pages that come from the code, so they cannot drift from it.

- The API reference: the real application's OpenAPI document (`softskills.deployments.ingress.api.openapi()`,
  built without starting Ray) is written to build/docs-generated/openapi.json, which docs/api-reference.md renders
  with neoteroi's `[OAD(...)]` plugin, and is published beside the pages as openapi.json.
- The configuration reference (configuration-reference.md, generated, not in docs/): every section and field of
  `softskills.deployments.config.AppArgs` with its type, default, bounds and description; nested models get their
  own tables.
"""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from mkdocs.structure.files import File, Files
from pydantic import BaseModel
from pydantic.fields import FieldInfo

REPO = Path(__file__).resolve().parent.parent
GENERATED_DIR = REPO / "build" / "docs-generated"  # docs/api-reference.md reads ../build/docs-generated/openapi.json
OPENAPI_NAME = "openapi.json"
CONFIG_REFERENCE_NAME = "configuration-reference.md"
NO_DESCRIPTION = "*(no description yet)*"
_BOUNDS = ((Gt, "gt", "> {}"), (Ge, "ge", "≥ {}"), (Lt, "lt", "< {}"), (Le, "le", "≤ {}"),
           (MinLen, "min_length", "at least {} long"), (MaxLen, "max_length", "at most {} long"))


def openapi_document() -> dict:
    """The served /openapi.json: importing the ingress builds the FastAPI app; Ray is imported, never started."""
    from softskills.deployments.ingress import api

    return api.openapi()


def on_config(config):
    GENERATED_DIR.mkdir(parents=True, exist_ok=True)
    (GENERATED_DIR / OPENAPI_NAME).write_text(json.dumps(openapi_document(), indent=2) + "\n")
    return config


def on_files(files: Files, config) -> Files:
    files.append(File.generated(config, OPENAPI_NAME, abs_src_path=str(GENERATED_DIR / OPENAPI_NAME)))
    files.append(File.generated(config, CONFIG_REFERENCE_NAME, content=configuration_reference()))
    return files


# The configuration reference --------------------------------------------------------------------------------------

def configuration_reference() -> str:
    from softskills.deployments.config import AppArgs

    sections = list(_model_sections("", AppArgs))
    lines = [
        "# Configuration reference",
        "",
        "Generated from `deployments/config.py` (`AppArgs`) when the site is built: every key the serve config "
        "files accept under `applications[].args`, with its type, default, bounds and description. A section "
        "nested in another (`ingress.storage`) has its own table. How to set them, and the environment variables "
        "beside them: [Configuration](configuration.md).",
        "",
        "Sections: " + ", ".join(f"[`{name}`](#{_anchor(name)})" for name, _ in sections) + ".",
        "",
    ]
    for name, model in sections:
        lines += [f"## `{name}`", ""]
        if model.__doc__ and model.__doc__ is not BaseModel.__doc__:
            lines += [_cell(" ".join(model.__doc__.split())), ""]
        lines += ["| key | type | default | bounds | description |", "| --- | --- | --- | --- | --- |"]
        for field_name, field in model.model_fields.items():
            nested = _nested_model(field.annotation)
            if nested is not None:
                description = f"section: see [`{name}.{field_name}`](#{_anchor(f'{name}.{field_name}')})"
            else:
                description = _cell(field.description) if field.description else NO_DESCRIPTION
            lines.append(f"| `{field_name}` | {_type_name(field.annotation)} | {_default(field_name, field, nested)} | "
                         f"{_bounds(field)} | {description} |")
        lines.append("")
    return "\n".join(lines)


def _model_sections(prefix: str, model: type[BaseModel]):
    """(dotted name, model) for every nested model, depth first, in declaration order; the root itself is skipped."""
    for field_name, field in model.model_fields.items():
        nested = _nested_model(field.annotation)
        if nested is not None:
            name = f"{prefix}.{field_name}" if prefix else field_name
            yield name, nested
            yield from _model_sections(name, nested)


def _nested_model(annotation) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _anchor(name: str) -> str:
    """MkDocs' default slug of a `## \\`name\\`` heading: dots dropped, lower case."""
    return name.replace(".", "").lower()


def _type_name(annotation) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{json.dumps(arg)}`" for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("`null`" if arg is type(None) else _type_name(arg) for arg in args)
    if origin in (tuple, list):
        return f"list of {_type_name(args[0])}"
    if _nested_model(annotation) is not None:
        return "section"
    return f"`{getattr(annotation, '__name__', annotation)}`"


def _default(name: str, field: FieldInfo, nested: type[BaseModel] | None) -> str:
    if nested is not None:
        return "–"
    value = field.get_default(call_default_factory=True)
    shown = f"`{json.dumps(list(value) if isinstance(value, tuple) else value)}`"
    if name.endswith("_bytes") and value >= 1024**2 and value % 1024**2 == 0:
        size = f"{value // 1024**3} GiB" if value % 1024**3 == 0 else f"{value // 1024**2} MiB"
        shown += f" ({size})"
    return shown


def _bounds(field: FieldInfo) -> str:
    found = [text.format(getattr(item, attr)) for item in field.metadata
             for kind, attr, text in _BOUNDS if isinstance(item, kind)]
    return ", ".join(found) or "–"


def _cell(text: str) -> str:
    """Text for one table cell: pipes escaped, and `<...>` outside code spans shown rather than taken for HTML."""
    parts = " ".join(text.split()).replace("|", "\\|").split("`")
    return "`".join(part if i % 2 else part.replace("<", "&lt;").replace(">", "&gt;") for i, part in enumerate(parts))
