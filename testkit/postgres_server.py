"""A throwaway PostgreSQL server for tests that need the real thing.

``SOFTSKILLS_TEST_DATABASE_URL`` points the tests at an existing server instead. Without either,
the tests skip locally but fail under CI (``CI`` set), where they must run.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from softskills.db.engine import with_psycopg_driver
from testkit.service_runner import free_port

TEST_DATABASE_URL_ENV = "SOFTSKILLS_TEST_DATABASE_URL"
DATABASE_NAME = "softskills_test"
_SYSTEM_USER = "postgres"  # postgres refuses to run as root


def find_postgres_bin_dir() -> Path | None:
    """Newest Debian-style install (/usr/lib/postgresql/<version>/bin), else initdb on PATH."""
    bin_dirs = [Path(path).parent for path in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    versioned = [bin_dir for bin_dir in bin_dirs if bin_dir.parent.name.isdigit()]
    if versioned:
        return max(versioned, key=lambda bin_dir: int(bin_dir.parent.name))
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _as_postgres_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", _SYSTEM_USER, "--", *command] if os.geteuid() == 0 else command


@contextmanager
def throwaway_postgres(bin_dir: Path) -> Iterator[str]:
    """Starts a server on 127.0.0.1 in a temporary directory; yields a ``postgresql+psycopg://`` URL to an empty
    database, and stops and deletes the server on exit. Raises RuntimeError (with the server log) if it cannot
    start."""
    root = Path(tempfile.mkdtemp(prefix="softskills-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, user=_SYSTEM_USER, group=_SYSTEM_USER)
    data_dir, log_file, port = root / "data", root / "server.log", free_port()

    def run(command: list[str]) -> None:
        subprocess.run(_as_postgres_user(command), check=True, capture_output=True, text=True, timeout=120)

    try:
        run([str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust", "--no-sync"])
        run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data_dir),
                "-l",
                str(log_file),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off",
                "start",
            ]
        )
    except subprocess.CalledProcessError as error:
        log = log_file.read_text() if log_file.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {error.stderr}\n{log}") from error
    try:
        run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", DATABASE_NAME])
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{DATABASE_NAME}"
    finally:
        subprocess.run(
            _as_postgres_user([str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A ``postgresql+psycopg://`` URL to an empty database, for the whole test session."""
    existing = os.environ.get(TEST_DATABASE_URL_ENV)
    if existing:
        yield with_psycopg_driver(existing)
        return
    bin_dir = find_postgres_bin_dir()
    if bin_dir is None:
        message = f"no PostgreSQL binaries found and {TEST_DATABASE_URL_ENV} is not set"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with throwaway_postgres(bin_dir) as url:
        yield url
