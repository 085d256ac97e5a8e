"""Landmarks deployment: Face Mesh (478 points with irises) and Pose (33 body points) over ordered frame chunks.
Pose shares the replica (and its cores) rather than a deployment of its own: it reads a subsample of the same
chunks, and one more replica of MediaPipe on a 2-core machine only adds contention (docs/benchmarks.md).

Two runtimes of the same wheel models (`face.runtime`): MediaPipe's graphs, one frame at a time (the CPU default),
or the converted models batched on ONNX Runtime / torch, where the chunks of concurrent requests are tracked
together (@serve.batch) so each network sees one batch per frame step — the GPU configuration."""

from __future__ import annotations

import asyncio

import numpy as np
from ray import serve

from softskills.config.options import FaceOptions


@serve.deployment(ray_actor_options={"num_cpus": 1}, max_ongoing_requests=4)
class FaceLandmarksDeployment:
    def __init__(self, options: dict | None = None):
        opts = FaceOptions(**(options or {}))
        confidences = {
            "min_detection_confidence": opts.min_detection_confidence,
            "min_tracking_confidence": opts.min_tracking_confidence,
        }
        if opts.runtime == "onnx":
            from softskills.models.body.pose import BatchedPoseLandmarker
            from softskills.models.face.mesh_network import BatchedFaceLandmarker

            self._landmarker = BatchedFaceLandmarker(**confidences, device=opts.device, cpu_threads=opts.cpu_threads)
            self._pose = BatchedPoseLandmarker(**confidences, device=opts.device, cpu_threads=opts.cpu_threads)
            for batched in (self._face_batch, self._pose_batch):
                batched.set_max_batch_size(opts.max_batch_size)
                batched.set_batch_wait_timeout_s(opts.batch_wait_timeout_s)
        else:
            from softskills.models.body.pose import PoseLandmarker
            from softskills.models.face.landmarks import FaceLandmarker

            self._landmarker = FaceLandmarker(**confidences)
            self._pose = PoseLandmarker(**confidences)
        self._batched = opts.runtime == "onnx"

    async def landmarks(self, frames: np.ndarray, frame_times_s: np.ndarray):
        """Returns a models.face.landmarks.FaceTrack for these frames (tracking state does not cross calls)."""
        if self._batched:
            return await self._face_batch((frames, frame_times_s))
        return await asyncio.to_thread(self._landmarker.landmarks, frames, frame_times_s)

    async def pose(self, frames: np.ndarray, frame_times_s: np.ndarray):
        """Returns a models.body.pose.PoseTrack for these frames (tracking state does not cross calls)."""
        if self._batched:
            return await self._pose_batch((frames, frame_times_s))
        return await asyncio.to_thread(self._pose.landmarks, frames, frame_times_s)

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.02)
    async def _face_batch(self, chunks: list[tuple[np.ndarray, np.ndarray]]):
        return await asyncio.to_thread(self._landmarker.landmarks_many, chunks)

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.02)
    async def _pose_batch(self, chunks: list[tuple[np.ndarray, np.ndarray]]):
        return await asyncio.to_thread(self._pose.landmarks_many, chunks)
