"""GPU throughput and latency with serve_config.yaml, for a session that has a GPU (see BENCHMARKS.md, "GPU").

Starts `serve run serve_config.yaml` on a free port, sends one warm-up request, then posts `--requests` 60 s 720p
videos to /api/v1/full-analysis from `--clients` concurrent clients and prints videos per minute and p50/p95
latency; `--write` records the table in BENCHMARKS.md between the GPU markers, naming the GPU.

    flock /tmp/softskills-ray.lock .venv/bin/python -m benchmarks.gpu_bench --clients 8 --requests 48 --write

Needs the project's virtual environment with CUDA builds of torch and CTranslate2, and either espeak-ng (to build
the clip) or `--video` pointing at a 60 s 720p clip built elsewhere by `python -m benchmarks.videos 60`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import yaml

from benchmarks.bench import REPO, Service, machine_name
from benchmarks.videos import bench_video

BEGIN, END = "<!-- gpu-bench:begin -->", "<!-- gpu-bench:end -->"


def gpu_name() -> str:
    out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                         capture_output=True, text=True, check=True).stdout.strip().splitlines()
    return f"{len(out)} x {out[0]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="serve_config.yaml")
    parser.add_argument("--video", type=Path, help="a 60 s 720p clip (default: build it)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=48)
    parser.add_argument("--write", action="store_true", help="record the result in BENCHMARKS.md")
    args = parser.parse_args()
    gpu = gpu_name()
    video = args.video or bench_video(60)
    config = yaml.safe_load((REPO / args.config).read_text())
    # One key plays every client, so all its uploads may stream in at once.
    config["applications"][0]["args"]["ingress"]["max_uploads_per_owner"] = args.clients
    with Service(config, REPO) as service:
        service.post(video)
        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            latencies_s = np.array(list(pool.map(lambda _: service.post(video), range(args.requests))))
        wall_s = time.perf_counter() - started
    rate = args.requests / wall_s * 60
    p50, p95 = np.percentile(latencies_s, [50, 95])
    table = (f"{BEGIN}\nMachine: {gpu}; {machine_name()}. Config: `{args.config}`. Command: `python -m "
             f"benchmarks.gpu_bench --clients {args.clients} --requests {args.requests} --write`.\n\n"
             "| clients | requests | videos per minute (60 s 720p) | p50 latency (s) | p95 latency (s) |\n"
             "|---|---|---|---|---|\n"
             f"| {args.clients} | {args.requests} | {rate:.1f} | {p50:.2f} | {p95:.2f} |\n{END}")
    print(table)
    if args.write:
        doc = REPO / "BENCHMARKS.md"
        text = doc.read_text()
        start, end = text.index(BEGIN), text.index(END) + len(END)
        doc.write_text(text[:start] + table + text[end:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
