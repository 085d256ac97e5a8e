"""Landmarks deployment: MediaPipe Face Mesh (478 points with irises) and Pose (33 body points) over ordered frame
chunks. Pose shares the replica (and its cores) rather than a deployment of its own: it reads a subsample of the
same chunks, and one more replica of MediaPipe on a 2-core machine only adds contention (docs/benchmarks.md)."""

from __future__ import annotations

import asyncio

import numpy as np
from ray import serve

from softskills.deployments.config import FaceOptions


@serve.deployment(ray_actor_options={"num_cpus": 1}, max_ongoing_requests=4)
class FaceLandmarksDeployment:
    def __init__(self, options: dict | None = None):
        from softskills.models.body.pose import PoseLandmarker
        from softskills.models.face.landmarks import FaceLandmarker

        opts = FaceOptions(**(options or {}))
        self._landmarker = FaceLandmarker(min_detection_confidence=opts.min_detection_confidence,
                                          min_tracking_confidence=opts.min_tracking_confidence)
        self._pose = PoseLandmarker(min_detection_confidence=opts.min_detection_confidence,
                                    min_tracking_confidence=opts.min_tracking_confidence)

    async def landmarks(self, frames: np.ndarray, frame_times_s: np.ndarray):
        """Returns a models.face.landmarks.FaceTrack for these frames (tracking state does not cross calls)."""
        return await asyncio.to_thread(self._landmarker.landmarks, frames, frame_times_s)

    async def pose(self, frames: np.ndarray, frame_times_s: np.ndarray):
        """Returns a models.body.pose.PoseTrack for these frames (tracking state does not cross calls)."""
        return await asyncio.to_thread(self._pose.landmarks, frames, frame_times_s)
