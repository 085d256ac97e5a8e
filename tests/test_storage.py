"""Video storage: the local store's signed, expiring URLs (served with Range support) and S3 via a moto server."""

from __future__ import annotations

import io
import os
import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from storage.local import LocalVideoStore, load_signing_key
from storage.routes import router, serve_local_store

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
    store = LocalVideoStore(tmp_path / "videos", KEY, ttl_s=3600, clock=clock)
    serve_local_store(store)
    yield store
    serve_local_store(None)


@pytest.fixture
def client(local_store) -> TestClient:
    app = FastAPI()
    app.include_router(router)
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
    from storage.factory import build_video_store

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
    from storage.s3 import S3VideoStore

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
    from storage.factory import VideoStorage

    store = LocalVideoStore(tmp_path / "videos", KEY, ttl_s=60)
    storage = VideoStorage(store, "https://videos.example", purge_interval_s=3600)
    with open(talking_head.path, "rb") as upload:
        upload.read()  # where the ingress leaves it after decoding
        url = storage.save(upload, "http://127.0.0.1:8000/")
    assert url.startswith("https://videos.example/media/") and url.split("?")[0].endswith(".mp4")
    name = url.split("/media/")[1].split("?")[0]
    assert (store.root / name).read_bytes() == open(talking_head.path, "rb").read()
    assert storage.media_origins == ("https://videos.example",)
