"""MkDocs hook (mkdocs.yml `hooks:`): what the docs say that comes from the code, so it cannot drift from it.

- The API reference: the real application's OpenAPI document (`softskills.api.app.build_api`, with the default
  limits and no services: neither Ray nor a database is needed) is written to build/docs-generated/openapi.json,
  which docs/api-reference.md renders with neoteroi's `[OAD(...)]` plugin, and is published beside the pages as
  openapi.json.
- The configuration reference (configuration-reference.md, generated, not in docs/): every section and field of
  `softskills.config.options.AppArgs` with its type, default, bounds and description; nested models get their
  own tables.
- The request-field table of docs/api.md: its `<!-- request fields -->` line becomes the table of
  `softskills.api.request_fields.FIELDS` (the declaration the parser and /openapi.json come from), with the
  default limits.
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
_BOUNDS = (
    (Gt, "gt", "> {}"),
    (Ge, "ge", "≥ {}"),
    (Lt, "lt", "< {}"),
    (Le, "le", "≤ {}"),
    (MinLen, "min_length", "at least {} long"),
    (MaxLen, "max_length", "at most {} long"),
)


REQUEST_FIELDS_MARKER = "<!-- request fields -->"


def openapi_document() -> dict:
    """The served /openapi.json, with the default limits."""
    from softskills.api.app import build_api
    from softskills.config.options import HttpOptions

    return build_api(HttpOptions(), None, None, None, None).openapi()


def on_config(config):
    GENERATED_DIR.mkdir(parents=True, exist_ok=True)
    (GENERATED_DIR / OPENAPI_NAME).write_text(json.dumps(openapi_document(), indent=2) + "\n")
    return config


def on_files(files: Files, config) -> Files:
    files.append(File.generated(config, OPENAPI_NAME, abs_src_path=str(GENERATED_DIR / OPENAPI_NAME)))
    files.append(File.generated(config, CONFIG_REFERENCE_NAME, content=configuration_reference()))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != "api.md":
        return markdown
    return markdown.replace(REQUEST_FIELDS_MARKER, request_fields_table())


# The request fields -----------------------------------------------------------------------------------------------


def request_fields_table() -> str:
    """docs/api.md's table of the form fields: name, the endpoints that take it, its type, what it means (with the
    default limits)."""
    from softskills.api.request_fields import FIELDS, FORM_ENDPOINTS
    from softskills.config.options import HttpOptions

    limits = HttpOptions()
    lines = ["| field | endpoints | type | meaning |", "| --- | --- | --- | --- |"]
    for field in FIELDS:
        endpoints = ", ".join(
            f"`{path.removeprefix('/api/v1/')}`" for form in field.forms for path in FORM_ENDPOINTS[form]
        )
        schema = field.schema(limits)
        kind = "file" if schema.get("format") == "binary" else schema["type"]
        if "enum" in schema:
            kind += ": " + ", ".join(f"`{value}`" for value in schema["enum"])
        elif "minimum" in schema:
            kind += f" {schema['minimum']}–{schema['maximum']}"
        name = f"`{field.name}`" + " (required)" * field.required
        lines.append(f"| {name} | {endpoints} | {kind} | {_cell(field.describe(limits))} |")
    return "\n".join(lines)


# The configuration reference --------------------------------------------------------------------------------------


def configuration_reference() -> str:
    from softskills.config.options import AppArgs

    sections = list(_model_sections("", AppArgs))
    lines = [
        "# Configuration reference",
        "",
        "Generated from `config/options.py` (`AppArgs`) when the site is built: every key the serve config "
        "files accept under `applications[].args`, with its type, default, bounds and description. A section "
        "nested in another (`jobs.webhooks`) has its own table. How to set them, the environment variables "
        "beside them, and the older `ingress` section: [Configuration](configuration.md).",
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
            elif field.description:
                description = _cell(field.description)
            else:
                raise ValueError(f"{name}.{field_name} has no description (config/options.py)")
            lines.append(
                f"| `{field_name}` | {_type_name(field.annotation)} | {_default(field_name, field, nested)} | "
                f"{_bounds(field)} | {description} |"
            )
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
    found = [
        text.format(getattr(item, attr))
        for item in field.metadata
        for kind, attr, text in _BOUNDS
        if isinstance(item, kind)
    ]
    return ", ".join(found) or "–"


def _cell(text: str) -> str:
    """Text for one table cell: pipes escaped, and `<...>` outside code spans shown rather than taken for HTML."""
    parts = " ".join(text.split()).replace("|", "\\|").split("`")
    return "`".join(part if i % 2 else part.replace("<", "&lt;").replace(">", "&gt;") for i, part in enumerate(parts))
