"""Video storage: the local store's signed, expiring URLs (served with Range support) and S3 via a moto server."""

from __future__ import annotations

import io
import os
import re
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from softskills.api.errors import install_error_handler
from softskills.api.routes.media import router
from softskills.storage.factory import STORAGE_FAILED_REASON, SavedVideo, VideoStorage
from softskills.storage.local import LocalVideoStore, load_signing_key
from softskills.storage.quota import VideoLedger, VideoQuota
from tests.auth_support import postgres_url, store_url  # noqa: F401  (fixtures)

KEY = b"storage-test-key-" + b"0" * 32
VIDEO = bytes(range(256)) * 40  # 10240 bytes, every offset distinguishable


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def local_store(tmp_path, clock):
    return LocalVideoStore(tmp_path / "videos", KEY, ttl_s=3600, clock=clock)


@pytest.fixture
def client(local_store) -> TestClient:
    app = FastAPI()
    app.state.media = local_store
    app.include_router(router)
    install_error_handler(app)
    return TestClient(app, base_url="http://testserver")


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_signed_url_serves_the_upload(local_store, client):
    stored = local_store.put(io.BytesIO(VIDEO), "mp4", "http://testserver/")
    assert stored.url.startswith("http://testserver/media/")
    assert stored.expires_at.timestamp() == 1_800_000_000 + 3600
    response = client.get(_path_and_query(stored.url))
    assert response.status_code == 200
    assert response.content == VIDEO
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes"


