"""`softskills analyze VIDEO [--full] [--context TEXT] [--async [--wait]] [--json]`, with $SOFTSKILLS_API_KEY and
$SOFTSKILLS_URL (default http://127.0.0.1:8000).

Synchronous by default (`analyze-video`, or `full-analysis` with --full); --async queues a job instead and prints
its id, and --wait then polls it until it has finished. The upload shows a progress bar on stderr; the answer is a
readable summary on stdout, or with --json the API's JSON exactly. Exit status: 0 analysed, 1 the API refused or
the analysis failed, 2 a usage error (no key, no such file).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

API_KEY_ENV = "SOFTSKILLS_API_KEY"
URL_ENV = "SOFTSKILLS_URL"
DEFAULT_URL = "http://127.0.0.1:8000"
BAR_WIDTH = 30


def add_parser(commands) -> None:
    analyze = commands.add_parser(
        "analyze",
        help="Analyse a video with the API (needs $SOFTSKILLS_API_KEY).",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    analyze.add_argument("video", help="The video file (mp4, mov, webm, mkv or avi).")
    analyze.add_argument(
        "--full",
        action="store_true",
        help="full-analysis: the engine's interpretation, the transcript and a temporary videoUrl too.",
    )
    analyze.add_argument("--context", help='The scenario, e.g. "job interview practice".')
    analyze.add_argument(
        "--async",
        dest="as_job",
        action="store_true",
        help="Queue it as a job (POST /api/v1/jobs) and print the job's id.",
    )
    analyze.add_argument("--wait", action="store_true", help="With --async: wait for the job and show its result.")
    analyze.add_argument("--json", action="store_true", help="Print the API's JSON instead of a summary.")


class Progress:
    """An upload bar on stderr: redrawn in place on a terminal, one line at the end otherwise."""

    def __init__(self, stream=sys.stderr):
        self._stream, self._tty, self._last = stream, stream.isatty(), -1

    def __call__(self, sent: int, total: int) -> None:
        percent = 100 * sent // max(total, 1)
        if percent == self._last:
            return
        self._last = percent
        if self._tty:
            filled = BAR_WIDTH * percent // 100
            self._stream.write(
                f"\rUploading [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {percent:3d}% of {total / 2**20:.1f} MB"
            )
            if sent >= total:
                self._stream.write("\n")
        elif sent >= total:
            self._stream.write(f"Uploaded {total / 2**20:.1f} MB (100%)\n")
        self._stream.flush()


def run(args: argparse.Namespace) -> int:
    import httpx

    from softskills.client.http import ApiError, Client
    from softskills.client.summary import summary

    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        print(f"error: set {API_KEY_ENV} to an API key (softskills keys create, or the dashboard).", file=sys.stderr)
        return 2
    if not Path(args.video).is_file():
        print(f"error: no such file: {args.video}", file=sys.stderr)
        return 2
    if args.wait and not args.as_job:
        print("error: --wait goes with --async.", file=sys.stderr)
        return 2
    client = Client(os.environ.get(URL_ENV) or DEFAULT_URL, key)
    analysis = "full-analysis" if args.full else "analyze-video"
    fields = {"context_phrase": args.context} if args.context else {}
    name = Path(args.video).name
    try:
        if not args.as_job:
            body = client.upload(args.video, fields, f"/api/v1/{analysis}", Progress())
            print(json.dumps(body, indent=2) if args.json else summary(body, name))
            return 0
        job = client.upload(args.video, {**fields, "analysis": analysis}, "/api/v1/jobs", Progress())
        print(f"Job {job['id']} {job['status']}.", file=sys.stderr)
        if not args.wait:
            print(json.dumps(job, indent=2) if args.json else job["id"])
            return 0
        job = client.wait(job["id"], on_poll=_waiting(time.monotonic()))
    except ApiError as error:
        print(f"error: the API answered {error.status}: {error.detail}", file=sys.stderr)
        return 1
    except httpx.HTTPError as error:  # connection refused, a timeout
        print(f"error: could not reach {client.base_url}: {type(error).__name__} {error}", file=sys.stderr)
        return 1
    return _finished(job, args.json, name)


def _waiting(started: float):
    tty = sys.stderr.isatty()

    def show(job: dict) -> None:
        if tty and job["status"] in ("queued", "running"):
            sys.stderr.write(f"\r{job['status'].capitalize()}… {time.monotonic() - started:.0f} s ")
            sys.stderr.flush()
        elif tty:
            sys.stderr.write("\n")

    return show


def _finished(job: dict, as_json: bool, name: str) -> int:
    from softskills.client.summary import summary

    if as_json:
        print(json.dumps(job, indent=2))
    elif job["status"] == "succeeded":
        print(summary(job["result"], name))
    if job["status"] != "succeeded":
        error = job.get("error") or {}
        print(
            f"error: the job {job['status']}"
            + (f" ({error.get('status_code')}): {error.get('detail')}" if error else "."),
            file=sys.stderr,
        )
        return 1
    return 0
