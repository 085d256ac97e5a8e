"""Jobs without Ray: submissions (jobs/service.py) and deliveries (jobs/runner.py, jobs/sweeper.py) over the real
pipeline with in-process models, a local video store and an SQLite key store. The task queue is replaced by what
it hands the consumer, a job id: each test delivers the ids itself, as often as the broker could."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import time
from datetime import timedelta

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from softskills.api.errors import classify_failure
from softskills.api.responses import build_answer
from softskills.auth.store import KeyStore
from softskills.config.options import AnalysisOptions, SubjectOptions
from softskills.jobs.errors import (
    IdempotencyKeyReused,
    JobQueueUnavailable,
    JobUploadRefused,
    TooManyActiveJobs,
    WebhookSecretMissing,
    WebhookUrlRefused,
)
from softskills.jobs.runner import JobRequest, JobRunner, Outcome, RunOptions
from softskills.jobs.service import JobService, Submission
from softskills.jobs.store import JobStore
from softskills.jobs.sweeper import Sweeper
from softskills.jobs.webhooks import SecretBox, WebhookSecrets
from softskills.models.errors import AnalysisError, UnsupportedMediaType
from softskills.models.pipeline import AnalysisInput, Pipeline, local_stages
from softskills.storage.factory import VideoStorage
from softskills.storage.local import LocalVideoStore
from softskills.storage.quota import VideoLedger, VideoQuota
from softskills.subjects.errors import TooManySubjects
from softskills.subjects.service import SubjectSessions
from softskills.subjects.store import SubjectLimits, SubjectStore
from testkit.videos import BECKETT_WAV, load_audio, make_audio_only_file
from tests.auth_support import TEST_PEPPER, clean_auth_env  # noqa: F401

MB = 1024 * 1024
RETENTION = timedelta(days=30)


@pytest.fixture(scope="module")
def models():
    from softskills.models.face.landmarks import FaceLandmarker
    from softskills.models.interpretation.engine import SentenceEncoder
    from softskills.models.speech.transcribe import SpeechToText

    return {"stt": SpeechToText(), "face": FaceLandmarker(), "encoder": SentenceEncoder(device="cpu")}


class Jobs:
    """A service, a runner and a sweeper on one store, as the ingress and a consumer replica hold them."""

    def __init__(
        self,
        tmp_path,
        models,
        *,
        quota_bytes=200 * MB,
        lease_s=60.0,
        heartbeat_s=5.0,
        max_attempts=3,
        speech_timeout_s=600.0,
        max_active=10,
        max_subjects=2,
        **stages,
    ):
        url = f"sqlite:///{tmp_path / 'store.db'}"
        KeyStore(url, pepper=TEST_PEPPER)
        self.store = JobStore(url)
        store = LocalVideoStore(tmp_path / "videos", b"k" * 32, 3600)
        self.videos = VideoStorage(
            store, VideoLedger(url, VideoQuota(quota_bytes, 10 * quota_bytes, 0), 3600), None, purge_interval_s=3600
        )
        self.queue: list[str] = []
        self.notified: list[str] = []
        self.secrets = WebhookSecrets(url, SecretBox(TEST_PEPPER))
        self.subjects = SubjectStore(url)
        self.service = JobService(
            self.store,
            self.videos,
            self.secrets,
            self.queue.append,
            max_active,
            3600,
            timedelta(days=1),
            RETENTION,
            timedelta(0),
            ("127.0.0.1/32",),
            10,
            self.subjects,
            max_subjects,
        )
        options = AnalysisOptions(speech_timeout_s=speech_timeout_s).pipeline_options()
        base = local_stages(models["stt"], models["face"], models["encoder"])
        self.pipeline = Pipeline(dataclasses.replace(base, **stages), options)
        lease = timedelta(seconds=lease_s)

        async def notify(job):
            self.notified.append(job.id)

        self.runner = JobRunner(
            self.store,
            self.pipeline,
            self.videos,
            answer=lambda analysis, r: build_answer(analysis, r.analysis == "full-analysis", r.session_id),
            classify=classify_failure,
            notify=notify,
            options=RunOptions(max_attempts, 600, heartbeat_s, lease, RETENTION),
            subjects=SubjectSessions(self.subjects, SubjectOptions()),
        )
        self.sweeper = Sweeper(
            self.store,
            self.videos,
            self.queue.append,
            lambda job_id, attempt: None,
            lease,
            timedelta(minutes=30),
            timedelta(hours=1),
            RETENTION,
        )

    def submit(self, path, analysis="analyze-video", owner="alice", analysis_input=AnalysisInput(), **kwargs):
        with open(path, "rb") as upload:
            job, replayed = self.service.submit(
                Submission(owner, upload, JobRequest(analysis, analysis_input, "s-1"), "http://api/", **kwargs)
            )
        return job, replayed

    def deliver(self, job_id):
        return asyncio.run(self.runner.run(job_id))


def direct_answer(pipeline, path, full=False):
    async def go():
        with open(path, "rb") as upload:
            return build_answer(await pipeline.analyze(upload, AnalysisInput()), full, "s-1").body

    return asyncio.run(go())


def test_a_job_answers_what_the_synchronous_endpoint_answers(tmp_path, models, talking_head):
    jobs = Jobs(tmp_path, models)
    job, replayed = jobs.submit(talking_head.path)
    assert not replayed and jobs.queue == [job.id] and job.status == "queued"
    assert jobs.videos.ledger.usage_bytes("alice") == os.path.getsize(talking_head.path)  # counted while queued
    assert jobs.deliver(job.id) == (Outcome.FINISHED, None)
    done = jobs.store.get("alice", job.id)
    assert done.status == "succeeded" and done.attempts == 1 and jobs.notified == [job.id]
    assert done.result == direct_answer(jobs.pipeline, talking_head.path)
    assert done.result["speaking_pace_wpm"] == pytest.approx(talking_head.pace_wpm, rel=0.15)
    assert done.overall_score == done.result["overall_score"]
    assert jobs.videos.ledger.usage_bytes("alice") == 0 and not list((tmp_path / "videos").glob("*.mp4"))
    assert jobs.deliver(job.id) == (Outcome.SKIPPED, None)  # a redelivered message: nothing runs twice


def test_a_job_with_a_subject_keeps_its_session_when_it_succeeds(tmp_path, models, talking_head):
    """As the synchronous endpoints: judged against the subject's earlier sessions (none yet), then kept under the
    owner's subject; a job without a subject keeps nothing, and a subject one too many is refused at submission."""
    jobs = Jobs(tmp_path, models)
    job, _ = jobs.submit(talking_head.path, analysis_input=AnalysisInput(subject="ana"))
    plain, _ = jobs.submit(talking_head.path)
    assert jobs.deliver(job.id) == jobs.deliver(plain.id) == (Outcome.FINISHED, None)
    progress = jobs.store.get("alice", job.id).result["progress"]
    assert (progress["earlier_sessions"], progress["sessions_needed"]) == (0, 3)
    assert jobs.store.get("alice", plain.id).result["progress"] is None
    (kept,), more = jobs.subjects.sessions("alice", "ana", 10)
    assert not more and kept.source == "job" and kept.transcript is None
    answered = jobs.store.get("alice", job.id).result["speaking_pace_wpm"]  # the answer rounds to 3 decimals
    assert kept.metrics["pace_wpm"] == pytest.approx(answered, abs=1e-3)
    assert jobs.subjects.subjects("alice", 10)[0][0].sessions == 1 and jobs.subjects.subjects("bob", 10) == ([], False)
    jobs.subjects.add(
        "alice",
        "ben",
        kept.record(),
        params_version="2.4",
        source="api",
        transcript=None,
        limits=SubjectLimits(max_subjects=2, max_sessions=10, retention=RETENTION),
    )
    with pytest.raises(TooManySubjects, match="2 subjects"):
        jobs.submit(talking_head.path, analysis_input=AnalysisInput(subject="carl"))


