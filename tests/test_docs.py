"""The documentation: the site builds strictly (a broken link or anchor, a page left out of the navigation, a
reference page the code cannot generate all fail the build), and the README stays a newcomer's one page."""

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README_MAX_LINES = 250


def test_the_site_builds_strictly_with_both_generated_references(tmp_path):
    site = tmp_path / "site"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(REPO / "mkdocs.yml"),
            "--site-dir",
            str(site),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stderr[-4000:]
    api_reference = (site / "api-reference" / "index.html").read_text()
    assert "/api/v1/analyze-video" in api_reference and "/api/v1/webhooks/secret" in api_reference
    assert '"openapi"' in (site / "openapi.json").read_text()
    config_reference = (site / "configuration-reference" / "index.html").read_text()
    for key in ("max_upload_bytes", "trusted_proxies", "secret_rotation_grace_s", "batch_size"):
        assert key in config_reference


def test_the_readme_is_short_names_both_commands_and_links_only_pages_that_exist():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= README_MAX_LINES
    assert "make serve" in readme and "make test" in readme
    linked = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert linked and all((REPO / path).is_file() for path in linked)
