"""Copy serve_config.yaml, verbatim, into serveConfigV2 of deploy/kuberay/rayservice.yaml, so that the RayService
deploys exactly the configuration `serve run serve_config.yaml` runs. tests/test_kuberay_manifest.py fails while
the two differ.

    python scripts/sync_kuberay.py           # rewrite the manifest's serveConfigV2
    python scripts/sync_kuberay.py --check   # exit 1, changing nothing, if it is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVE_CONFIG = REPO / "serve_config.yaml"
MANIFEST = REPO / "deploy" / "kuberay" / "rayservice.yaml"
BLOCK_KEY = "  serveConfigV2: |"
BLOCK_INDENT = "    "


def with_serve_config(manifest: str, serve_config: str) -> str:
    """The manifest with the literal block under `serveConfigV2: |` replaced by serve_config, indented."""
    lines = manifest.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip("\n") == BLOCK_KEY]
    if len(starts) != 1:
        raise ValueError(f"expected one line '{BLOCK_KEY}' in the manifest, found {len(starts)}")
    start = end = starts[0] + 1
    while end < len(lines) and (lines[end].startswith(BLOCK_INDENT) or not lines[end].strip()):
        end += 1
    block = "".join(
        f"{BLOCK_INDENT}{line}\n" if line.strip() else "\n" for line in serve_config.rstrip("\n").splitlines()
    )
    return "".join(lines[:start]) + block + "".join(lines[end:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report whether the manifest is up to date")
    args = parser.parse_args()
    current = MANIFEST.read_text()
    synced = with_serve_config(current, SERVE_CONFIG.read_text())
    if synced == current:
        print(f"{MANIFEST.relative_to(REPO)}: serveConfigV2 matches {SERVE_CONFIG.name}")
        return 0
    if args.check:
        print(
            f"{MANIFEST.relative_to(REPO)}: serveConfigV2 differs from {SERVE_CONFIG.name}; run "
            "python scripts/sync_kuberay.py",
            file=sys.stderr,
        )
        return 1
    MANIFEST.write_text(synced)
    print(f"{MANIFEST.relative_to(REPO)}: serveConfigV2 rewritten from {SERVE_CONFIG.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