def test_a_server_error_is_retried_then_fails_with_the_reason(tmp_path, models, talking_head):
    async def stuck_transcribe(audio, language):
        await asyncio.sleep(30)

    jobs = Jobs(tmp_path, models, speech_timeout_s=0.5, transcribe=stuck_transcribe)
    # The language named, so that the transcription is what times out (identifying it takes longer than 0.5 s).
    job, _ = jobs.submit(talking_head.path, analysis_input=AnalysisInput(language="en"))
    first, second = jobs.deliver(job.id), jobs.deliver(job.id)
    assert first == second == (Outcome.RETRY, "Analysis timed out (speech-to-text). Try a shorter video.")
    waiting = jobs.store.get("alice", job.id)
    assert (waiting.status, waiting.attempts, waiting.error_status) == ("queued", 2, 504)
    assert jobs.deliver(job.id) == (Outcome.FINISHED, None)
    failed = jobs.store.get("alice", job.id)
    assert (failed.status, failed.attempts, failed.error_status) == ("failed", 3, 504)
    assert failed.error_detail == "Analysis timed out (speech-to-text). Try a shorter video."
    assert jobs.notified == [job.id] and jobs.store.take_upload(job.id) is None


def test_a_video_that_does_not_decode_fails_at_once(tmp_path, models, talking_head):
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(open(talking_head.path, "rb").read(8000))
    jobs = Jobs(tmp_path, models)
    job, _ = jobs.submit(truncated)
    assert jobs.deliver(job.id) == (Outcome.FINISHED, None)
    failed = jobs.store.get("alice", job.id)
    assert (failed.status, failed.attempts, failed.error_status) == ("failed", 1, 422)


