"""Signed webhooks (jobs/webhooks.py): signatures that the Standard Webhooks reference library verifies, secrets
stored encrypted and rotated with a grace period, the SSRF guard on real addresses in every IPv6 form, and deliveries
to real receivers on this machine (an allowed network), retried with exponential back-off and recorded on the job:
one deadline however slowly a receiver answers, verified TLS, a failed attempt on the schedule whatever goes wrong
inside one (a pepper change, the database), and never two deliveries of an attempt at once."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from ipaddress import ip_address

import pytest
from standardwebhooks import Webhook

from softskills.auth.hashing import Pepper
from softskills.auth.store import KeyStore
from softskills.jobs.errors import WebhookSecretMissing, WebhookSecretUnreadable, WebhookUrlRefused
from softskills.jobs.store import JobStore, NewJob, Summary
from softskills.jobs.webhooks import (
    INTERNAL_ERROR,
    Backoff,
    SecretBox,
    WebhookSecrets,
    WebhookSender,
    check_url,
    sign,
    verify,
)
from tests.auth_support import TEST_PEPPER, clean_auth_env, clock  # noqa: F401
from tests.job_support import Receiver, TricklingReceiver

LOOPBACK = ("127.0.0.1/32",)
LEASE = timedelta(seconds=60)


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    KeyStore(url, pepper=TEST_PEPPER)
    return url


@pytest.fixture
def secrets(url, clock):  # noqa: F811
    return WebhookSecrets(url, SecretBox(TEST_PEPPER), clock=clock)


def test_signatures_verify_with_the_reference_library():
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"type":"job.succeeded"}'
    now = int(time.time())
    headers = {
        "webhook-id": "job_x_succeeded",
        "webhook-timestamp": str(now),
        "webhook-signature": sign(secret, "job_x_succeeded", now, body),
    }
    assert Webhook(secret).verify(body, headers) == {"type": "job.succeeded"}
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body + b" ")
    assert not verify(secret, headers, body, now=lambda: now + 301)  # a replay past the tolerance


def test_secrets_are_sealed_per_owner_and_rotate_with_grace(url, secrets, clock):  # noqa: F811
    with pytest.raises(WebhookSecretMissing):
        secrets.signing_secrets("alice")
    first, info = secrets.rotate("alice", timedelta(hours=1))
    assert first.startswith("whsec_") and info.previous_valid_until is None
    assert secrets.signing_secrets("alice") == [first]
    from cryptography.exceptions import InvalidTag
    from sqlalchemy import create_engine, text

    sealed = create_engine(url).connect().execute(text("SELECT ciphertext FROM webhook_secrets")).scalar()
    assert first.encode() not in sealed and first[6:].encode() not in sealed
    with pytest.raises(InvalidTag):  # the owner is bound in: a row moved to another owner does not open
        SecretBox(TEST_PEPPER).open("bob", sealed)
    with pytest.raises(InvalidTag):  # nor with another pepper
        SecretBox(Pepper(b"another-pepper-" + b"1" * 32)).open("alice", sealed)
    second, info = secrets.rotate("alice", timedelta(hours=1))
    assert second != first and info.previous_valid_until == clock.now + timedelta(hours=1)
    assert secrets.signing_secrets("alice") == [second, first]
    clock.advance(timedelta(hours=1, seconds=1))
    assert secrets.signing_secrets("alice") == [second]


@pytest.mark.parametrize(
    "url, reason",
    [
        ("ftp://example.com/hook", "http or https"),
        ("http:///nohost", "http or https"),
        ("https://user:pw@93.184.216.34/", "credentials"),
        ("http://localhost:8080/", "private"),
        ("http://127.0.0.1/", "private"),
        ("http://2130706433/", "private"),  # 127.0.0.1 in decimal
        ("http://[::1]/", "private"),
        ("http://[::ffff:127.0.0.1]/", "private"),
        ("http://169.254.169.254/latest/meta-data", "private"),  # cloud metadata
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.10/", "private"),
        ("http://100.64.0.1/", "private"),  # carrier-grade NAT
        ("http://0.0.0.0/", "private"),
        ("http://224.0.0.1/", "private"),
        ("http://host.invalid/", "could not be resolved"),
        ("http://example.com/\nHost: evil", "printable"),
        # IPv6 forms that carry a non-public IPv4 address: the packet ends up there
        ("http://[64:ff9b::127.0.0.1]/", "private"),  # NAT64, well-known prefix (RFC 6052)
        ("http://[64:ff9b::a9fe:a9fe]/", "private"),  # NAT64 to the cloud metadata address
        ("http://[64:ff9b::10.0.0.1]/", "private"),
        ("http://[64:ff9b:1::1]/", "private"),  # NAT64 local-use prefix (RFC 8215): never public
        ("http://[64:ff9b:1:7f00:0:100::]/", "private"),  # ... carrying 127.0.0.1 under a /48
        ("http://[64:ff9b:1:5db8:d8:2200::]/", "private"),  # ... even carrying a public address
        ("http://[2002:7f00:1::1]/", "private"),  # 6to4 of 127.0.0.1
        ("http://[2002:c0a8:1::]/", "private"),  # 6to4 of 192.168.0.1
        ("http://[2002:a9fe:a9fe::1]/", "private"),  # 6to4 of 169.254.169.254
        ("http://[::127.0.0.1]/", "private"),  # IPv4-compatible (deprecated)
        ("http://[::10.1.2.3]/", "private"),
        ("http://[::]/", "private"),
        ("http://[::ffff:0:127.0.0.1]/", "private"),  # SIIT IPv4-translated
        ("http://[::ffff:0:192.168.1.1]/", "private"),
        ("http://[::ffff:10.0.0.1]/", "private"),  # IPv4-mapped
        ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "private"),  # Teredo: client 127.0.0.1 (obfuscated)
        ("http://[2001:0:a00:1:8000:63bf:a247:2ddd]/", "private"),  # Teredo: server 10.0.0.1
        ("http://[2001:0:5db8:d822:8000:63bf:f5ff:fefe]/", "private"),  # Teredo: public server, client 10.0.1.1
        ("http://[fe80::1]/", "private"),
        ("http://[fec0::1]/", "private"),  # site-local (deprecated; Python 3.11 counts it as global)
        ("http://[fd00::1]/", "private"),  # unique local
        ("http://[ff02::1]/", "private"),  # multicast
        ("http://[2001:db8::1]/", "private"),  # documentation
        ("http://[100::1]/", "private"),  # discard-only
    ],
)
def test_the_ssrf_guard_refuses(url, reason):
    with pytest.raises(WebhookUrlRefused, match=reason):
        check_url(url)


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "2606:2800:220:1:248:1893:25c8:1946",
        "64:ff9b::93.184.216.34",  # NAT64 to a public address
        "2002:5db8:d822::1",  # 6to4 of a public address
        "::93.184.216.34",  # IPv4-compatible, public
        "::ffff:93.184.216.34",  # IPv4-mapped, public
        "::ffff:0:93.184.216.34",  # SIIT, public
        "2001:0:5db8:d822:8000:63bf:a247:2ddd",  # Teredo: public server and client (93.184.210.34)
    ],
)
def test_the_ssrf_guard_passes_public_addresses_in_every_form(address):
    host = f"[{address}]" if ":" in address else address
    assert ip_address(check_url(f"https://{host}/hook").address) == ip_address(address)


@pytest.mark.parametrize(
    "address, allowed",
    [
        ("10.0.0.5", ("10.0.0.0/24",)),
        ("::ffff:10.0.0.5", ("10.0.0.0/24",)),  # a form that carries an allowed address
        ("64:ff9b::10.0.0.5", ("10.0.0.0/24",)),
        ("2002:a00:5::1", ("10.0.0.0/24",)),
        ("fd12:3456::1", ("fd12:3456::/32",)),
        ("64:ff9b:1::a00:5", ("64:ff9b:1::/48",)),  # the operator's own NAT64 prefix, allowed by name
    ],
)
def test_the_operators_allowed_networks_reach_every_form(address, allowed):
    host = f"[{address}]" if ":" in address else address
    assert ip_address(check_url(f"http://{host}/", allowed).address) == ip_address(address)
    with pytest.raises(WebhookUrlRefused, match="private"):
        check_url(f"http://{host}/")


def test_the_ssrf_guard_passes_public_addresses_and_allowed_networks():
    target = check_url("https://93.184.216.34:8443/hooks?a=1")
    assert (target.scheme, target.port, target.path, target.address) == ("https", 8443, "/hooks?a=1", "93.184.216.34")
    assert target.host_header() == "93.184.216.34:8443"
    local = check_url("http://localhost:9000/x", LOOPBACK + ("::1/128",))
    assert local.address in ("127.0.0.1", "::1") and local.host_header() == "localhost:9000"
    with pytest.raises(WebhookUrlRefused):
        check_url("http://10.0.0.5/", LOOPBACK)


def test_backoff_grows_exponentially_up_to_its_cap():
    backoff = Backoff(max_attempts=6, first_retry_s=5, factor=4, max_delay_s=1800)
    assert [backoff.delay_after(n) for n in range(1, 7)] == [5, 20, 80, 320, 1280, None]
    assert Backoff(8, 5, 4, 600).delay_after(6) == 600


def test_a_delivery_is_retried_then_delivered_signed_and_recorded(url, secrets, clock):  # noqa: F811
    with Receiver([500, 503, 200]) as receiver:
        secret, _ = secrets.rotate("alice", timedelta(0))
        store = JobStore(url, clock=clock)
        job = store.create(
            NewJob(
                "alice",
                "analyze-video",
                {"analysis": "analyze-video", "input": {}},
                "http://api.example/",
                "obj",
                None,
                webhook_url=receiver.url,
            ),
            timedelta(days=1),
        )
        store.claim(job.id, LEASE)
        store.succeed(job.id, 1, {"overall_score": 77}, Summary(77, {"clarity": 8.0}), timedelta(days=30))
        sender = WebhookSender(
            store, secrets, Backoff(5, 2, 3, 60), timeout_s=5, allowed_networks=LOOPBACK, lease_timeout=LEASE
        )
        assert sender.deliver(job.id, 2) is None  # not its turn: nothing sent
        assert sender.deliver(job.id, 1) == 2
        assert sender.deliver(job.id, 1) is None  # a duplicate message sends nothing
        clock.advance(timedelta(seconds=2))
        assert sender.deliver(job.id, 2) == 6
        clock.advance(timedelta(seconds=6))
        assert sender.deliver(job.id, 3) is None  # delivered
        assert len(receiver.received) == 3
        ids = {headers["webhook-id"] for headers, _ in receiver.received}
        assert ids == {f"{job.id}_succeeded"}  # the same event on every attempt
        for headers, body in receiver.received:
            assert verify(secret, headers, body, now=lambda: clock.now.timestamp())
            assert headers["host"] == receiver.url.split("/")[2] and headers["content-type"] == "application/json"
        event = json.loads(receiver.received[-1][1])
        assert event["type"] == "job.succeeded"
        assert event["data"] == {
            "id": job.id,
            "status": "succeeded",
            "analysis": "analyze-video",
            "url": f"http://api.example/api/v1/jobs/{job.id}",
            "created_at": event["data"]["created_at"],
            "finished_at": event["data"]["finished_at"],
            "attempts": 1,
            "overall_score": 77,
            "error": None,
        }
        seen = store.get("alice", job.id)
        assert seen.webhook_state == "delivered"
        assert [(a.attempt, a.status_code, a.error) for a in seen.webhook_history] == [
            (1, 500, "HTTP 500"),
            (2, 503, "HTTP 503"),
            (3, 200, None),
        ]


def test_a_delivery_to_a_refused_address_fails_without_a_request(url, secrets, clock):  # noqa: F811
    secrets.rotate("alice", timedelta(0))
    store = JobStore(url, clock=clock)
    job = store.create(
        NewJob(
            "alice",
            "analyze-video",
            {"analysis": "analyze-video", "input": {}},
            "http://a/",
            "obj",
            None,
            webhook_url="http://127.0.0.1:9/",
        ),
        timedelta(days=1),
    )
    store.claim(job.id, LEASE)
    store.fail(job.id, 1, 422, "The uploaded file is empty.", timedelta(days=30))
    sender = WebhookSender(store, secrets, Backoff(2, 1, 2, 10), timeout_s=2, allowed_networks=(), lease_timeout=LEASE)
    assert sender.deliver(job.id, 1) == 1
    clock.advance(timedelta(seconds=1))
    assert sender.deliver(job.id, 2) is None
    seen = store.get("alice", job.id)
    assert seen.webhook_state == "failed"
    assert all(a.status_code is None and "private" in a.error for a in seen.webhook_history)


def test_the_documented_verification_snippet_accepts_our_deliveries_and_nothing_else():
    """The jobs page's plain-Python verifier (docs/jobs.md, "Webhooks"), run as printed, on a delivery signed as the
    service signs one."""
    import re
    from pathlib import Path

    page = (Path(__file__).parent.parent / "docs" / "jobs.md").read_text()
    (snippet,) = [
        block for block in re.findall(r"```python\n(.*?)```", page, re.S) if "def verify_softskills_webhook" in block
    ]
    namespace: dict = {}
    exec(compile(snippet, "docs/jobs.md", "exec"), namespace)
    verify_documented = namespace["verify_softskills_webhook"]
    old, current = "whsec_" + "a" * 43 + "=", "whsec_" + "b" * 43 + "="
    body, now = b'{"type":"job.failed","data":{"id":"job_x"}}', int(time.time())
    signatures = " ".join(sign(secret, "job_x_failed", now, body) for secret in (current, old))
    headers = {"webhook-id": "job_x_failed", "webhook-timestamp": str(now), "webhook-signature": signatures}
    assert verify_documented(current, headers, body) and verify_documented(old, headers, body)  # during a rotation
    assert not verify_documented("whsec_" + "c" * 43 + "=", headers, body)
    assert not verify_documented(current, headers, body.replace(b"failed", b"succeeded"))
    assert not verify_documented(current, {**headers, "webhook-timestamp": str(now - 600)}, body)


def finished_job(store: JobStore, webhook_url: str) -> str:
    job = store.create(
        NewJob(
            "alice",
            "analyze-video",
            {"analysis": "analyze-video", "input": {}},
            "http://a/",
            "obj",
            None,
            webhook_url=webhook_url,
        ),
        timedelta(days=1),
    )
    store.claim(job.id, LEASE)
    store.succeed(job.id, 1, {"overall_score": 70}, Summary(70, None), timedelta(days=30))
    return job.id


def timed(work):
    began = time.monotonic()
    return work(), time.monotonic() - began


def test_an_attempt_has_one_deadline_however_slowly_the_receiver_answers(url, secrets, clock):  # noqa: F811
    """A receiver that sends its status line one byte every 0.6 s never lets a per-read timeout expire; the attempt's
    deadline ends it at `timeout_s`, and it is retried."""
    secrets.rotate("alice", timedelta(0))
    store = JobStore(url, clock=clock)
    sender = WebhookSender(
        store, secrets, Backoff(3, 2, 2, 60), timeout_s=1, allowed_networks=LOOPBACK, lease_timeout=LEASE
    )
    with TricklingReceiver(trickled=b"HTTP/1.1 204 No Content\r\n\r\n", interval_s=0.6) as receiver:
        job_id = finished_job(store, receiver.url)
        delay, took_s = timed(lambda: sender.deliver(job_id, 1))
    assert delay == 2 and 1 <= took_s < 2 and len(receiver.requests) == 1
    (attempt,) = store.get("alice", job_id).webhook_history
    assert (attempt.status_code, attempt.error) == (None, "No answer within 1 s.") and attempt.duration_ms < 2000


def test_only_the_status_line_of_an_answer_is_read(url, secrets, clock):  # noqa: F811
    secrets.rotate("alice", timedelta(0))
    store = JobStore(url, clock=clock)
    sender = WebhookSender(
        store, secrets, Backoff(2, 1, 2, 60), timeout_s=5, allowed_networks=LOOPBACK, lease_timeout=LEASE
    )
    slow_body = TricklingReceiver(
        at_once=b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\ncontent-length: 10\r\n\r\n",
        trickled=b"0123456789",
        interval_s=0.6,
    )
    with slow_body:  # a 2xx is all that counts: its body is never waited for
        job_id = finished_job(store, slow_body.url)
        delay, took_s = timed(lambda: sender.deliver(job_id, 1))
    assert delay is None and took_s < 1
    assert [(a.status_code, a.error) for a in store.get("alice", job_id).webhook_history] == [(202, None)]
    with TricklingReceiver(at_once=b"x" * 1_000_000) as junk:  # no status line: refused after 4 KiB
        job_id = finished_job(store, junk.url)
        assert sender.deliver(job_id, 1) == 1
    (attempt,) = store.get("alice", job_id).webhook_history
    assert attempt.error == "The answer was not HTTP (no status line in its first 4096 bytes)."


def test_deliveries_go_over_verified_tls_to_the_checked_address(url, secrets, clock, tmp_path):  # noqa: F811
    import ssl

    authority, server_tls = certificates_for_127_0_0_1(tmp_path)
    secrets.rotate("alice", timedelta(0))
    store = JobStore(url, clock=clock)
    trusting = WebhookSender(
        store,
        secrets,
        Backoff(2, 1, 2, 60),
        timeout_s=5,
        allowed_networks=LOOPBACK,
        lease_timeout=LEASE,
        tls=ssl.create_default_context(cafile=authority),
    )
    untrusting = WebhookSender(
        store, secrets, Backoff(2, 1, 2, 60), timeout_s=5, allowed_networks=LOOPBACK, lease_timeout=LEASE
    )
    with TricklingReceiver(at_once=b"HTTP/1.1 204 No Content\r\n\r\n", tls=server_tls) as receiver:
        delivered, refused = finished_job(store, receiver.url), finished_job(store, receiver.url)
        assert trusting.deliver(delivered, 1) is None
        assert untrusting.deliver(refused, 1) == 1  # the certificate is not from a public authority
    assert store.get("alice", delivered).webhook_state == "delivered"
    assert store.get("alice", refused).webhook_history[0].error == "Could not connect (SSLCertVerificationError)."
    assert len(receiver.requests) == 1 and receiver.requests[0].startswith(b"POST /hooks/softskills HTTP/1.1\r\n")


def test_a_secret_sealed_under_another_pepper_fails_each_attempt_until_the_last(url, secrets, clock):  # noqa: F811
    secrets.rotate("alice", timedelta(0))
    store = JobStore(url, clock=clock)
    after_pepper_change = WebhookSecrets(url, SecretBox(Pepper(b"the-new-pepper-" + b"2" * 32)), clock=clock)
    sender = WebhookSender(
        store, after_pepper_change, Backoff(2, 1, 2, 60), timeout_s=2, allowed_networks=LOOPBACK, lease_timeout=LEASE
    )
    with Receiver() as receiver:
        job_id = finished_job(store, receiver.url)
        assert sender.deliver(job_id, 1) == 1
        clock.advance(timedelta(seconds=1))
        assert sender.deliver(job_id, 2) is None
    seen = store.get("alice", job_id)
    assert seen.webhook_state == "failed" and receiver.received == []
    assert [a.error for a in seen.webhook_history] == [str(WebhookSecretUnreadable())] * 2
    assert "pepper changed" in seen.webhook_history[0].error


def test_a_database_error_in_an_attempt_is_a_failed_attempt_on_the_schedule(url, secrets, clock, caplog):  # noqa: F811
    from sqlalchemy.exc import OperationalError

    def database_gone(owner):
        raise OperationalError("SELECT webhook_secrets", {}, Exception("database is locked"))

    secrets.rotate("alice", timedelta(0))
    store = JobStore(url, clock=clock)
    sender = WebhookSender(
        store, secrets, Backoff(3, 1, 2, 60), timeout_s=2, allowed_networks=LOOPBACK, lease_timeout=LEASE
    )
    secrets.signing_secrets = database_gone
    with Receiver() as receiver:
        job_id = finished_job(store, receiver.url)
        assert [sender.deliver(job_id, 1), sender.deliver(job_id, 2), sender.deliver(job_id, 3)] == [1, 2, None]
    seen = store.get("alice", job_id)
    assert seen.webhook_state == "failed" and receiver.received == [] and len(seen.webhook_history) == 3
    assert all(a.error == INTERNAL_ERROR for a in seen.webhook_history)
    assert "database is locked" in caplog.text  # the traceback is in the log, not on the job


def test_an_attempt_that_could_not_be_recorded_is_counted_by_the_next(url, secrets, clock):  # noqa: F811
    """The database fails while the attempt is recorded: the claim stays until its lease ends, then the sweep's
    message makes the next attempt, which records the lost one as failed."""
    from sqlalchemy.exc import OperationalError

    secrets.rotate("alice", timedelta(0))
    store = JobStore(url, clock=clock)
    sender = WebhookSender(
        store, secrets, Backoff(2, 1, 2, 60), timeout_s=2, allowed_networks=LOOPBACK, lease_timeout=LEASE
    )
    record = store.record_webhook_attempt

    def fails_once(*args):
        store.record_webhook_attempt = record
        raise OperationalError("INSERT INTO webhook_attempts", {}, Exception("disk I/O error"))

    with Receiver([500, 500]) as receiver:
        job_id = finished_job(store, receiver.url)
        store.record_webhook_attempt = fails_once
        with pytest.raises(OperationalError):
            sender.deliver(job_id, 1)
        clock.advance(sender.attempt_lease + timedelta(seconds=1))
        for enqueued in store.webhooks_to_enqueue(LEASE):
            assert sender.deliver(*enqueued) is None
    seen = store.get("alice", job_id)
    assert seen.webhook_state == "failed" and len(receiver.received) == 2
    assert [(a.attempt, a.status_code) for a in seen.webhook_history] == [(1, None), (2, 500)]
    assert store.webhooks_to_enqueue(LEASE) == []


def test_concurrent_sweeps_never_start_a_second_delivery_of_an_attempt_in_flight(url, secrets, clock):  # noqa: F811
    """Attempt 1 is still talking to a slow receiver when two replicas sweep at once, past the job lease: one of
    them enqueues the webhook, and its delivery finds the attempt still claimed."""
    import threading

    secrets.rotate("alice", timedelta(0))
    store, other_replica = JobStore(url, clock=clock), JobStore(url, clock=clock)
    sender = WebhookSender(
        store, secrets, Backoff(3, 1, 2, 60), timeout_s=20, allowed_networks=LOOPBACK, lease_timeout=LEASE
    )
    release = threading.Event()
    with TricklingReceiver(at_once=b"HTTP/1.1 204 No Content\r\n\r\n", release=release) as receiver:
        job_id = finished_job(store, receiver.url)
        first = threading.Thread(target=sender.deliver, args=(job_id, 1))
        first.start()
        while not receiver.requests:
            time.sleep(0.02)
        clock.advance(LEASE + timedelta(seconds=5))  # past the job lease, within the attempt's (LEASE + 20 s)
        enqueued, start = [], threading.Barrier(2)

        def sweep(replica):
            start.wait()
            enqueued.extend(replica.webhooks_to_enqueue(LEASE))

        sweeps = [threading.Thread(target=sweep, args=(replica,)) for replica in (store, other_replica)]
        for thread in sweeps:
            thread.start()
        for thread in sweeps:
            thread.join()
        assert len(enqueued) == 1  # one sweep took it
        redeliveries = [threading.Thread(target=sender.deliver, args=enqueued[0]) for _ in range(2)]
        for thread in redeliveries:
            thread.start()
        for thread in redeliveries:
            thread.join()
        release.set()
        first.join()
    assert len(receiver.requests) == 1 and receiver.most_open_connections == 1
    seen = store.get("alice", job_id)
    assert seen.webhook_state == "delivered" and [a.status_code for a in seen.webhook_history] == [204]


def certificates_for_127_0_0_1(folder):
    """A throwaway authority's certificate file, and a server context for 127.0.0.1 that it signed."""
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def certificate(subject, key, issuer, issuer_key, authority):
        now = datetime.now(timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=authority, path_length=None), critical=True)
        )
        if authority:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), critical=False
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "softskills test authority")])
    ca = certificate(ca_name, ca_key, ca_name, ca_key, True)
    server = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), server_key, ca_name, ca_key, False
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(
        server.public_bytes(serialization.Encoding.PEM)
        + server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem")
    return str(folder / "ca.pem"), context