def test_range_request_gets_206_with_the_exact_bytes(local_store, client):
    url = _path_and_query(local_store.put(io.BytesIO(VIDEO), "webm", "").url)
    response = client.get(url, headers={"Range": "bytes=1000-1099"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 1000-1099/{len(VIDEO)}"
    assert response.content == VIDEO[1000:1100]
    tail = client.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == VIDEO[-10:]
    assert client.get(url, headers={"Range": f"bytes={len(VIDEO) + 5}-"}).status_code == 416


@pytest.mark.parametrize("digits", ["١٨٠٠٠٠٣٦٠٠", "１８００００３６００", "߁߈߀߀߀߀߃߆߀߀"])
def test_unicode_digits_in_a_media_name_get_403(local_store, client, digits):
    """Arabic-Indic, full-width and N'Ko digits match a Unicode `\\d`; such a name used to fail as it was signed."""
    stored = local_store.put(io.BytesIO(VIDEO), "mp4", "")
    path, query = _path_and_query(stored.url).split("?")
    forged = f"/media/{digits}-{stored.object_id.split('-', 1)[1]}?{query}"
    response = client.get(forged)
    assert response.status_code == 403
    assert response.json() == {"detail": "This video link is invalid or has expired."}
    assert client.get(f"{path}?{query}").status_code == 200  # the store still serves real links


def test_video_directory_is_created_private(tmp_path):
    LocalVideoStore(tmp_path / "var" / "videos", KEY, ttl_s=60)
    assert oct((tmp_path / "var" / "videos").stat().st_mode & 0o777) == "0o700"


def test_expired_url_gets_403_and_the_file_is_deleted(local_store, client, clock):
    stored = local_store.put(io.BytesIO(VIDEO), "mp4", "")
    clock.now += 3599
    assert client.get(_path_and_query(stored.url)).status_code == 200
    clock.now += 1  # valid while now < expiry
    response = client.get(_path_and_query(stored.url))
    assert response.status_code == 403
    assert response.json() == {"detail": "This video link is invalid or has expired."}
    assert not (local_store.root / stored.object_id).exists()


@pytest.mark.parametrize("tamper", ["signature", "expiry", "other_file"])
def test_tampered_url_gets_403(local_store, client, tamper):
    stored = local_store.put(io.BytesIO(VIDEO), "mp4", "")
    other = local_store.put(io.BytesIO(b"other"), "mp4", "")
    path, query = _path_and_query(stored.url).split("?")
    signature = parse_qs(query)["signature"][0]
    if tamper == "signature":
        url = f"{path}?signature={signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"
    elif tamper == "expiry":  # push the expiry in the name a day later, keeping the old signature
        expires, rest = stored.object_id.split("-", 1)
        url = f"/media/{int(expires) + 86400}-{rest}?signature={signature}"
    else:
        url = f"/media/{other.object_id}?signature={signature}"
    assert client.get(url).status_code == 403
    assert client.get(path).status_code == 403  # no signature at all


def test_purge_deletes_only_expired_files(local_store, clock):
    old = local_store.put(io.BytesIO(VIDEO), "mp4", "")
    clock.now += 1800
    new = local_store.put(io.BytesIO(VIDEO), "mov", "")
    clock.now += 1800  # old is now expired, new has 1800 s left
    assert local_store.purge_expired() == 1
    assert sorted(p.name for p in local_store.root.iterdir()) == [new.object_id]
    assert old.object_id != new.object_id


def test_signing_key_is_generated_once_and_shared(tmp_path, monkeypatch):
    monkeypatch.delenv("SOFTSKILLS_STORAGE_KEY", raising=False)
    first = load_signing_key(tmp_path)
    assert len(first) >= 32 and load_signing_key(tmp_path) == first
    assert oct((tmp_path / "storage_key").stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("SOFTSKILLS_STORAGE_KEY", "k" * 40)
    assert load_signing_key(tmp_path) == b"k" * 40


def test_storage_off_builds_no_store(tmp_path):
    from softskills.storage.factory import build_video_store

    assert build_video_store("off", url_ttl_s=60, data_dir=tmp_path) is None


@pytest.fixture(scope="module")
def s3_endpoint():
    """A real S3-compatible HTTP server (moto) on a free port, for the duration of the module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_store(s3_endpoint, clock, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "softskills-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "softskills-test-secret")
    bucket = f"videos-{os.getpid()}-{time.monotonic_ns()}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    from softskills.storage.s3 import S3VideoStore

    return S3VideoStore(bucket, 600, endpoint_url=s3_endpoint, region="us-east-1", clock=clock)


def test_s3_presigned_url_serves_the_upload_with_ranges(s3_store, s3_endpoint):
    stored = s3_store.put(io.BytesIO(VIDEO), "mp4", "ignored")
    assert stored.url.startswith(f"{s3_endpoint}/{s3_store.bucket}/videos/")
    query = parse_qs(urlsplit(stored.url).query)
    assert query["X-Amz-Expires"] == ["600"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    full = httpx.get(stored.url)
    assert full.status_code == 200 and full.content == VIDEO
    assert full.headers["content-type"] == "video/mp4"
    part = httpx.get(stored.url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == VIDEO[100:200]


def test_s3_purge_deletes_expired_objects(s3_store, clock):
    old = s3_store.put(io.BytesIO(VIDEO), "mp4", "")
    clock.now += 300
    new = s3_store.put(io.BytesIO(VIDEO), "webm", "")
    clock.now += 300
    assert s3_store.purge_expired() == 1
    listed = s3_store._s3.list_objects_v2(Bucket=s3_store.bucket)["Contents"]
    assert [item["Key"] for item in listed] == [new.object_id]
    assert re.fullmatch(r"videos/\d+-[0-9a-f]{32}\.mp4", old.object_id)


def test_video_storage_saves_a_decoded_upload_from_its_start(tmp_path, talking_head):
    store = LocalVideoStore(tmp_path / "videos", KEY, ttl_s=60)
    storage = VideoStorage(
        store, _ledger(f"sqlite:///{tmp_path / 'db.sqlite'}", 60), "https://videos.example", purge_interval_s=3600
    )
    with open(talking_head.path, "rb") as upload:
        upload.read()  # where the ingress leaves it after decoding
        saved = storage.save(upload, "http://127.0.0.1:8000/", "alice")
    url = saved.url
    assert saved.reason is None and storage.ledger.usage_bytes("alice") == os.path.getsize(talking_head.path)
    assert url.startswith("https://videos.example/media/") and url.split("?")[0].endswith(".mp4")
    name = url.split("/media/")[1].split("?")[0]
    assert (store.root / name).read_bytes() == open(talking_head.path, "rb").read()
    assert storage.media_origins == ("https://videos.example",)


# Quotas: the ledger's rows live in the key store's database (SQLite here, and PostgreSQL with the marker).
GIB = 1024**3


def _ledger(
    url: str, ttl_s: int, clock=time.time, *, per_owner: int = GIB, total: int = 10 * GIB, min_free: int = 0
) -> VideoLedger:
    return VideoLedger(url, VideoQuota(per_owner, total, min_free), ttl_s, clock=clock)


def _storage(store, url: str, clock, **quota) -> VideoStorage:
    return VideoStorage(store, _ledger(url, store.ttl_s, clock, **quota), None, purge_interval_s=3600)


def _upload(path) -> io.BufferedReader:
    upload = open(path, "rb")
    upload.read()  # where the ingress leaves it after decoding
    return upload


def test_owner_quota_refuses_with_a_reason_and_keeps_nothing(tmp_path, clock, talking_head, store_url):
    size = os.path.getsize(talking_head.path)
    store = LocalVideoStore(tmp_path / "videos", KEY, ttl_s=3600, clock=clock)
    storage = _storage(store, store_url, clock, per_owner=int(2.5 * size))
    for _ in range(2):
        assert storage.save(_upload(talking_head.path), "http://x/", "alice").url is not None
    refused = storage.save(_upload(talking_head.path), "http://x/", "alice")
    assert refused.url is None
    assert refused.reason == (
        f"Not stored: this video would take the owner's stored videos over the "
        f"{2.5 * size / 2**20:g} MB quota per owner. Space is freed as earlier videoUrls expire."
    )
    assert len(list(store.root.iterdir())) == 2 and storage.ledger.usage_bytes("alice") == 2 * size
    assert storage.save(_upload(talking_head.path), "http://x/", "bob").url is not None  # bob has his own quota
    clock.now += 3600  # the URLs expire: the purge deletes the files and frees the quota
    assert storage.purge_expired() == 3
    assert list(store.root.iterdir()) == [] and storage.ledger.usage_bytes() == 0
    assert storage.save(_upload(talking_head.path), "http://x/", "alice").url is not None


def test_total_quota_and_free_disk_refuse_with_reasons(tmp_path, clock, talking_head):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    size = os.path.getsize(talking_head.path)
    store = LocalVideoStore(tmp_path / "videos", KEY, ttl_s=3600, clock=clock)
    storage = _storage(store, url, clock, total=int(1.5 * size))
    assert storage.save(_upload(talking_head.path), "", "alice").url is not None
    full = storage.save(_upload(talking_head.path), "", "bob")
    assert full.url is None and full.reason.startswith("Not stored: the service's video store is full")
    low_disk = _storage(store, url, clock, min_free=shutil.disk_usage(tmp_path).free + GIB)
    refused = low_disk.save(_upload(talking_head.path), "", "carol")
    assert refused == SavedVideo(None, "Not stored: the server is low on disk space.")
    assert len(list(store.root.iterdir())) == 1


def test_parallel_uploads_cannot_both_pass_a_quota_only_one_fits(tmp_path, clock, store_url, talking_head):
    """Eight threads store a 16 MB upload at once under a quota for one: exactly one is kept."""
    upload_path = tmp_path / "upload.mp4"
    video = open(talking_head.path, "rb").read()
    upload_path.write_bytes(video + bytes(16 * 1024 * 1024 - len(video)))  # an mp4 as the sniffer sees it
    size = upload_path.stat().st_size
    store = LocalVideoStore(tmp_path / "videos", KEY, ttl_s=3600, clock=clock)
    storage = _storage(store, store_url, clock, per_owner=int(1.5 * size))
    start = threading.Barrier(8)

    def save(_):
        upload = _upload(upload_path)
        start.wait()
        return storage.save(upload, "", "alice")

    with ThreadPoolExecutor(8) as pool:
        saved = list(pool.map(save, range(8)))
    assert sum(result.url is not None for result in saved) == 1
    assert all("quota per owner" in result.reason for result in saved if result.url is None)
    assert [path.stat().st_size for path in store.root.iterdir()] == [size]
    assert storage.ledger.usage_bytes("alice") == size


def test_a_failed_copy_gives_its_quota_back(tmp_path, clock, talking_head):
    store = LocalVideoStore(tmp_path / "videos", KEY, ttl_s=3600, clock=clock)
    storage = _storage(store, f"sqlite:///{tmp_path / 'db.sqlite'}", clock)
    shutil.rmtree(store.root)  # the volume went away under the running service
    failed = storage.save(_upload(talking_head.path), "", "alice")
    assert failed == SavedVideo(None, STORAGE_FAILED_REASON) and storage.ledger.usage_bytes() == 0


def test_s3_owner_quota(s3_store, clock, tmp_path, talking_head):
    size = os.path.getsize(talking_head.path)
    storage = _storage(s3_store, f"sqlite:///{tmp_path / 'db.sqlite'}", clock, per_owner=int(1.5 * size))
    assert (
        httpx.get(storage.save(_upload(talking_head.path), "", "alice").url).content
        == open(talking_head.path, "rb").read()
    )
    assert "quota per owner" in storage.save(_upload(talking_head.path), "", "alice").reason
    assert len(s3_store._s3.list_objects_v2(Bucket=s3_store.bucket)["Contents"]) == 1
    clock.now += 600
    assert storage.purge_expired() == 1 and storage.ledger.usage_bytes() == 0
