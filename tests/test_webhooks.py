"""Signed webhooks (jobs/webhooks.py): signatures that the Standard Webhooks reference library verifies, secrets
stored encrypted and rotated with a grace period, the SSRF guard on real addresses, and deliveries to a real HTTP
receiver on this machine (an allowed network), retried with exponential back-off and recorded on the job."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from ipaddress import ip_address

import pytest
from standardwebhooks import Webhook

from softskills.auth.hashing import Pepper
from softskills.auth.store import KeyStore
from softskills.jobs.errors import WebhookSecretMissing, WebhookUrlRefused
from softskills.jobs.store import JobStore, NewJob, Summary
from softskills.jobs.webhooks import Backoff, SecretBox, WebhookSecrets, WebhookSender, check_url, sign, verify
from tests.auth_support import TEST_PEPPER, clean_auth_env, clock  # noqa: F401
from tests.job_support import Receiver

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
    headers = {"webhook-id": "job_x_succeeded", "webhook-timestamp": str(now),
               "webhook-signature": sign(secret, "job_x_succeeded", now, body)}
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
    from sqlalchemy import create_engine, text

    sealed = create_engine(url).connect().execute(text("SELECT ciphertext FROM webhook_secrets")).scalar()
    assert first.encode() not in sealed and first[6:].encode() not in sealed
    with pytest.raises(Exception):  # the owner is bound in: a row moved to another owner does not open
        SecretBox(TEST_PEPPER).open("bob", sealed)
    with pytest.raises(Exception):  # nor with another pepper
        SecretBox(Pepper(b"another-pepper-" + b"1" * 32)).open("alice", sealed)
    second, info = secrets.rotate("alice", timedelta(hours=1))
    assert second != first and info.previous_valid_until == clock.now + timedelta(hours=1)
    assert secrets.signing_secrets("alice") == [second, first]
    clock.advance(timedelta(hours=1, seconds=1))
    assert secrets.signing_secrets("alice") == [second]


@pytest.mark.parametrize("url, reason", [
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
])
def test_the_ssrf_guard_refuses(url, reason):
    with pytest.raises(WebhookUrlRefused, match=reason):
        check_url(url)


@pytest.mark.parametrize("address", [
    "93.184.216.34",
    "2606:2800:220:1:248:1893:25c8:1946",
    "64:ff9b::93.184.216.34",  # NAT64 to a public address
    "2002:5db8:d822::1",  # 6to4 of a public address
    "::93.184.216.34",  # IPv4-compatible, public
    "::ffff:93.184.216.34",  # IPv4-mapped, public
    "::ffff:0:93.184.216.34",  # SIIT, public
    "2001:0:5db8:d822:8000:63bf:a247:2ddd",  # Teredo: public server and client (93.184.210.34)
])
def test_the_ssrf_guard_passes_public_addresses_in_every_form(address):
    host = f"[{address}]" if ":" in address else address
    assert ip_address(check_url(f"https://{host}/hook").address) == ip_address(address)


@pytest.mark.parametrize("address, allowed", [
    ("10.0.0.5", ("10.0.0.0/24",)),
    ("::ffff:10.0.0.5", ("10.0.0.0/24",)),  # a form that carries an allowed address
    ("64:ff9b::10.0.0.5", ("10.0.0.0/24",)),
    ("2002:a00:5::1", ("10.0.0.0/24",)),
    ("fd12:3456::1", ("fd12:3456::/32",)),
    ("64:ff9b:1::a00:5", ("64:ff9b:1::/48",)),  # the operator's own NAT64 prefix, allowed by name
])
def test_the_operators_allowed_networks_reach_every_form(address, allowed):
    host = f"[{address}]" if ":" in address else address
    assert ip_address(check_url(f"http://{host}/", allowed).address) == ip_address(address)
    with pytest.raises(WebhookUrlRefused, match="private"):
        check_url(f"http://{host}/")


def test_the_ssrf_guard_passes_public_addresses_and_allowed_networks():
    target = check_url("https://93.184.216.34:8443/hooks?a=1")
    assert (target.scheme, target.port, target.path, target.address) == ("https", 8443, "/hooks?a=1", "93.184.216.34")
    assert target.request_url() == "https://93.184.216.34:8443/hooks?a=1"
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
        job = store.create(NewJob("alice", "analyze-video", {"analysis": "analyze-video", "input": {}},
                                  "http://api.example/", "obj", None, webhook_url=receiver.url), timedelta(days=1))
        store.claim(job.id, LEASE)
        store.succeed(job.id, 1, {"overall_score": 77}, Summary(77, {"clarity": 8.0}), timedelta(days=30))
        sender = WebhookSender(store, secrets, Backoff(5, 2, 3, 60), timeout_s=5, allowed_networks=LOOPBACK,
                               lease_timeout=LEASE)
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
        assert event["data"] == {"id": job.id, "status": "succeeded", "analysis": "analyze-video",
                                 "url": f"http://api.example/api/v1/jobs/{job.id}", "created_at": event["data"]
                                 ["created_at"], "finished_at": event["data"]["finished_at"], "attempts": 1,
                                 "overall_score": 77, "error": None}
        seen = store.get("alice", job.id)
        assert seen.webhook_state == "delivered"
        assert [(a.attempt, a.status_code, a.error) for a in seen.webhook_history] == [
            (1, 500, "HTTP 500"), (2, 503, "HTTP 503"), (3, 200, None)]


def test_a_delivery_to_a_refused_address_fails_without_a_request(url, secrets, clock):  # noqa: F811
    secrets.rotate("alice", timedelta(0))
    store = JobStore(url, clock=clock)
    job = store.create(NewJob("alice", "analyze-video", {"analysis": "analyze-video", "input": {}}, "http://a/",
                              "obj", None, webhook_url="http://127.0.0.1:9/"), timedelta(days=1))
    store.claim(job.id, LEASE)
    store.fail(job.id, 1, 422, "The uploaded file is empty.", timedelta(days=30))
    sender = WebhookSender(store, secrets, Backoff(2, 1, 2, 10), timeout_s=2, allowed_networks=(),
                           lease_timeout=LEASE)
    assert sender.deliver(job.id, 1) == 1
    clock.advance(timedelta(seconds=1))
    assert sender.deliver(job.id, 2) is None
    seen = store.get("alice", job.id)
    assert seen.webhook_state == "failed"
    assert all(a.status_code is None and "private" in a.error for a in seen.webhook_history)


def test_the_readme_verification_snippet_accepts_our_deliveries_and_nothing_else():
    """The README's plain-Python verifier, run as printed, on a delivery signed as the service signs one."""
    import re
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    (snippet,) = [block for block in re.findall(r"```python\n(.*?)```", readme, re.S)
                  if "def verify_softskills_webhook" in block]
    namespace: dict = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    verify_readme = namespace["verify_softskills_webhook"]
    old, current = "whsec_" + "a" * 43 + "=", "whsec_" + "b" * 43 + "="
    body, now = b'{"type":"job.failed","data":{"id":"job_x"}}', int(time.time())
    signatures = " ".join(sign(secret, "job_x_failed", now, body) for secret in (current, old))
    headers = {"webhook-id": "job_x_failed", "webhook-timestamp": str(now), "webhook-signature": signatures}
    assert verify_readme(current, headers, body) and verify_readme(old, headers, body)  # during a rotation
    assert not verify_readme("whsec_" + "c" * 43 + "=", headers, body)
    assert not verify_readme(current, headers, body.replace(b"failed", b"succeeded"))
    assert not verify_readme(current, {**headers, "webhook-timestamp": str(now - 600)}, body)
