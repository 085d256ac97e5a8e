import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from softskills.auth.keys import KEY_PATTERN, parse_key
from softskills.auth.service import Authenticator
from softskills.auth.store import KeyStore
from softskills.cli.main import main
from softskills.db.engine import database_url
from tests.auth_support import clean_auth_env  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parent.parent


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SOFTSKILLS_", "DATABASE_URL"))}
    env["SOFTSKILLS_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "softskills.cli.main", "keys", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_end_to_end(tmp_path):
    data_dir = tmp_path / "data"
    created = _cli(data_dir, "create", "--name", "Production Key", "--expires", "90d", "--owner", "alice")
    assert created.returncode == 0, created.stderr
    full_key = created.stdout.strip()
    assert KEY_PATTERN.fullmatch(full_key) and parse_key(full_key) is not None
    assert "cannot be shown again" in created.stderr
    prefix = full_key[:13]

    listed = _cli(data_dir, "list", "--owner", "alice")
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split() == ["NAME", "PREFIX", "CREATED", "EXPIRES", "LAST", "USED", "STATUS"]
    assert row.startswith("Production Key") and f"{prefix}..." in row and row.endswith("active")
    assert full_key[13:20] not in listed.stdout + listed.stderr  # no part of the secret
    record = KeyStore(f"sqlite:///{data_dir / 'softskills.db'}").find_by_lookup_id(prefix[3:])
    assert record.secret_hash.hex() not in listed.stdout

    assert _cli(data_dir, "list", "--owner", "bob").stdout == ""
    assert _cli(data_dir, "revoke", f"{prefix}...", "--owner", "bob").returncode == 1
    revoked = _cli(data_dir, "revoke", f"{prefix}...", "--owner", "alice")
    assert revoked.returncode == 0, revoked.stderr
    assert _cli(data_dir, "list", "--owner", "alice").stdout.splitlines()[1].endswith("revoked")


def test_created_key_authenticates_until_revoked(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("SOFTSKILLS_OWNER", "carol")
    assert main(["keys", "create", "--name", "CI", "--expires", "never"]) == 0
    full_key = capsys.readouterr().out.strip()
    authenticator = Authenticator(KeyStore(database_url()), cache_ttl_s=0)
    caller = authenticator.authenticate({"X-API-Key": full_key})
    assert caller is not None and caller.owner == "carol" and caller.expires_at is None
    assert main(["keys", "revoke", full_key[:13]]) == 0
    assert authenticator.authenticate({"X-API-Key": full_key}) is None


@pytest.mark.parametrize(("choice", "lifetime"), [("30d", timedelta(days=30)), ("1y", timedelta(days=365))])
def test_expiry_choices(capsys, choice, lifetime):
    assert main(["keys", "create", "--name", "k", "--expires", choice]) == 0
    full_key = capsys.readouterr().out.strip()
    record = KeyStore(database_url()).find_by_lookup_id(parse_key(full_key).lookup_id)
    assert record.owner == "local"
    assert record.expires_at - record.created_at == lifetime


def test_invalid_arguments_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["keys", "create", "--name", "k", "--expires", "2d"])
    assert exit_info.value.code == 2
    assert main(["keys", "create", "--name", "  "]) == 2
    assert main(["keys", "revoke", "nonsense"]) == 1
    assert main(["keys", "list"]) == 0
    assert "No keys" in capsys.readouterr().err


def test_shared_database_without_pepper_is_an_error(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert main(["keys", "list"]) == 2
    assert "SOFTSKILLS_KEY_PEPPER" in capsys.readouterr().err
