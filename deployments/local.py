"""`make serve`: the embedded default — SQLite key store, CPU config, bundled weights — and a key to call it with.

Creates a local API key (shown once), starts `serve run serve_config.cpu.yaml` on port 8000, waits until the
service answers, prints ready-to-paste curl commands, then stays in the foreground until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCAL_OWNER = "local"
LOCAL_KEY_NAME = "make serve"
LOCAL_EMAIL = "local@localhost"  # the dashboard account; its keys are the "local" owner's, as in the CLI


def _create_local_key() -> str:
    from auth.store import KeyStore, database_url

    return KeyStore(database_url()).create_key(LOCAL_OWNER, LOCAL_KEY_NAME, None)[0]


def _ensure_local_account() -> str | None:
    """Creates the local dashboard account on first start; its password (returned) is printed only then."""
    from auth.accounts import AccountStore
    from auth.cli import generate_password
    from auth.store import database_url

    accounts = AccountStore(database_url())
    try:
        if accounts.find_account(LOCAL_EMAIL) is not None:
            return None
        password = generate_password()
        accounts.create_account(LOCAL_EMAIL, password, owner=LOCAL_OWNER)
        return password
    finally:
        accounts.close()


def _dashboard_lines(base: str, password: str | None) -> str:
    if password is None:
        return (f"Dashboard: {base}/dashboard   (sign in as {LOCAL_EMAIL}; its password was printed on the first\n"
                f"start; set a new one with: .venv/bin/softskills users reset-password --email {LOCAL_EMAIL})")
    return (f"Dashboard: {base}/dashboard   A new local account; the password is shown only this once:\n\n"
            f"    email:    {LOCAL_EMAIL}\n    password: {password}")


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


def main() -> int:
    os.environ.setdefault("SOFTSKILLS_DATA_DIR", str(REPO / "var"))
    os.environ["SOFTSKILLS_DATA_DIR"] = str(Path(os.environ["SOFTSKILLS_DATA_DIR"]).resolve())
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    config = os.environ.get("SOFTSKILLS_SERVE_CONFIG", "serve_config.cpu.yaml")
    key = _create_local_key()
    password = _ensure_local_account()
    base = "http://127.0.0.1:8000"
    process = subprocess.Popen([str(Path(sys.executable).parent / "serve"), "run", config], cwd=REPO)
    try:
        print(f"Starting {config} (first start loads the models; this takes a minute) ...", flush=True)
        if not _wait_until_healthy(f"{base}/health", process):
            print("The service did not come up; see the log above.", file=sys.stderr)
            process.terminate()
            return 1
        print(f"""
================================================================================
SoftSkills API is running at {base}   (docs: {base}/docs)
A new local API key (owner "{LOCAL_OWNER}"); it is shown only this once:

    {key}

curl -X POST "{base}/api/v1/analyze-video" \\
  -H "Authorization: Bearer {key}" \\
  -F "video=@/path/to/your/video.mp4"

curl -X POST "{base}/api/v1/full-analysis" \\
  -H "X-API-Key: {key}" \\
  -F "video=@/path/to/your/video.mp4" -F "context_phrase=job interview practice"

{_dashboard_lines(base, password)}

Manage keys: .venv/bin/softskills keys list | create --name NAME --expires 90d | revoke PREFIX
Stop with Ctrl-C.
================================================================================
""", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        return process.wait()


if __name__ == "__main__":
    sys.exit(main())
