"""One contract: the request fields are declared once (api/request_fields.py) and the parser, /openapi.json and the
docs' field table all come from that declaration. The parser is run on a form that records every field it reads;
what it reads is exactly what the OpenAPI request schema of each form endpoint lists, with the service's own
configured limits."""

from __future__ import annotations

import io
import sys

import pytest
from starlette.datastructures import FormData, Headers, UploadFile

from softskills.api.app import build_api
from softskills.api.request_fields import (
    ANALYSIS,
    FIELDS,
    FORM_ENDPOINTS,
    JOB,
    form_schema,
    parse_analysis_request,
    parse_job_request,
)
from softskills.config.options import HttpOptions
from tests.test_layers import REPO

PARSERS = {ANALYSIS: parse_analysis_request, JOB: parse_job_request}


class RecordingForm(FormData):
    """A form with only a video, which remembers every field name the parser asks it for."""

    def __init__(self):
        super().__init__([("video", UploadFile(file=io.BytesIO(b"video"), filename="talk.mp4", headers=Headers()))])
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


def fields_read(form_kind: str) -> set[str]:
    form = RecordingForm()
    PARSERS[form_kind](form, HttpOptions(), observable_only=False)
    return form.read


@pytest.mark.parametrize("form_kind", [ANALYSIS, JOB])
def test_openapi_lists_exactly_the_fields_the_parser_reads_with_the_configured_limits(form_kind):
    limits = HttpOptions(max_session_id_chars=42, max_context_phrase_chars=77, max_transcript_words=99)
    document = build_api(limits, None, None, None, None).openapi()
    for path in FORM_ENDPOINTS[form_kind]:
        body = document["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert set(body["properties"]) == fields_read(form_kind)
        assert body == form_schema(form_kind, limits)
        assert body["properties"]["sessionId"]["maxLength"] == 42
        assert body["properties"]["context_phrase"]["maxLength"] == 77
        assert "At most 99 words" in body["properties"]["transcript"]["description"]


def test_every_form_endpoint_is_served_and_every_field_belongs_to_a_form():
    paths = build_api(HttpOptions(), None, None, None, None).openapi()["paths"]
    assert all("post" in paths[path] for form_paths in FORM_ENDPOINTS.values() for path in form_paths)
    assert all(field.forms and set(field.forms) <= set(FORM_ENDPOINTS) for field in FIELDS)
    assert len({field.name for field in FIELDS}) == len(FIELDS)


def test_the_docs_field_table_is_the_declaration():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from docs_hooks import REQUEST_FIELDS_MARKER, request_fields_table
    finally:
        sys.path.remove(str(REPO / "scripts"))
    assert REQUEST_FIELDS_MARKER in (REPO / "docs" / "api.md").read_text()
    table = request_fields_table()
    assert all(f"| `{field.name}`" in table for field in FIELDS)
