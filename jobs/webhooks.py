"""Signed job notifications, per the Standard Webhooks scheme (https://www.standardwebhooks.com/):

    webhook-id:        the event's id, the same on every attempt of that event
    webhook-timestamp: the attempt's Unix time in seconds
    webhook-signature: "v1," + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")), space-separated when the
                       previous secret still signs during a rotation

The key is the base64 part of the owner's `whsec_...` secret. Secrets are stored encrypted (AES-GCM under a key
derived from the key store's pepper, bound to the owner), so the database alone cannot forge deliveries.

Every URL passes the SSRF guard, at submission and again at each attempt (DNS may change in between): http or https,
no credentials, and every address the host resolves to public, unless it lies in a network the operator allowed.
The request goes to the address that was checked (the Host header and TLS name stay the URL's host), so a second
DNS answer cannot redirect it; redirects are not followed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import certifi
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from softskills.auth.hashing import Pepper
from softskills.db.base import utc_now
from softskills.db.engine import connect
from softskills.jobs.errors import WebhookSecretMissing, WebhookSecretUnreadable, WebhookUrlRefused
from softskills.jobs.store import (
    MAX_URL_CHARS,
    MAX_WEBHOOK_ERROR_CHARS,
    AttemptRecord,
    JobRecord,
    JobStore,
    WebhookSecret,
)

logger = logging.getLogger("ray.serve")

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
_NONCE_BYTES = 12
_KEY_INFO = b"softskills webhook signing secrets v1"
MAX_ANSWER_BYTES = 4096  # of a receiver's answer: its status line is all that counts
_STATUS_LINE = re.compile(rb"HTTP/1\.[0-9] ([1-5][0-9][0-9])(?: [^\r\n]*)?")
INTERNAL_ERROR = "The attempt failed inside this server (the error is in its log); it is retried on the schedule."
# IPv6 prefixes whose last 32 bits are an IPv4 address the packet is translated to: NAT64's well-known prefix, SIIT's
# IPv4-translated and the deprecated IPv4-compatible addresses (with `::` and `::1`, which carry 0.0.0.0 and 0.0.0.1).
_LOW_32_BITS_IPV4 = tuple(ipaddress.IPv6Network(n) for n in ("64:ff9b::/96", "::ffff:0:0:0/96", "::/96"))
# Never public, whatever the Python version's tables say (3.11 counts both as global): NAT64's local-use prefix
# (RFC 8215, where the IPv4 part sits wherever the operator's prefix length puts it) and site-local (RFC 3879).
_NEVER_PUBLIC_IPV6 = tuple(ipaddress.IPv6Network(n) for n in ("64:ff9b:1::/48", "fec0::/10"))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,<base64>` signature of one delivery."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify(
    secret: str, headers: dict[str, str], body: bytes, tolerance_s: int = 300, now: Callable[[], float] = time.time
) -> bool:
    """What a receiver does (docs/jobs.md shows the same in a few lines): a signature that matches, on a recent
    timestamp."""
    timestamp = headers.get("webhook-timestamp", "")
    if not timestamp.isdigit() or abs(now() - int(timestamp)) > tolerance_s:
        return False
    expected = sign(secret, headers.get("webhook-id", ""), int(timestamp), body)
    return any(hmac.compare_digest(expected, candidate) for candidate in headers.get("webhook-signature", "").split())


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


class SecretBox:
    """AES-GCM under HKDF(pepper): the owner is the associated data, so a row copied to another owner fails."""

    def __init__(self, pepper: Pepper) -> None:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(pepper.secret)
        self._key, self.pepper_version = key, pepper.version

    def seal(self, owner: str, secret: str) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self._key).encrypt(nonce, secret.encode(), owner.encode())

    def open(self, owner: str, sealed: bytes) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(self._key).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], owner.encode()).decode()


@dataclass(frozen=True)
class SecretInfo:
    created_at: datetime
    previous_valid_until: datetime | None


class WebhookSecrets:
    """Each owner's signing secret: created or rotated on request (and shown only then), read to sign."""

    def __init__(self, url: str, box: SecretBox, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._sessions = sessionmaker(connect(url), expire_on_commit=False)
        self._box, self._clock = box, clock

    def rotate(self, owner: str, grace: timedelta) -> tuple[str, SecretInfo]:
        """A new secret (returned once); the one it replaces still signs until now + grace."""
        secret, now = new_secret(), self._clock()
        with self._sessions.begin() as session:
            row = session.get(WebhookSecret, owner, with_for_update=True)
            sealed = self._box.seal(owner, secret)
            if row is None:
                session.add(
                    WebhookSecret(
                        owner=owner, ciphertext=sealed, pepper_version=self._box.pepper_version, created_at=now
                    )
                )
                return secret, SecretInfo(now, None)
            keep_previous = grace > timedelta(0)
            row.previous_ciphertext = row.ciphertext if keep_previous else None
            row.previous_pepper_version = row.pepper_version if keep_previous else None
            row.previous_valid_until = now + grace if keep_previous else None
            row.ciphertext, row.pepper_version, row.created_at = sealed, self._box.pepper_version, now
            return secret, SecretInfo(now, row.previous_valid_until)

    def info(self, owner: str) -> SecretInfo | None:
        with self._sessions() as session:
            row = session.get(WebhookSecret, owner)
            return None if row is None else SecretInfo(row.created_at, row.previous_valid_until)

    def signing_secrets(self, owner: str) -> list[str]:
        """The current secret, then the previous one while its grace lasts; WebhookSecretMissing without one,
        WebhookSecretUnreadable when the pepper has changed since it was sealed."""
        with self._sessions() as session:
            row = session.scalars(select(WebhookSecret).where(WebhookSecret.owner == owner)).one_or_none()
        if row is None:
            raise WebhookSecretMissing()
        from cryptography.exceptions import InvalidTag

        try:
            found = [self._box.open(owner, row.ciphertext)]
            if row.previous_ciphertext is not None and row.previous_valid_until > self._clock():
                found.append(self._box.open(owner, row.previous_ciphertext))
        except InvalidTag:  # sealed under another pepper
            raise WebhookSecretUnreadable() from None
        return found


@dataclass(frozen=True)
class Target:
    """A checked webhook URL: where to connect (a vetted address) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def check_url(
    url: str, allowed_networks: tuple[str, ...] = (), resolve: Callable[[str, int], list[str]] | None = None
) -> Target:
    """The URL as a Target, or WebhookUrlRefused saying why. Blocking (DNS): call it from a worker thread."""
    if len(url) > MAX_URL_CHARS or not url.isascii() or any(c.isspace() or ord(c) < 32 for c in url):
        raise WebhookUrlRefused(f"The webhook URL must be at most {MAX_URL_CHARS} printable ASCII characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlRefused("The webhook URL is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlRefused("The webhook URL must be an http or https URL with a host.")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused("The webhook URL may not carry credentials; verify deliveries by their signature.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = (resolve or _resolve)(parts.hostname, port)
    except OSError:
        raise WebhookUrlRefused("The webhook URL's host could not be resolved.") from None
    if not addresses:
        raise WebhookUrlRefused("The webhook URL's host could not be resolved.")
    networks = [ipaddress.ip_network(network) for network in allowed_networks]
    for address in addresses:
        if not _allowed(ipaddress.ip_address(address), networks):
            raise WebhookUrlRefused(
                "The webhook URL resolves to a private, loopback, link-local or reserved "
                "address (or an IPv6 address that carries one), which this server does not "
                "call."
            )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0].split("%")[0] for info in infos))


def _allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: list) -> bool:
    """Public, or in a network the operator allowed. An IPv6 address that carries IPv4 addresses (a transition
    form: the packet ends up at those) is judged by them, so `64:ff9b::127.0.0.1` is loopback."""
    if any(ip in network for network in networks):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        carried = embedded_ipv4(ip)
        if carried:
            return all(_allowed(v4, networks) for v4 in carried)
        if any(ip in network for network in _NEVER_PUBLIC_IPV6):
            return False
    return ip.is_global and not ip.is_multicast


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address stands for: IPv4-mapped `::ffff:a.b.c.d`, SIIT `::ffff:0:a.b.c.d`,
    IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` (RFC 6052), 6to4 `2002:AABB:CCDD::/48` and Teredo's
    server and client (RFC 4380); none for any other address."""
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip.teredo is not None:
        return ip.teredo
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if any(ip in network for network in _LOW_32_BITS_IPV4):
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    return ()


@dataclass(frozen=True)
class Backoff:
    """Delivery attempts: the first at once, then waits of first_retry_s, × factor each time, capped."""

    max_attempts: int
    first_retry_s: float
    factor: float
    max_delay_s: float

    def delay_after(self, attempt: int) -> float | None:
        """Seconds before attempt `attempt + 1`, or None when `attempt` was the last."""
        if attempt >= self.max_attempts:
            return None
        return min(self.max_delay_s, self.first_retry_s * self.factor ** (attempt - 1))


def event_body(job: JobRecord, job_url: str, now: datetime) -> bytes:
    """The delivery's JSON: the event type and the job without its result (GET the job's URL for that)."""
    error = None if job.error_status is None else {"status_code": job.error_status, "detail": job.error_detail}
    data = {
        "id": job.id,
        "status": job.status,
        "analysis": job.analysis,
        "url": job_url,
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at),
        "attempts": job.attempts,
        "overall_score": job.overall_score,
        "error": error,
    }
    return json.dumps(
        {"type": f"job.{job.status}", "timestamp": _iso(now), "data": data}, separators=(",", ":")
    ).encode()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


