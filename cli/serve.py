"""`softskills serve` (what `make serve` runs): the embedded default — SQLite key store, CPU config, bundled
weights — and a key to call it with.

Reuses the local API key (or creates one), starts `serve run serve_config.cpu.yaml` on port 8000, waits until the
service answers, prints ready-to-paste curl commands, then stays in the foreground until Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from softskills.auth.accounts import AccountStore
    from softskills.auth.store import KeyStore

REPO = Path(__file__).resolve().parent.parent
LOCAL_OWNER = "local"
LOCAL_KEY_NAME = "make serve"
LOCAL_KEY_FILE_NAME = "local_api_key"  # in the data dir, 0600: the key later starts reuse
LOCAL_KEY_LIFETIME = timedelta(days=90)
LOCAL_EMAIL = "local@localhost"  # the dashboard account; its keys are the "local" owner's, as in the CLI


def local_credentials() -> tuple[tuple[str, datetime, bool], str | None]:
    """What `softskills serve` prints, from the stores it builds (once, here) on the local database: the local API
    key (`local_api_key`) and, on the first start only, the local dashboard account's password."""
    from softskills.auth.accounts import AccountStore
    from softskills.auth.store import KeyStore
    from softskills.db.engine import database_url

    url = database_url()
    keys, accounts = KeyStore(url), AccountStore(url)
    try:
        return local_api_key(keys), ensure_local_account(accounts)
    finally:
        keys.close()
        accounts.close()


def local_api_key(store: KeyStore) -> tuple[str, datetime, bool]:
    """(key, expires_at, created): the key kept in <data dir>/local_api_key while the store still accepts it as the
    "make serve" key, else a new one (90 days). Every other "make serve" key is revoked, so one is active at a time
    however often the service is restarted."""
    from softskills.auth.service import Authenticator
    from softskills.db.files import data_dir

    path = data_dir() / LOCAL_KEY_FILE_NAME
    kept = path.read_text().strip() if path.is_file() else ""
    caller = Authenticator(store, cache_ttl_s=0).authenticate({"X-API-Key": kept}) if kept else None
    if caller is not None and (caller.owner, caller.name) == (LOCAL_OWNER, LOCAL_KEY_NAME):
        key, prefix, expires_at, created = kept, caller.prefix, caller.expires_at, False
    else:
        key, record = store.create_key(LOCAL_OWNER, LOCAL_KEY_NAME, LOCAL_KEY_LIFETIME)
        _write_private_file(path, key)
        prefix, expires_at, created = record.prefix, record.expires_at, True
    for record in store.list_keys(LOCAL_OWNER):
        if record.name == LOCAL_KEY_NAME and record.revoked_at is None and record.prefix != prefix:
            store.revoke(LOCAL_OWNER, record.prefix)
    return key, expires_at, created


def _write_private_file(path: Path, text: str) -> None:
    """Replaces `path` with `text`, readable by its owner only (0600) from the first byte."""
    from softskills.db.files import create_private_dir

    create_private_dir(path.parent)
    temp_path = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    with os.fdopen(os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as temp_file:
        temp_file.write(text + "\n")
    os.replace(temp_path, path)


def _key_lines(key: str, expires_at: datetime, created: bool) -> str:
    from softskills.db.files import data_dir

    kept_in = data_dir() / LOCAL_KEY_FILE_NAME
    state = "A new local API key" if created else "The local API key"
    return (
        f'{state} (owner "{LOCAL_OWNER}", expires {expires_at:%Y-%m-%d}; kept in {kept_in}, 0600, and reused\n'
        f"by every start until it expires or is revoked):\n\n    {key}"
    )


def ensure_local_account(accounts: AccountStore) -> str | None:
    """Creates the local dashboard account on first start; its password (returned) is printed only then."""
    from softskills.auth.cli import generate_password

    if accounts.find_account(LOCAL_EMAIL) is not None:
        return None
    password = generate_password()
    accounts.create_account(LOCAL_EMAIL, password, owner=LOCAL_OWNER)
    return password


def _dashboard_lines(base: str, password: str | None) -> str:
    if password is None:
        return (
            f"Dashboard: {base}/dashboard   (sign in as {LOCAL_EMAIL}; its password was printed on the first\n"
            f"start; set a new one with: .venv/bin/softskills users reset-password --email {LOCAL_EMAIL})"
        )
    return (
        f"Dashboard: {base}/dashboard   A new local account; the password is shown only this once:\n\n"
        f"    email:    {LOCAL_EMAIL}\n    password: {password}"
    )


def _wait_until_healthy(url: str, process: subprocess.Popen, timeout_s: float = 600) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(2)
    return False


def add_parser(commands) -> None:
    commands.add_parser(
        "serve",
        help="Start the service locally (SQLite, CPU config, bundled weights) and print a "
        "key and the curl commands to call it.",
    )


def run(args=None) -> int:
    os.environ.setdefault("SOFTSKILLS_DATA_DIR", str(REPO / "var"))
    os.environ["SOFTSKILLS_DATA_DIR"] = str(Path(os.environ["SOFTSKILLS_DATA_DIR"]).resolve())
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    config = os.environ.get("SOFTSKILLS_SERVE_CONFIG", "serve_config.cpu.yaml")
    (key, expires_at, created), password = local_credentials()
    base = "http://127.0.0.1:8000"
    process = subprocess.Popen([str(Path(sys.executable).parent / "serve"), "run", config], cwd=REPO)
    try:
        print(f"Starting {config} (first start loads the models; this takes a minute) ...", flush=True)
        if not _wait_until_healthy(f"{base}/health", process):
            print("The service did not come up; see the log above.", file=sys.stderr)
            process.terminate()
            return 1
        print(
            f"""
================================================================================
SoftSkills API is running at {base}   (docs: {base}/docs)
{_key_lines(key, expires_at, created)}

curl -X POST "{base}/api/v1/analyze-video" \\
  -H "Authorization: Bearer {key}" \\
  -F "video=@/path/to/your/video.mp4"

curl -X POST "{base}/api/v1/full-analysis" \\
  -H "X-API-Key: {key}" \\
  -F "video=@/path/to/your/video.mp4" -F "context_phrase=job interview practice"

Long videos as jobs (embedded queue in $SOFTSKILLS_DATA_DIR/jobs; answers 202, then GET the job):
curl -X POST "{base}/api/v1/jobs" -H "X-API-Key: {key}" -F "video=@/path/to/your/video.mp4"

Or the client: SOFTSKILLS_API_KEY={key} .venv/bin/softskills analyze video.mp4 [--full] [--async --wait]

{_dashboard_lines(base, password)}

Manage keys: .venv/bin/softskills keys list | create --name NAME --expires 90d | revoke PREFIX
Stop with Ctrl-C.
================================================================================
""",
            flush=True,
        )
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        return process.wait()
