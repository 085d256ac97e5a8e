"""`make bench`: each stage alone, then the whole request through the running service, on the same videos.

Stages run one after another in this process, with the thread settings of serve_config.cpu.yaml (speech-to-text
on one thread, the engine on one torch thread): decode/split, voice analysis, language identification,
speech-to-text, speakers, landmarks, pose, measurements, interpretation. Then `serve run` starts the CPU config on a
free port, one warm-up request is sent, and every video is posted to /api/v1/full-analysis. Printed: per-stage wall
and CPU seconds, end-to-end seconds, the ratio end-to-end / sum of stages, videos per minute under 1, 2 and 4
concurrent clients, the peak resident memory of every process (the speech replica holds both Whisper models), what
a non-English request costs (the same talk in Spanish against English, language identified or named), and
(--replicas) the latency of one long video with 1, 2 and 4 replicas of each model deployment.

    flock /tmp/softskills-ray.lock .venv/bin/python -m benchmarks.bench --videos 30 60 600 --replicas 1 2 4 \
        --baseline-app-dir /tmp/softskills-head     # after: git archive HEAD | tar -x -C /tmp/softskills-head
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
import psutil
import yaml

from benchmarks.videos import bench_video
from softskills.models.speech.weights import MODELS
from testkit.service_runner import free_port

REPO = Path(__file__).resolve().parent.parent
CONTEXT_PHRASE = "quarterly team review"
SHARED_MEMORY = "object store (/dev/shm in use)"


@dataclass
class StageTime:
    wall_s: float
    cpu_s: float


@dataclass
class VideoResult:
    duration_s: int
    stages: dict[str, StageTime] = field(default_factory=dict)
    end_to_end_s: float | None = None
    frames: dict[str, int] = field(default_factory=dict)
    runtimes: dict[tuple[str, str], tuple[StageTime, int]] = field(default_factory=dict)  # (stage, runtime)

    def cpu_s_per_frame(self, stage: str, runtime: str) -> float:
        spent, frames = self.runtimes[(stage, runtime)]
        return spent.cpu_s / max(frames, 1)

    @property
    def stages_wall_s(self) -> float:
        return sum(s.wall_s for s in self.stages.values())


class _Timer:
    """Wall and process CPU seconds (all threads, so PyAV's and ONNX's worker threads count)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.result = StageTime(time.perf_counter() - self.wall, time.process_time() - self.cpu)


def machine_name() -> str:
    """CPU model, family and vector extensions, logical CPUs and memory. Virtual machines often report only
    "AMD EPYC", and the same code ran speech-to-text 3x slower on one such machine than on another."""
    info = {}
    for line in open("/proc/cpuinfo"):
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    flags = info.get("flags", "").split()
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    cpu = f"{info.get('model name', platform.processor())} (family {info.get('cpu family', '?')}, {vector})"
    return f"{cpu}, {os.cpu_count()} logical CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"