@dataclass
class WebhookSender:
    """Makes one delivery attempt of a finished job's webhook and records it; says when the next one is due.

    An attempt has one deadline, `timeout_s`, for resolving, connecting, sending and reading the answer, however
    slowly the receiver trickles it; only the answer's status line is read (at most MAX_ANSWER_BYTES), never its
    body. Whatever goes wrong inside an attempt is a failed attempt on the retry schedule. The attempt's claim in the
    database lasts `timeout_s` + `lease_timeout`, so no other sender starts it while this one may still be talking
    to the receiver."""

    store: JobStore
    secrets: WebhookSecrets
    backoff: Backoff
    timeout_s: float
    allowed_networks: tuple[str, ...]
    lease_timeout: timedelta
    public_base_url: str | None = None
    tls: ssl.SSLContext = field(default_factory=lambda: ssl.create_default_context(cafile=certifi.where()))

    @property
    def attempt_lease(self) -> timedelta:
        return self.lease_timeout + timedelta(seconds=self.timeout_s)

    def deliver(self, job_id: str, attempt: int) -> float | None:
        """Seconds until attempt + 1 should run, or None (delivered, given up, or not this attempt's turn)."""
        job = self.store.webhook_due(job_id, attempt, self.attempt_lease, self.backoff.max_attempts)
        if job is None:
            return None
        started, clock_started = self.store.clock(), time.monotonic()
        try:
            status_code, error = self._post(job, started)
        except Exception as exc:  # a database error, a bug: a failed attempt like any other, never one left hanging
            logger.error("webhook attempt %d of job %s failed", attempt, job_id, exc_info=exc)
            status_code, error = None, INTERNAL_ERROR
        delivered = status_code is not None and 200 <= status_code < 300
        delay = None if delivered else self.backoff.delay_after(attempt)
        next_at = None if delay is None else self.store.clock() + timedelta(seconds=delay)
        record = AttemptRecord(attempt, started, status_code, error, int((time.monotonic() - clock_started) * 1000))
        if not self.store.record_webhook_attempt(job_id, record, next_at, delivered):
            logger.warning(
                "webhook attempt %d of job %s outlived its claim; the next attempt counted it as failed",
                attempt,
                job_id,
            )
            return None
        return delay

    def _post(self, job: JobRecord, now: datetime) -> tuple[int | None, str | None]:
        try:
            signing = self.secrets.signing_secrets(job.owner)
            deadline = time.monotonic() + self.timeout_s
            target = _within(deadline, check_url, job.webhook_url, self.allowed_networks)
        except (WebhookUrlRefused, WebhookSecretMissing, WebhookSecretUnreadable) as refused:
            return None, str(refused)[:MAX_WEBHOOK_ERROR_CHARS]
        except TimeoutError:
            return None, f"No answer within {self.timeout_s:g} s (resolving the host)."
        base = (self.public_base_url or job.base_url).rstrip("/")
        body = event_body(job, f"{base}/api/v1/jobs/{job.id}", now)
        message_id, timestamp = f"{job.id}_{job.status}", int(now.timestamp())
        headers = {
            "host": target.host_header(),
            "content-type": "application/json",
            "content-length": str(len(body)),
            "connection": "close",
            "user-agent": "softskills-webhooks/1",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(sign(s, message_id, timestamp, body) for s in signing),
        }
        request = (
            f"POST {target.path} HTTP/1.1\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            + "\r\n"
        ).encode() + body
        try:
            status_code = _exchange(target, request, deadline, self.tls)
        except TimeoutError:
            return None, f"No answer within {self.timeout_s:g} s."
        except InvalidAnswer as exc:
            return None, f"The answer was not HTTP ({exc})."
        except OSError as exc:  # refused, reset, unreachable, a TLS failure
            return None, f"Could not connect ({type(exc).__name__})."
        return status_code, None if 200 <= status_code < 300 else f"HTTP {status_code}"


