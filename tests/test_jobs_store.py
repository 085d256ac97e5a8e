"""The job records (jobs/store.py) on SQLite and PostgreSQL: leases with fencing, cancellation, idempotency keys,
pages, the sweep's picks, webhook attempts and retention. Times move by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from softskills.jobs.errors import JobAlreadyFinished, JobNotFound
from softskills.jobs.store import AttemptRecord, DuplicateIdempotencyKey, JobStore, NewJob, Summary, is_job_id
from testkit.postgres_server import postgres_url  # noqa: F401
from tests.auth_support import TEST_PEPPER, clean_auth_env, clock, store_url  # noqa: F401

LEASE = timedelta(seconds=60)
REQUEUE_AFTER = timedelta(minutes=30)
RETENTION = timedelta(days=30)
DAY = timedelta(days=1)


@pytest.fixture
def jobs(store_url, clock):  # noqa: F811
    from softskills.auth.store import KeyStore

    KeyStore(store_url, pepper=TEST_PEPPER)  # migrates the schema
    return JobStore(store_url, clock=clock)


def new_job(owner="alice", key=None, request_hash=None, webhook=None) -> NewJob:
    return NewJob(
        owner=owner,
        analysis="analyze-video",
        request={"analysis": "analyze-video", "input": {}},
        base_url="http://testserver/",
        upload_object="obj",
        upload_reservation=None,
        webhook_url=webhook,
        idempotency_key=key,
        request_hash=request_hash,
    )


def test_ids_are_random_and_checked(jobs):
    first, second = jobs.create(new_job(), DAY), jobs.create(new_job(), DAY)
    assert first.id != second.id and is_job_id(first.id) and is_job_id(second.id)
    assert not is_job_id("job_../../etc/passwd") and not is_job_id(first.id + "x") and not is_job_id("x" * 26)


def test_one_attempt_holds_the_lease_and_only_it_can_finish(jobs, clock):
    job = jobs.create(new_job(), DAY)
    first = jobs.claim(job.id, LEASE)
    assert first.attempt == 1 and first.job.status == "running"
    assert jobs.claim(job.id, LEASE) is None  # a duplicate delivery while the worker lives
    clock.advance(LEASE / 2)
    assert jobs.heartbeat(job.id, 1)
    clock.advance(LEASE / 2 + timedelta(seconds=1))
    assert jobs.claim(job.id, LEASE) is None  # the heartbeat renewed the lease
    clock.advance(LEASE)
    second = jobs.claim(job.id, LEASE)  # the first worker died: taken over
    assert second.attempt == 2
    assert not jobs.heartbeat(job.id, 1)  # the old worker learns it lost the job...
    assert not jobs.succeed(job.id, 1, {"old": True}, Summary(1, None), RETENTION)  # ...and cannot finish it
    assert jobs.succeed(job.id, 2, {"overall_score": 70}, Summary(70, {"clarity": 7.0}), RETENTION)
    done = jobs.get("alice", job.id)
    assert (done.status, done.result, done.attempts, done.overall_score) == ("succeeded", {"overall_score": 70}, 2, 70)
    assert done.expires_at == clock.now + RETENTION
    assert jobs.claim(job.id, LEASE) is None


def test_a_retry_queues_the_job_again_with_its_error(jobs):
    job = jobs.create(new_job(), DAY)
    jobs.claim(job.id, LEASE)
    assert jobs.release_for_retry(job.id, 1, 504, "Analysis timed out (speech-to-text). Try a shorter video.")
    queued = jobs.get("alice", job.id)
    assert (queued.status, queued.attempts, queued.error_status) == ("queued", 1, 504)
    assert jobs.claim(job.id, LEASE).attempt == 2
    assert jobs.fail(job.id, 2, 504, "Analysis timed out (speech-to-text). Try a shorter video.", RETENTION)
    failed = jobs.get("alice", job.id)
    assert (failed.status, failed.error_status, failed.attempts) == ("failed", 504, 2)


def test_cancel_and_owner_scoping(jobs):
    queued, running = jobs.create(new_job(), DAY), jobs.create(new_job(), DAY)
    jobs.claim(running.id, LEASE)
    with pytest.raises(JobNotFound):
        jobs.cancel("mallory", queued.id, RETENTION)
    with pytest.raises(JobNotFound):
        jobs.get("mallory", queued.id)
    assert jobs.cancel("alice", queued.id, RETENTION).status == "cancelled"
    assert jobs.cancel("alice", running.id, RETENTION).status == "cancelled"
    assert not jobs.heartbeat(running.id, 1)  # the running worker stops at its next heartbeat
    assert jobs.claim(queued.id, LEASE) is None  # its message, when it comes, changes nothing
    with pytest.raises(JobAlreadyFinished, match="cancelled"):
        jobs.cancel("alice", queued.id, RETENTION)
    assert jobs.take_upload(queued.id) == ("obj", None) and jobs.take_upload(queued.id) is None  # deleted once


def test_idempotency_keys_are_per_owner_and_expire(jobs, clock):
    first = jobs.create(new_job(key="k1", request_hash="a" * 64), DAY)
    with pytest.raises(DuplicateIdempotencyKey):
        jobs.create(new_job(key="k1", request_hash="b" * 64), DAY)
    assert jobs.create(new_job(owner="bob", key="k1"), DAY).owner == "bob"  # another owner's key space
    assert jobs.find_by_idempotency_key("alice", "k1").id == first.id
    clock.advance(DAY + timedelta(seconds=1))
    assert jobs.find_by_idempotency_key("alice", "k1") is None
    assert jobs.create(new_job(key="k1"), DAY).id != first.id


def test_pages_are_newest_first_and_owner_scoped(jobs, clock):
    created = []
    for _ in range(5):
        created.append(jobs.create(new_job(), DAY).id)
        clock.advance(timedelta(seconds=1))
    jobs.create(new_job(owner="bob"), DAY)
    page, more = jobs.list("alice", 2)
    assert [j.id for j in page] == created[:-3:-1] and more
    page2, more2 = jobs.list("alice", 2, before=page[-1].id)
    page3, more3 = jobs.list("alice", 2, before=page2[-1].id)
    assert [j.id for j in page + page2 + page3] == created[::-1] and more2 and not more3
    with pytest.raises(JobNotFound):
        jobs.list("bob", 2, before=created[0])  # another owner's id is no cursor


def test_the_sweep_requeues_lapsed_and_forgotten_jobs_once(jobs, clock):
    lapsed, forgotten, waiting = (jobs.create(new_job(), DAY) for _ in range(3))
    jobs.claim(lapsed.id, LEASE)
    clock.advance(LEASE + timedelta(seconds=1))
    assert jobs.jobs_to_enqueue(LEASE, REQUEUE_AFTER) == [lapsed.id]
    assert jobs.jobs_to_enqueue(LEASE, REQUEUE_AFTER) == []  # one enqueue per lapse, not one per sweep
    assert jobs.claim(lapsed.id, LEASE).attempt == 2
    clock.advance(REQUEUE_AFTER)
    jobs.heartbeat(lapsed.id, 2)
    assert set(jobs.jobs_to_enqueue(LEASE, REQUEUE_AFTER)) == {forgotten.id, waiting.id}  # a broker that lost them


def test_webhook_attempts_are_claimed_once_and_recorded(jobs, clock):
    job = jobs.create(new_job(webhook="https://example.com/hook"), DAY)
    jobs.claim(job.id, LEASE)
    jobs.fail(job.id, 1, 422, "The uploaded file is empty.", RETENTION)
    assert jobs.webhook_due(job.id, 2, LEASE, 6) is None  # not its turn
    due = jobs.webhook_due(job.id, 1, LEASE, 6)
    assert due.status == "failed" and jobs.webhook_due(job.id, 1, LEASE, 6) is None  # a duplicate message
    next_at = clock.now + timedelta(seconds=5)
    assert jobs.record_webhook_attempt(job.id, AttemptRecord(1, clock.now, 500, "HTTP 500", 12), next_at, False)
    clock.advance(LEASE + timedelta(seconds=10))
    assert jobs.webhooks_to_enqueue(LEASE) == [(job.id, 2)]  # its retry message was lost
    assert jobs.webhook_due(job.id, 2, LEASE, 6) is not None
    assert jobs.record_webhook_attempt(job.id, AttemptRecord(2, clock.now, 204, None, 8), None, True)
    seen = jobs.get("alice", job.id)
    assert seen.webhook_state == "delivered" and [a.status_code for a in seen.webhook_history] == [500, 204]
    assert jobs.webhooks_to_enqueue(LEASE) == []


def test_an_attempt_whose_sender_vanished_counts_and_the_webhook_fails_after_the_last(jobs, clock):
    """A sender killed mid-attempt (or whose database went away) leaves its claim: once the claim's lease is over,
    the next attempt records it as failed, a late answer from the old sender is dropped, and the attempts end."""
    job = jobs.create(new_job(webhook="https://example.com/hook"), DAY)
    jobs.claim(job.id, LEASE)
    jobs.succeed(job.id, 1, {"overall_score": 60}, Summary(60, None), RETENTION)
    started = clock.now
    assert jobs.webhook_due(job.id, 1, LEASE, 2) is not None  # the sender then dies
    clock.advance(LEASE / 2)
    assert jobs.webhook_due(job.id, 2, LEASE, 2) is None  # its claim still holds: no second concurrent delivery
    clock.advance(LEASE)
    assert jobs.webhooks_to_enqueue(LEASE) == [(job.id, 2)]
    assert jobs.webhook_due(job.id, 2, LEASE, 2).webhook_attempts == 2
    assert not jobs.record_webhook_attempt(job.id, AttemptRecord(1, started, 204, None, 5), None, True)  # too late
    clock.advance(LEASE * 2)
    assert jobs.webhooks_to_enqueue(LEASE) == [(job.id, 3)]
    assert jobs.webhook_due(job.id, 3, LEASE, 2) is None  # the second was the last: failed for good
    seen = jobs.get("alice", job.id)
    assert seen.webhook_state == "failed" and seen.webhook_next_at is None
    assert [(a.attempt, a.started_at, a.status_code) for a in seen.webhook_history] == [
        (1, started, None),
        (2, started + LEASE * 1.5, None),
    ]
    assert all("interrupted" in a.error for a in seen.webhook_history)
    assert jobs.webhooks_to_enqueue(LEASE) == []


def test_finished_jobs_are_purged_after_retention_and_reports_kept_meanwhile(jobs, clock):
    job = jobs.create(new_job(), DAY)
    jobs.claim(job.id, LEASE)
    jobs.succeed(job.id, 1, {"overall_score": 60}, Summary(60, {"clarity": 6.0}), RETENTION)
    clock.advance(timedelta(seconds=1))
    report = jobs.record_report(
        "alice",
        "full-analysis",
        {"video_analysis": {}},
        Summary(70, {"clarity": 8.0}),
        None,
        RETENTION,
        {"analysis": "full-analysis"},
    )
    assert [r.id for r in jobs.history("alice", 10)] == [report.id, job.id]
    assert jobs.list("alice", 10)[0][0].id == job.id  # the API lists jobs only
    clock.advance(RETENTION)
    assert jobs.purge_expired() == 1  # the report; the job's upload is still attached: nothing goes before it
    jobs.take_upload(job.id)
    clock.advance(timedelta(seconds=1))
    assert jobs.purge_expired() == 1 and jobs.history("alice", 10) == []