def time_stages(path: Path, result: VideoResult, models: dict, opts) -> None:
    """Each stage alone, on this video, in the order the service needs them."""
    from softskills.models.interpretation.feedback import SENTENCE_LANGUAGE
    from softskills.models.interpretation.model import interpret
    from softskills.models.measurements import measure
    from softskills.models.media.decode import VideoFrames, decode_audio, media_info
    from softskills.models.signals import measure_signals
    from softskills.models.speech.segments import merge_transcripts, split_at_silences
    from softskills.models.speech.speakers import diarize
    from softskills.models.speech.spoken_language import detected_languages
    from softskills.models.speech.voice import analyze_voice

    with _Timer() as t:
        audio = decode_audio(str(path), max_duration_s=opts.max_duration_s, max_decode_s=opts.max_decode_s)
        video = VideoFrames(
            str(path),
            frame_rate_hz=opts.frame_rate_hz,
            max_side_px=opts.max_side_px,
            chunk_s=opts.face_chunk_s,
            max_duration_s=opts.max_duration_s,
            max_decode_s=opts.max_decode_s,
        )
        chunks = list(video)
        info = media_info(audio, video)
    result.stages["decode/split"] = t.result
    with _Timer() as t:
        voice = analyze_voice(audio.audio, audio.sample_rate)
    result.stages["voice analysis"] = t.result
    with _Timer() as t:
        languages = detected_languages(
            models["stt"].identify_language(audio.audio, voice.speech_segments), SENTENCE_LANGUAGE
        )
    result.stages["language ID"] = t.result
    with _Timer() as t:
        ranges = split_at_silences(audio.audio, audio.sample_rate, opts.speech_segment_s)
        language = languages.transcription_language
        parts = [(a / audio.sample_rate, models["stt"].transcribe(audio.audio[a:b], language)) for a, b in ranges]
        transcript = parts[0][1] if len(parts) == 1 else merge_transcripts(parts)
    result.stages["speech-to-text"] = t.result
    with _Timer() as t:
        diarization = diarize(audio.audio, voice.speech_segments, models["voices"])
    result.stages["speakers"] = t.result
    with _Timer() as t:
        tracks = [models["face"].landmarks(c.frames, c.frame_times_s) for c in chunks]
    result.stages["landmarks"] = t.result
    result.frames["landmarks"] = sum(len(c.frame_times_s) for c in chunks)
    with _Timer() as t:
        poses = []
        if opts.pose_frame_rate_hz > 0:
            times = np.concatenate([c.frame_times_s for c in chunks])
            keep = np.flatnonzero(np.diff(np.floor(times * opts.pose_frame_rate_hz + 1e-6), prepend=-1) > 0)
            frames = np.concatenate([c.frames for c in chunks])
            poses = [models["pose"].landmarks(frames[keep], times[keep])]
            del frames
    result.stages["pose"] = t.result
    result.frames["pose"] = len(keep) if opts.pose_frame_rate_hz > 0 else 0
    time_landmark_runtimes(chunks, result, models, opts)
    del chunks
    with _Timer() as t:
        signals = measure_signals(
            info,
            voice=voice,
            transcript=transcript,
            provided_transcript=None,
            face_chunks=tracks,
            client_track=None,
            window_s=opts.time_series_window_s,
            pose_chunks=poses,
            diarization=diarization,
            languages=languages,
        )
        measurements = measure(signals, window_s=opts.time_series_window_s, context_phrase=CONTEXT_PHRASE)
    result.stages["measure"] = t.result
    with _Timer() as t:
        interpret(measurements, models["encoder"].embed)
    result.stages["interpretation"] = t.result


def time_landmark_runtimes(chunks: list, result: VideoResult, models: dict, opts) -> None:
    """Face and pose on both landmark runtimes (`face.runtime`), each on the same frames: the face at the face
    rate, the pose at the GPU config's 8 frames a second (every frame when the face rate is lower), so CPU seconds
    per frame compare MediaPipe's graphs with the converted models batched across this video's chunks."""
    times = np.concatenate([c.frame_times_s for c in chunks])
    frames = np.concatenate([c.frames for c in chunks])
    keep = np.flatnonzero(np.diff(np.floor(times * min(8.0, opts.frame_rate_hz) + 1e-6), prepend=-1) > 0)
    bounds = np.searchsorted(times[keep], [c.frame_times_s[0] for c in chunks[1:]])
    pose_chunks = [(frames[k], times[k]) for k in np.split(keep, bounds)]
    for runtime, face, pose in (
        ("mediapipe", models["face_mediapipe"], models["pose_mediapipe"]),
        ("onnx", models["face_onnx"], models["pose_onnx"]),
    ):
        with _Timer() as t:
            if runtime == "onnx":
                face.landmarks_many([(c.frames, c.frame_times_s) for c in chunks])
            else:
                for c in chunks:
                    face.landmarks(c.frames, c.frame_times_s)
        result.runtimes[("face", runtime)] = (t.result, len(times))
        with _Timer() as t:
            if runtime == "onnx":
                pose.landmarks_many(pose_chunks)
            else:
                for chunk_frames, chunk_times in pose_chunks:
                    pose.landmarks(chunk_frames, chunk_times)
        result.runtimes[("pose", runtime)] = (t.result, len(keep))