def test_client_samples_for_a_file_without_video_fail_the_job_at_once(tmp_path, models):
    """It was a 500 from a ValueError, retried max_attempts times."""
    voice = tmp_path / "voice.m4a"
    make_audio_only_file(voice, load_audio(BECKETT_WAV)[: 16000 * 4])
    jobs = Jobs(tmp_path, models)
    job, _ = jobs.submit(voice, analysis_input=AnalysisInput(mediapipe_samples='[{"t": 0, "landmarks": []}]'))
    assert jobs.deliver(job.id) == (Outcome.FINISHED, None)
    failed = jobs.store.get("alice", job.id)
    assert (failed.status, failed.attempts, failed.error_status) == ("failed", 1, 422)
    assert failed.error_detail.startswith("mediapipeSamples were sent with a file that has no video track")
    assert jobs.notified == [job.id] and jobs.store.take_upload(job.id) is None


def client_errors(base=AnalysisError) -> list[type[AnalysisError]]:
    """Every error the analysis raises about the client's input (models/errors.py), however deep."""
    return [cls for sub in base.__subclasses__() for cls in (sub, *client_errors(sub))]


@pytest.mark.parametrize("error", client_errors(), ids=lambda cls: cls.__name__)
def test_a_failure_of_the_clients_input_is_never_retried(tmp_path, models, talking_head, error):
    """Whatever the stage that finds it: a client error fails the job on its first attempt with the status and
    detail the synchronous endpoint answers."""

    async def refuse(*audio):
        raise error("what is wrong with the upload")

    jobs = Jobs(tmp_path, models, analyze_voice=refuse, transcribe=refuse)
    job, _ = jobs.submit(talking_head.path)
    assert jobs.deliver(job.id) == (Outcome.FINISHED, None)
    failed = jobs.store.get("alice", job.id)
    status, detail = classify_failure(error("what is wrong with the upload"))
    assert 400 <= status < 500
    assert (failed.status, failed.attempts, failed.error_status, failed.error_detail) == ("failed", 1, status, detail)


def test_cancelling_a_running_job_stops_its_analysis(tmp_path, models, talking_head):
    started = []

    async def slow_landmarks(frames, times):
        started.append(time.monotonic())
        await asyncio.sleep(30)

    jobs = Jobs(tmp_path, models, heartbeat_s=0.2, lease_s=1.0, landmarks=slow_landmarks)
    job, _ = jobs.submit(talking_head.path)

    async def run_and_cancel():
        running = asyncio.ensure_future(jobs.runner.run(job.id))
        while not started:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(jobs.service.cancel, "alice", job.id)
        return await asyncio.wait_for(running, timeout=10)

    began = time.monotonic()
    assert asyncio.run(run_and_cancel()) == (Outcome.SKIPPED, None)
    assert time.monotonic() - began < 10
    cancelled = jobs.store.get("alice", job.id)
    assert cancelled.status == "cancelled" and cancelled.upload_object is None and jobs.notified == []