class InvalidAnswer(Exception):
    """The receiver answered something other than an HTTP status line."""


def _left(deadline: float) -> float:
    """Seconds until `deadline` (time.monotonic()); TimeoutError once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError()
    return left


def _within(deadline: float, work: Callable, *args):
    """`work(*args)` on a thread of its own, given up at the deadline: the system resolver has no timeout of ours,
    and a thread left resolving holds nothing that another attempt needs."""
    from concurrent.futures import Future

    outcome: Future = Future()

    def run():
        try:
            outcome.set_result(work(*args))
        except Exception as exc:
            outcome.set_exception(exc)

    threading.Thread(target=run, name="webhook-resolve", daemon=True).start()
    return outcome.result(timeout=_left(deadline))


def _exchange(target: Target, request: bytes, deadline: float, tls: ssl.SSLContext) -> int:
    """Sends `request` to the target's checked address and returns the answer's status code. Each connect, TLS
    handshake, send and receive gets only the time left before `deadline`; at most MAX_ANSWER_BYTES are read."""
    sock = socket.create_connection((target.address, target.port), timeout=_left(deadline))
    try:
        if target.scheme == "https":
            sock = tls.wrap_socket(sock, server_hostname=target.host, do_handshake_on_connect=False)
            sock.settimeout(_left(deadline))
            sock.do_handshake()
        unsent = memoryview(request)
        while unsent:
            sock.settimeout(_left(deadline))
            unsent = unsent[sock.send(unsent) :]
        answer = b""
        while (status_code := _final_status(answer)) is None:
            if len(answer) >= MAX_ANSWER_BYTES:
                raise InvalidAnswer(f"no status line in its first {MAX_ANSWER_BYTES} bytes")
            sock.settimeout(_left(deadline))
            received = sock.recv(MAX_ANSWER_BYTES - len(answer))
            if not received:
                raise InvalidAnswer("the connection closed before a status line")
            answer += received
        return status_code
    finally:
        sock.close()


def _final_status(answer: bytes) -> int | None:
    """The final status code at the start of an HTTP/1.x answer, past any interim 1xx answers; None until its
    status line is complete."""
    while (line_end := answer.find(b"\r\n")) >= 0:
        status_line = _STATUS_LINE.fullmatch(answer[:line_end])
        if status_line is None:
            raise InvalidAnswer("a malformed status line")
        if int(status_line[1]) >= 200:
            return int(status_line[1])
        interim_end = answer.find(b"\r\n\r\n")
        if interim_end < 0:
            return None
        answer = answer[interim_end + 4 :]
    return None