def print_landmark_runtimes(results: dict[int, VideoResult]) -> None:
    """CPU seconds per frame of both landmark runtimes, and what a 60 s video's landmarks cost at the CPU config's
    rates (face 8, pose 1 frame a second) and the GPU config's (8 and 8), all on this CPU."""
    print(
        "\n| video | face CPU s / frame (MediaPipe / onnx batched) | pose CPU s / frame (MediaPipe / onnx batched) "
        "| 60 s video, CPU config rates, CPU s (MediaPipe / onnx) | 60 s video, GPU config rates, CPU s "
        "(MediaPipe / onnx) |"
    )
    print("|---|---|---|---|---|")
    for d, r in results.items():
        per_frame = {
            (stage, runtime): r.cpu_s_per_frame(stage, runtime)
            for stage in ("face", "pose")
            for runtime in ("mediapipe", "onnx")
        }
        cost = {
            (rates, runtime): 60 * (8 * per_frame[("face", runtime)] + pose_rate * per_frame[("pose", runtime)])
            for rates, pose_rate in (("cpu", 1), ("gpu", 8))
            for runtime in ("mediapipe", "onnx")
        }
        print(
            f"| {d} s 720p | {per_frame[('face', 'mediapipe')]:.4f} / {per_frame[('face', 'onnx')]:.4f} | "
            f"{per_frame[('pose', 'mediapipe')]:.4f} / {per_frame[('pose', 'onnx')]:.4f} | "
            f"{cost[('cpu', 'mediapipe')]:.1f} / {cost[('cpu', 'onnx')]:.1f} | "
            f"{cost[('gpu', 'mediapipe')]:.1f} / {cost[('gpu', 'onnx')]:.1f} |"
        )


def load_models(config: dict) -> dict:
    from softskills.config.options import AppArgs
    from softskills.models.body.pose import BatchedPoseLandmarker, PoseLandmarker
    from softskills.models.face.landmarks import FaceLandmarker
    from softskills.models.face.mesh_network import BatchedFaceLandmarker
    from softskills.models.interpretation.engine import SentenceEncoder
    from softskills.models.speech.speakers import VoiceEncoder
    from softskills.models.speech.transcribe import SpeechToText

    args = AppArgs(**config["applications"][0]["args"])
    confidences = (args.face.min_detection_confidence, args.face.min_tracking_confidence)
    landmarkers = {
        "face_mediapipe": FaceLandmarker(*confidences),
        "pose_mediapipe": PoseLandmarker(*confidences),
        "face_onnx": BatchedFaceLandmarker(*confidences, device="cpu", cpu_threads=args.face.cpu_threads),
        "pose_onnx": BatchedPoseLandmarker(*confidences, device="cpu", cpu_threads=args.face.cpu_threads),
    }
    return {
        "stt": SpeechToText(**args.speech.model_dump()),
        "face": landmarkers[f"face_{args.face.runtime}"],
        "pose": landmarkers[f"pose_{args.face.runtime}"],
        **landmarkers,
        "voices": VoiceEncoder(),
        "encoder": SentenceEncoder(model_dir=args.engine.model_dir, device=args.engine.device),
        "analysis": args.analysis,
    }


def load_config(app_dir: Path, args: argparse.Namespace) -> dict:
    """The checkout's own config (a baseline's names its own import path and options), with the options asked for."""
    config = yaml.safe_load((app_dir / args.config).read_text())
    app_args = config["applications"][0]["args"]
    if args.speech_model:
        app_args.setdefault("speech", {})["model"] = args.speech_model
    section = "ingress" if "ingress" in app_args else "analysis"  # a baseline's config may predate the sections
    for option, value in (("frame_rate_hz", args.frame_rate), ("pose_frame_rate_hz", args.pose_frame_rate)):
        if value is not None:
            app_args.setdefault(section, {})[option] = value
    return config


