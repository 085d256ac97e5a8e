"""`make loadtest`: start the service (serve_config.cpu.yaml on a free port, throwaway key store), run
loadtest/locustfile.py headless against it, print the results table, and exit non-zero when the failure ratio or
the p95 latency is over its threshold. `--scenario jobs` queues the videos as jobs instead; its p95 is then the
time from submission to result (the JOB row).

    .venv/bin/python -m loadtest.run [--scenario sync|jobs] [--users 2] [--spawn-rate 1] [--duration 60s]
                                     [--max-failure-ratio 0.01] [--max-p95-s 30]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = {"sync": "VideoUploader", "jobs": "JobUser"}  # the locustfile's user class of each


def _results(stats_csv: Path) -> list[dict]:
    with open(stats_csv, newline="") as f:
        return [row for row in csv.DictReader(f) if row["Request Count"] != "0"]


def _table(rows: list[dict]) -> str:
    lines = [
        "| endpoint | requests | failures | median s | p95 s | max s | req/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        name = "all" if row["Name"] == "Aggregated" else f"`{row['Type']} {row['Name']}`"
        lines.append(
            f"| {name} | {row['Request Count']} | {row['Failure Count']} | "
            f"{float(row['50%']) / 1000:.1f} | {float(row['95%']) / 1000:.1f} | "
            f"{float(row['Max Response Time']) / 1000:.1f} | {float(row['Requests/s']):.3f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=tuple(SCENARIOS), default="sync")
    parser.add_argument("--users", type=int, default=2)
    parser.add_argument("--spawn-rate", type=float, default=1.0)
    parser.add_argument("--duration", default="60s", help="locust --run-time, e.g. 60s or 5m")
    parser.add_argument("--max-failure-ratio", type=float, default=0.01)
    parser.add_argument("--max-p95-s", type=float, default=30.0)
    parser.add_argument("--config", type=Path, default=REPO / "serve_config.cpu.yaml")
    args = parser.parse_args()

    from testkit.service_runner import running_service
    from testkit.videos import FIXTURE_DIR, fixture_set

    fixture_set(FIXTURE_DIR)  # the real videos the users upload (built once, cached)
    with (
        tempfile.TemporaryDirectory(prefix="softskills-loadtest-") as tmp,
        running_service(Path(tmp), args.config) as service,
    ):
        # One untimed request first: each replica's first call pays one-off costs (librosa's numba JIT, lazy model
        # state) that a steady-state load test should not count.
        service.post("/api/v1/analyze-video", str(FIXTURE_DIR / "script.mp4")).raise_for_status()
        prefix = Path(tmp) / "locust"
        command = [
            str(Path(sys.executable).parent / "locust"),
            "-f",
            str(REPO / "loadtest" / "locustfile.py"),
            "--host",
            service.base_url,
            "--headless",
            "-u",
            str(args.users),
            "-r",
            str(args.spawn_rate),
            "-t",
            args.duration,
            "--stop-timeout",
            "600",
            "--csv",
            str(prefix),
            "--only-summary",
            SCENARIOS[args.scenario],
        ]
        print(f"$ {' '.join(command[1:])}", flush=True)
        subprocess.run(command, env={**os.environ, "SOFTSKILLS_API_KEY": service.key}, cwd=REPO, check=False)
        rows = _results(Path(f"{prefix}_stats.csv"))
    total = next((r for r in rows if r["Name"] == "Aggregated"), None)
    if total is None:
        print("no request completed", file=sys.stderr)
        return 1
    failure_ratio = int(total["Failure Count"]) / int(total["Request Count"])
    timed = next((r for r in rows if r["Type"] == "JOB"), None) if args.scenario == "jobs" else total
    if timed is None:
        print("no job finished", file=sys.stderr)
        return 1
    p95_s = float(timed["95%"]) / 1000
    print(f"\n{args.scenario}: {args.users} users, {args.duration}, {args.config.name}\n")
    print(_table(rows))
    verdicts = [
        (f"failure ratio {failure_ratio:.3f} <= {args.max_failure_ratio}", failure_ratio <= args.max_failure_ratio),
        (f"p95 {p95_s:.1f} s <= {args.max_p95_s:g} s", p95_s <= args.max_p95_s),
    ]
    print("\n" + "\n".join(f"{'PASS' if ok else 'FAIL'}: {text}" for text, ok in verdicts))
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
