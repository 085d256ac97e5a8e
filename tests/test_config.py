"""The typed configuration (config/options.py): every key is documented (the configuration reference is generated
from the descriptions), and a serve config written with the older single `ingress:` section still means the same."""

from __future__ import annotations

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from softskills.config.options import AppArgs
from tests.test_layers import REPO


def fields_of(model: type[BaseModel], prefix: str = ""):
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from fields_of(annotation, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", field


def test_every_configuration_key_has_a_description():
    assert [name for name, field in fields_of(AppArgs) if not (field.description or "").strip()] == []


def test_the_older_ingress_section_maps_to_the_sections_that_own_its_keys():
    older = {
        "ingress": {
            "frame_rate_hz": 4,
            "speech_timeout_s": 30,
            "observable_only": True,
            "max_upload_bytes": 1024,
            "retry_after_s": 3,
            "auth_cache_ttl_s": 1,
            "storage": {"backend": "off"},
            "dashboard": {"enabled": False},
        },
        "speech": {"device": "cpu"},
    }
    newer = {
        "analysis": {"frame_rate_hz": 4, "speech_timeout_s": 30, "observable_only": True},
        "http": {"max_upload_bytes": 1024, "retry_after_s": 3, "auth_cache_ttl_s": 1},
        "storage": {"backend": "off"},
        "dashboard": {"enabled": False},
        "speech": {"device": "cpu"},
    }
    assert AppArgs.model_validate(older) == AppArgs.model_validate(newer)
    mixed = {"ingress": {"frame_rate_hz": 4}, "analysis": {"max_side_px": 320}, "http": {"max_upload_bytes": 1024}}
    assert AppArgs.model_validate(mixed) == AppArgs.model_validate(
        {"analysis": {"frame_rate_hz": 4, "max_side_px": 320}, "http": {"max_upload_bytes": 1024}}
    )


@pytest.mark.parametrize(
    "args, named",
    [
        ({"ingress": {"frame_rate_hz": 4}, "analysis": {"frame_rate_hz": 5}}, "ingress.frame_rate_hz"),
        ({"ingress": {"storage": {"backend": "off"}}, "storage": {"backend": "local"}}, "ingress.storage"),
        ({"ingress": {"no_such_key": 1}}, "ingress.no_such_key"),
    ],
)
def test_an_older_key_given_twice_or_unknown_is_refused_by_name(args, named):
    with pytest.raises(ValidationError, match=named):
        AppArgs.model_validate(args)


@pytest.mark.parametrize("config", ["serve_config.yaml", "serve_config.cpu.yaml"])
def test_the_shipped_serve_configs_use_the_sections(config):
    args = yaml.safe_load((REPO / config).read_text())["applications"][0]["args"]
    assert "ingress" not in args and set(args) <= set(AppArgs.model_fields)
    AppArgs.model_validate(args)
