"""S3-compatible store (AWS S3, MinIO, Ceph, ...) with boto3 presigned GET URLs.

Object keys carry their expiry (`<prefix><expires_unix>-<uuid>.<ext>`), so `purge_expired` deletes by listing,
without a database; a bucket lifecycle rule is a good second line on AWS. Credentials come from boto3's usual
chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, or an instance role).
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import BinaryIO

from softskills.storage.base import CONTENT_TYPES, StoredVideo

MAX_PRESIGNED_TTL_S = 7 * 24 * 3600  # SigV4's limit


class S3VideoStore:
    def __init__(
        self,
        bucket: str,
        ttl_s: int,
        *,
        prefix: str = "videos/",
        endpoint_url: str | None = None,
        region: str | None = None,
        client=None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < ttl_s <= MAX_PRESIGNED_TTL_S:
            raise ValueError(f"presigned URLs live at most {MAX_PRESIGNED_TTL_S} s")
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3", endpoint_url=endpoint_url, region_name=region, config=Config(signature_version="s3v4")
            )
        self._s3, self.bucket, self.prefix, self.ttl_s, self._clock = client, bucket, prefix, ttl_s, clock
        self.endpoint_url = endpoint_url
        self._name = re.compile(
            re.escape(prefix) + r"(\d{1,12})-[0-9a-f]{32}\.(?:" + "|".join(CONTENT_TYPES) + ")", re.ASCII
        )

    def put(self, source: BinaryIO, extension: str, base_url: str, ttl_s: int | None = None) -> StoredVideo:
        if extension not in CONTENT_TYPES:
            raise ValueError(f"unsupported extension {extension!r}")
        ttl_s = ttl_s or self.ttl_s
        expires_unix = int(self._clock()) + ttl_s
        key = f"{self.prefix}{expires_unix}-{uuid.uuid4().hex}.{extension}"
        self._s3.upload_fileobj(source, self.bucket, key, ExtraArgs={"ContentType": CONTENT_TYPES[extension]})
        url = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=min(ttl_s, MAX_PRESIGNED_TTL_S)
        )
        return StoredVideo(key, url, datetime.fromtimestamp(expires_unix, timezone.utc))

    def open(self, object_id: str) -> BinaryIO:
        """Downloads the object into an anonymous temporary file (decoding needs a seekable file)."""
        from botocore.exceptions import ClientError

        if self._name.fullmatch(object_id) is None:
            raise FileNotFoundError(object_id)
        local = tempfile.TemporaryFile()
        try:
            self._s3.download_fileobj(self.bucket, object_id, local)
        except ClientError as error:
            local.close()
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise FileNotFoundError(object_id) from None
            raise
        local.seek(0)
        return local

    def delete(self, object_id: str) -> None:
        if self._name.fullmatch(object_id) is not None:
            self._s3.delete_object(Bucket=self.bucket, Key=object_id)

    def free_bytes(self) -> None:
        return None  # a bucket has no free space to run out of; the byte quotas bound it

    def purge_expired(self) -> int:
        now = self._clock()
        expired = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                match = self._name.fullmatch(item["Key"])
                if match is not None and int(match.group(1)) <= now:
                    expired.append({"Key": item["Key"]})
        for start in range(0, len(expired), 1000):  # DeleteObjects takes at most 1000 keys
            self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": expired[start : start + 1000]})
        return len(expired)
