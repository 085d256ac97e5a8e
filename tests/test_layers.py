"""The folders are layers, drawn from the code itself (every import, function-level ones included): no folder
imports another in a circle; models/, db/, config/, auth/, storage/, subjects/ and jobs/ stay free of Ray and of
HTTP (FastAPI, Starlette); deployments/ holds Serve modules only (each imports Ray), and the HTTP layer (api/) none:
what is Serve's (the model handles, the task queue, the metrics) reaches it as arguments."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLDERS = (
    "models",
    "db",
    "config",
    "auth",
    "storage",
    "subjects",
    "jobs",
    "api",
    "dashboard",
    "deployments",
    "cli",
    "client",
)
FRAMEWORKS = {"ray": "Ray", "fastapi": "HTTP", "starlette": "HTTP"}
FRAMEWORK_FREE = ("models", "db", "config", "auth", "jobs", "storage", "subjects")
# The one place api/ reads Serve: the id Serve gave the request being handled, for the log line of an unexpected
# error (the X-Request-ID the client got back).
API_READS_SERVE = {"api/errors.py": "ray"}


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, wherever the import statement is."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def modules() -> dict[Path, set[str]]:
    return {path: imports_of(path) for folder in FOLDERS for path in sorted((REPO / folder).rglob("*.py"))}


def folder_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "softskills" and len(parts) > 1 else None


def folder_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path, imported in modules().items():
        here = path.relative_to(REPO).parts[0]
        graph[here] |= {folder for module in imported if (folder := folder_of(module)) not in (None, here)}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary path that comes back to where it started, once per cycle (from its smallest folder)."""
    found = []

    def walk(start: str, path: list[str]) -> None:
        for following in sorted(graph.get(path[-1], ())):
            if following == start:
                found.append([*path, start])
            elif following not in path and following > start:
                walk(start, [*path, following])

    for start in sorted(graph):
        walk(start, [start])
    return found


def test_no_folder_imports_another_in_a_circle():
    graph = folder_graph()
    assert cycles(graph) == [], {folder: sorted(imported) for folder, imported in sorted(graph.items())}


def test_the_inner_folders_use_neither_ray_nor_http():
    offences = [
        f"{path.relative_to(REPO)} imports {module} ({FRAMEWORKS[module.split('.')[0]]})"
        for path, imported in modules().items()
        if path.relative_to(REPO).parts[0] in FRAMEWORK_FREE
        for module in sorted(imported)
        if module.split(".")[0] in FRAMEWORKS
    ]
    assert offences == []


def test_deployments_holds_serve_modules_only_and_the_api_none():
    found = modules()
    not_serve = [
        str(path.relative_to(REPO))
        for path, imported in found.items()
        if path.parts[-2] == "deployments"
        and path.name != "__init__.py"
        and not any(module.split(".")[0] == "ray" for module in imported)
    ]
    assert not_serve == []
    api_uses_serve = [
        f"{path.relative_to(REPO)}: {module}"
        for path, imported in found.items()
        if path.relative_to(REPO).parts[0] == "api"
        for module in sorted(imported)
        if (module.split(".")[0] == "ray" or folder_of(module) == "deployments")
        and API_READS_SERVE.get(str(path.relative_to(REPO))) != module
    ]
    assert api_uses_serve == []


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