class Service:
    """`serve run` of a config on a free port, with a throwaway key store; stopped (its process group) on exit."""

    def __init__(self, config: dict, app_dir: Path, replicas: int | None = None):
        self.config, self.app_dir, self.replicas = json.loads(json.dumps(config)), app_dir, replicas

    def __enter__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="softskills-bench-")
        port = free_port()
        self.config["http_options"]["port"] = port
        if self.replicas is not None:
            for d in self.config["applications"][0]["deployments"]:
                if d["name"] != "Ingress":  # N replicas of each model; logical CPUs shared so all fit on 2 cores
                    d["num_replicas"] = self.replicas
                    d.setdefault("ray_actor_options", {})["num_cpus"] = round(1.4 / 3 / self.replicas, 3)
        config_path = Path(self.tmp.name) / "serve_config.yaml"
        config_path.write_text(yaml.safe_dump(self.config))
        env = {
            **os.environ,
            "SOFTSKILLS_DATA_DIR": self.tmp.name,
            "HF_HUB_OFFLINE": "1",
            "SOFTSKILLS_KEY_PEPPER": "benchmark-pepper-0123456789abcdef0123",
            "RAY_USAGE_STATS_ENABLED": "0",
        }
        if self.app_dir.resolve() != REPO:
            # `softskills` is this checkout's editable install, found after sys.path: a package root on PYTHONPATH
            # makes every process of the service (Ray workers inherit it) import the baseline's code instead.
            root = Path(self.tmp.name) / "import-root"
            root.mkdir()
            (root / "softskills").symlink_to(self.app_dir.resolve(), target_is_directory=True)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(root), os.environ.get("PYTHONPATH"))))
        self.log = open(Path(self.tmp.name) / "serve.log", "w")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "serve"), "run", str(config_path), "--app-dir", str(self.app_dir)],
            env=env,
            cwd=self.app_dir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 600
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(Path(self.log.name).read_text()[-4000:])
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(2)
        os.environ["SOFTSKILLS_KEY_PEPPER"] = env["SOFTSKILLS_KEY_PEPPER"]
        from softskills.auth.store import KeyStore

        self.key = KeyStore(f"sqlite:///{self.tmp.name}/softskills.db").create_key("bench", "bench", timedelta(days=1))[
            0
        ]
        self.peaks_mib: dict[str, float] = {}
        self._stop_sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample_memory, daemon=True)
        self._sampler.start()
        return self

    def _ray_processes(self) -> dict[str, psutil.Process]:
        """The Serve processes (ray::ServeReplica:…, the proxy, the controller) by name."""
        try:
            procs = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return {}
        named = {}
        for p in procs:
            try:
                cmd = p.cmdline()
            except psutil.Error:
                continue
            if cmd and cmd[0].startswith("ray::"):
                named[cmd[0].removeprefix("ray::").split(".")[0]] = p
        return named

    def _sample_memory(self) -> None:
        """Peak RSS per Serve process, and the shared memory in use (Ray's object store lives in /dev/shm: the
        frame chunks in flight), above what was in use when the service came up; sampled every 0.2 s."""
        shm_at_start = psutil.disk_usage("/dev/shm").used
        while not self._stop_sampling.wait(0.2):
            for name, p in self._ray_processes().items():
                try:
                    self.peaks_mib[name] = max(self.peaks_mib.get(name, 0.0), p.memory_info().rss / 2**20)
                except psutil.Error:
                    pass
            shm_mib = (psutil.disk_usage("/dev/shm").used - shm_at_start) / 2**20
            self.peaks_mib[SHARED_MEMORY] = max(self.peaks_mib.get(SHARED_MEMORY, 0.0), shm_mib)

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU seconds used so far by each Serve process."""
        out = {}
        for name, p in self._ray_processes().items():
            try:
                times = p.cpu_times()
            except psutil.Error:
                continue
            out[name] = times.user + times.system
        return out

    def post(self, path: Path, **fields) -> float:
        started = time.perf_counter()
        with open(path, "rb") as f:
            response = httpx.post(
                f"{self.base_url}/api/v1/full-analysis",
                timeout=1800,
                headers={"Authorization": f"Bearer {self.key}"},
                files={"video": (path.name, f, "video/mp4")},
                data={"context_phrase": CONTEXT_PHRASE, **fields},
            )
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.text[:500]}")
        return time.perf_counter() - started

    def language_costs(self, english: Path, spanish: Path) -> dict[str, tuple[float, float]]:
        """(end-to-end s, speech replica CPU s) of the same talk in English and in Spanish, the language identified
        (auto) or named by the client."""
        costs = {}
        for label, path, fields in (
            ("English, auto", english, {}),
            ("English, language=en", english, {"language": "en"}),
            ("Spanish, auto", spanish, {}),
            ("Spanish, language=es", spanish, {"language": "es"}),
        ):
            before = self.cpu_seconds()
            seconds = self.post(path, **fields)
            speech = sum(v - before.get(k, 0.0) for k, v in self.cpu_seconds().items() if "SpeechToText" in k)
            costs[label] = (seconds, speech)
        return costs

    def throughput(self, path: Path, clients: int, per_client: int) -> float:
        """Videos per minute with `clients` clients each posting `per_client` videos back to back."""
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda _: [self.post(path) for _ in range(per_client)], range(clients)))
        return clients * per_client / (time.perf_counter() - started) * 60

    def __exit__(self, *exc):
        self._stop_sampling.set()
        self._sampler.join()
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()
        self.tmp.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, nargs="+", default=[30, 60, 600], help="clip lengths in seconds")
    parser.add_argument("--throughput-video", type=int, default=30, help="clip used for the concurrency runs")
    parser.add_argument("--clients", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--per-client", type=int, default=2, help="videos each client posts")
    parser.add_argument("--replicas", type=int, nargs="*", default=[], help="e.g. 1 2 4 (long video, restarts)")
    parser.add_argument("--replicas-video", type=int, default=600)
    parser.add_argument("--config", default="serve_config.cpu.yaml")
    parser.add_argument(
        "--baseline-app-dir",
        help="another checkout (e.g. `git archive HEAD`), measured end to end "
        "in the same run for a before/after comparison",
    )
    parser.add_argument("--skip-stages", action="store_true")
    parser.add_argument("--speech-model", choices=MODELS, help="packaged Whisper model (speech.model) to run")
    parser.add_argument(
        "--frame-rate", type=float, help="analysis.frame_rate_hz (face frames per second; 15 scores blinks)"
    )
    parser.add_argument("--pose-frame-rate", type=float, help="analysis.pose_frame_rate_hz (0: body language off)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    config = load_config(REPO, args)
    paths = {d: bench_video(d) for d in {*args.videos, args.throughput_video}}
    if args.replicas:
        paths[args.replicas_video] = bench_video(args.replicas_video)
    results = {d: VideoResult(d) for d in args.videos}
    print(f"machine: {machine_name()}; load average before: {os.getloadavg()[0]:.2f}", flush=True)

    if not args.skip_stages:
        models = load_models(config)
        time_stages(paths[min(paths)], VideoResult(0), models, models["analysis"])  # warm-up: numba JIT, lazy init
        for d in args.videos:
            time_stages(paths[d], results[d], models, models["analysis"])
            print(
                f"{d} s stages: "
                + ", ".join(f"{k} {v.wall_s:.2f}/{v.cpu_s:.2f}" for k, v in results[d].stages.items()),
                flush=True,
            )
        del models
        stage_peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def measure_service(app_dir: Path, label: str) -> tuple[dict[int, float], dict[int, float], dict[str, float]]:
        with Service(load_config(app_dir, args), app_dir) as service:
            service.post(paths[min(paths)])  # warm-up: first calls load lazy state in every replica
            if app_dir == REPO:
                spanish = bench_video(args.throughput_video, "es")
                service.post(spanish)  # warm-up of the multilingual model's decoding
                language_costs.update(service.language_costs(paths[args.throughput_video], spanish))
                print(f"{label}: language costs (end to end s, speech CPU s): {language_costs}", flush=True)
            latency = {}
            for d in args.videos:
                before = service.cpu_seconds()
                latency[d] = service.post(paths[d])
                used = {k: v - before.get(k, 0.0) for k, v in service.cpu_seconds().items()}
                print(
                    f"{label}: {d} s end to end: {latency[d]:.2f} s; CPU s by process: "
                    + ", ".join(
                        f"{k.removeprefix('ServeReplica:softskills:')} {v:.2f}"
                        for k, v in sorted(used.items(), key=lambda kv: -kv[1])
                        if v >= 0.05
                    )
                    + f" (total {sum(used.values()):.2f})",
                    flush=True,
                )
            rates = {c: service.throughput(paths[args.throughput_video], c, args.per_client) for c in args.clients}
            print(f"{label}: videos per minute by clients: {rates}", flush=True)
            return latency, rates, dict(service.peaks_mib)

    language_costs: dict[str, tuple[float, float]] = {}
    latency, rates, peaks = measure_service(REPO, "this checkout")
    for d in args.videos:
        results[d].end_to_end_s = latency[d]
    if args.baseline_app_dir:
        base_latency, base_rates, base_peaks = measure_service(Path(args.baseline_app_dir), "baseline")

    replica_latency = {}
    for n in args.replicas:
        with Service(config, REPO, replicas=n) as service:
            service.post(paths[min(paths)])
            replica_latency[n] = service.post(paths[args.replicas_video])
            print(f"{n} replicas: {args.replicas_video} s video in {replica_latency[n]:.1f} s", flush=True)

    print(f"\n## Results ({machine_name()}; load average after: {os.getloadavg()[0]:.2f})\n")
    if not args.skip_stages:
        stage_names = list(next(iter(results.values())).stages)
        print(
            "| video | "
            + " | ".join(f"{s} (wall / CPU s)" for s in stage_names)
            + " | sum of stages (s) | end to end (s) | end to end / sum |"
        )
        print("|---" * (len(stage_names) + 4) + "|")
        for d, r in results.items():
            print(
                f"| {d} s 720p | "
                + " | ".join(f"{v.wall_s:.2f} / {v.cpu_s:.2f}" for v in r.stages.values())
                + f" | {r.stages_wall_s:.2f} | {r.end_to_end_s:.2f} | {r.end_to_end_s / r.stages_wall_s:.2f} |"
            )
    base = args.baseline_app_dir is not None
    if not args.skip_stages:
        print_landmark_runtimes(results)
    print(
        "\n| video | end to end (s)"
        + (" | baseline end to end (s) |" if base else " |")
        + "\n|---|---|"
        + ("---|" if base else "")
    )
    for d, r in results.items():
        print(f"| {d} s 720p | {r.end_to_end_s:.2f} |" + (f" {base_latency[d]:.2f} |" if base else ""))
    print(
        f"\n| concurrent clients | videos per minute ({args.throughput_video} s clips, full-analysis)"
        + (" | baseline |" if base else " |")
        + "\n|---|---|"
        + ("---|" if base else "")
    )
    for c, rate in rates.items():
        print(f"| {c} | {rate:.2f} |" + (f" {base_rates[c]:.2f} |" if base else ""))
    print(
        "\n| process | peak RSS (MiB)" + (" | baseline |" if base else " |") + "\n|---|---|" + ("---|" if base else "")
    )
    if not args.skip_stages:
        print(f"| benchmark process running every stage alone | {stage_peak_mib:.0f} |" + (" – |" if base else ""))
    for name in sorted(set(peaks) | (set(base_peaks) if base else set())):
        print(f"| {name} | {peaks.get(name, 0):.0f} |" + (f" {base_peaks.get(name, 0):.0f} |" if base else ""))
    print(
        f"\n| {args.throughput_video} s talk, full-analysis | end to end (s) | speech replica CPU (s) |\n|---|---|---|"
    )
    for label, (seconds, cpu) in language_costs.items():
        print(f"| {label} | {seconds:.2f} | {cpu:.2f} |")
    if replica_latency:
        print(f"\n| replicas of each model deployment | {args.replicas_video} s video, end to end (s) |\n|---|---|")
        for n, s in replica_latency.items():
            print(f"| {n} | {s:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
