"""GPU throughput and latency with serve_config.yaml, for a session that has a GPU (see docs/benchmarks.md, "GPU").

First the clip is decoded as the service decodes it, once with `analysis.video_decoder: auto` (the GPU's NVDEC
where PyAV opens a CUDA device) and once on the CPU: it prints which decoder `auto` used, the wall and CPU seconds
of each, and whether the two give the same sampled times, sizes and pixels. Then the landmark networks alone
(`face.runtime: onnx` on the GPU) on those frames, `--landmark-chunks` 10 s chunks (copies of the clip's) tracked
together as concurrent requests' chunks are, face at 8 and pose at 8 frames a second; prints face and pose landmark
frames per second and the videos per minute the landmark stage alone would sustain (`--landmarks-only` stops
there). Then it starts `serve run serve_config.yaml` on a free port, sends one warm-up request, posts `--requests`
60 s 720p videos to /api/v1/full-analysis from `--clients` concurrent clients and prints videos per minute and
p50/p95 latency; `--write` records the tables in docs/benchmarks.md between the GPU markers, naming the GPU.

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
    out = (
        subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()
    )
    return f"{len(out)} x {out[0]}"


def decode_comparison(video: Path) -> tuple[str, list]:
    """(table, chunks decoded with video_decoder auto): which decoder auto used, its cost beside the CPU's, and
    whether both decoders give the same frames."""
    from softskills.models.media.decode import VideoFrames

    runs = {}
    for requested in ("auto", "cpu"):
        frames = VideoFrames(str(video), frame_rate_hz=8.0, max_side_px=640, chunk_s=10.0, video_decoder=requested)
        started, cpu = time.perf_counter(), time.process_time()
        chunks = list(frames)
        runs[requested] = (frames.decoder, chunks, time.perf_counter() - started, time.process_time() - cpu)
    (decoder, auto, *_), (_, cpu_chunks, *_) = runs["auto"], runs["cpu"]
    same_times = np.array_equal(
        np.concatenate([c.frame_times_s for c in auto]), np.concatenate([c.frame_times_s for c in cpu_chunks])
    )
    same_sizes = [c.frames.shape for c in auto] == [c.frames.shape for c in cpu_chunks]
    difference = (
        np.abs(
            np.concatenate([c.frames for c in auto]).astype(np.int16) - np.concatenate([c.frames for c in cpu_chunks])
        )
        if same_sizes
        else None
    )
    pixels = f"{difference.max()} / {difference.mean():.3f}" if difference is not None else "sizes differ"
    rows = [
        f"| {requested} → {used} | {sum(len(c.frame_times_s) for c in chunks)} | {wall_s:.2f} | {cpu_s:.2f} |"
        for requested, (used, chunks, wall_s, cpu_s) in runs.items()
    ]
    table = (
        "| video_decoder → decoder used | sampled frames | wall s | CPU s |\n|---|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\nDecoder `{decoder}` against the CPU's: same sampled times {same_times}, same "
        f"sizes {same_sizes}, RGB difference max / mean {pixels} (of 255).\n"
    )
    return table, auto


def landmark_throughput(decoded: list, chunks: int, device: str = "cuda") -> tuple[str, dict]:
    """(table rows, figures): face and pose frames per second on `device` with `chunks` chunks per batch, on the
    decoded chunks of the 60 s clip."""
    from softskills.models.body.pose import BatchedPoseLandmarker
    from softskills.models.face.mesh_network import BatchedFaceLandmarker

    batch = [(c.frames, c.frame_times_s) for c in (decoded * (chunks // len(decoded) + 1))[:chunks]]
    frames = sum(len(times) for _, times in batch)
    figures = {}
    rows = []
    for name, landmarker in (
        ("face", BatchedFaceLandmarker(device=device)),
        ("pose", BatchedPoseLandmarker(device=device)),
    ):
        landmarker.landmarks_many(batch[:1])  # warm-up: CUDA context, kernels
        started, cpu = time.perf_counter(), time.process_time()
        landmarker.landmarks_many(batch)
        wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        figures[name] = frames / wall_s
        rows.append(
            f"| {name} ({landmarker.device}) | {chunks} | {frames} | {frames / wall_s:.0f} | "
            f"{cpu_s / frames * 1000:.2f} |"
        )
    per_video = 480 / figures["face"] + 480 / figures["pose"]  # 60 s at 8 + 8 frames a second
    figures["videos_per_minute"] = 60 / per_video
    table = (
        "| network | chunks per batch | frames | landmark frames per second | host CPU ms per frame |\n"
        "|---|---|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\nLandmark stage alone: {figures['videos_per_minute']:.1f} videos (60 s, face and pose at 8 frames "
        "a second) per minute on one replica.\n"
    )
    return table, figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="serve_config.yaml")
    parser.add_argument("--video", type=Path, help="a 60 s 720p clip (default: build it)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=48)
    parser.add_argument("--write", action="store_true", help="record the result in docs/benchmarks.md")
    parser.add_argument("--landmark-chunks", type=int, default=32, help="10 s chunks tracked in one batch")
    parser.add_argument("--landmarks-only", action="store_true", help="measure the landmark networks only")
    args = parser.parse_args()
    gpu = gpu_name()
    video = args.video or bench_video(60)
    decode_table, decoded = decode_comparison(video)
    landmarks_table, _ = landmark_throughput(decoded, args.landmark_chunks)
    landmarks_table = f"{decode_table}\n{landmarks_table}"
    print(landmarks_table, flush=True)
    if args.landmarks_only:
        return 0
    config = yaml.safe_load((REPO / args.config).read_text())
    # One key plays every client, so all its uploads may stream in at once.
    config["applications"][0]["args"].setdefault("http", {})["max_uploads_per_owner"] = args.clients
    with Service(config, REPO) as service:
        service.post(video)
        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            latencies_s = np.array(list(pool.map(lambda _: service.post(video), range(args.requests))))
        wall_s = time.perf_counter() - started
    rate = args.requests / wall_s * 60
    p50, p95 = np.percentile(latencies_s, [50, 95])
    table = (
        f"{BEGIN}\nMachine: {gpu}; {machine_name()}. Config: `{args.config}`. Command: `python -m "
        f"benchmarks.gpu_bench --clients {args.clients} --requests {args.requests} --write`.\n\n"
        "| clients | requests | videos per minute (60 s 720p) | p50 latency (s) | p95 latency (s) |\n"
        "|---|---|---|---|---|\n"
        f"| {args.clients} | {args.requests} | {rate:.1f} | {p50:.2f} | {p95:.2f} |\n\n{landmarks_table}{END}"
    )
    print(table)
    if args.write:
        doc = REPO / "docs" / "benchmarks.md"
        text = doc.read_text()
        start, end = text.index(BEGIN), text.index(END) + len(END)
        doc.write_text(text[:start] + table + text[end:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
