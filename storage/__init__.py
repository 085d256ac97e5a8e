"""Temporary storage of uploaded videos behind expiring URLs: a local HMAC-signed store or S3 (boto3)."""

from softskills.storage.base import StoredVideo, VideoStore
from softskills.storage.factory import build_video_store

__all__ = ["StoredVideo", "VideoStore", "build_video_store"]