def test_a_job_whose_worker_died_is_taken_over(tmp_path, models, talking_head):
    jobs = Jobs(tmp_path, models, lease_s=1.0, heartbeat_s=0.4)
    job, _ = jobs.submit(talking_head.path)
    assert jobs.store.claim(job.id, timedelta(seconds=1)).attempt == 1  # a worker starts it, then is killed
    jobs.queue.clear()
    assert jobs.deliver(job.id) == (Outcome.SKIPPED, None)  # the broker's redelivery: the lease still holds
    time.sleep(1.2)
    assert jobs.sweeper.sweep()["requeued"] == 1 and jobs.queue == [job.id]
    assert jobs.sweeper.sweep()["requeued"] == 0
    assert jobs.deliver(job.id) == (Outcome.FINISHED, None)
    done = jobs.store.get("alice", job.id)
    assert done.status == "succeeded" and done.attempts == 2


def test_submissions_are_checked_before_they_cost_anything(tmp_path, models, talking_head):
    jobs = Jobs(tmp_path, models, max_active=2)
    first, replayed = jobs.submit(talking_head.path, idempotency_key="order-1")
    again, replayed_again = jobs.submit(talking_head.path, idempotency_key="order-1")
    assert not replayed and replayed_again and again.id == first.id and jobs.queue == [first.id]
    with pytest.raises(IdempotencyKeyReused):
        jobs.submit(talking_head.path, analysis="full-analysis", idempotency_key="order-1")
    with pytest.raises(WebhookUrlRefused):
        jobs.submit(talking_head.path, webhook_url="http://169.254.169.254/")
    with pytest.raises(WebhookSecretMissing):
        jobs.submit(talking_head.path, webhook_url="http://127.0.0.1:9/hook")
    jobs.secrets.rotate("alice", timedelta(0))
    jobs.submit(talking_head.path, webhook_url="http://127.0.0.1:9/hook")
    with pytest.raises(TooManyActiveJobs):
        jobs.submit(talking_head.path)
    assert len(jobs.submit(talking_head.path, owner="bob")[0].id) == 26  # the limit is per owner
    not_video = tmp_path / "notes.mp4"
    not_video.write_bytes(b"just some text, not a video" * 10)
    with pytest.raises(UnsupportedMediaType):
        jobs.submit(not_video, owner="carol")
    assert jobs.store.active_count("carol") == 0


def test_a_full_store_or_queue_refuses_the_job_and_keeps_nothing(tmp_path, models, talking_head):
    jobs = Jobs(tmp_path, models, quota_bytes=1000)
    with pytest.raises(JobUploadRefused, match="quota per owner"):
        jobs.submit(talking_head.path)
    jobs = Jobs(tmp_path / "broken-queue", models)

    def broker_down(job_id):
        raise ConnectionError("broker unreachable")

    jobs.service.enqueue = broker_down
    with pytest.raises(JobQueueUnavailable):
        jobs.submit(talking_head.path)
    assert jobs.store.active_count("alice") == 0 and jobs.videos.ledger.usage_bytes() == 0
    assert not [p for p in (tmp_path / "broken-queue" / "videos").iterdir() if p.suffix == ".mp4"]
    shutil.rmtree(tmp_path / "broken-queue")


def test_the_embedded_broker_drops_control_messages_nobody_will_read(tmp_path):
    from softskills.jobs.queue import prune_embedded_broker

    queue = tmp_path / "queue"
    queue.mkdir()
    stale = queue / "1_a.celery@softskills-jobs_gone.celery.pidbox.msg"
    fresh = queue / "2_b.celery@softskills-jobs_live.celery.pidbox.msg"
    job = queue / "3_c.softskills-jobs.msg"
    for path in (stale, fresh, job):
        path.write_text("{}")
    os.utime(stale, (time.time() - 600, time.time() - 600))
    os.utime(job, (time.time() - 600, time.time() - 600))
    assert prune_embedded_broker(f"filesystem://{queue}", 300) == 1
    assert not stale.exists() and fresh.exists() and job.exists()  # a queued job is never touched
    assert prune_embedded_broker("redis://127.0.0.1:6379/0", 300) == 0
