"""Face Mesh with irises on the converted models (models/media/landmark_runtime.py): MediaPipe's
face_landmark_front_cpu graph with `refine_landmarks=True` written out, batched across chunks. The same 478 points
in the same `FaceTrack` as `FaceLandmarker`; benchmarks/landmark_equivalence.py measures how close they are."""

from __future__ import annotations

import numpy as np

from softskills.models.face.landmarks import LANDMARK_POINTS, MESH_POINTS, FaceTrack
from softskills.models.media.landmark_runtime import FACE_DETECTOR, FACE_MESH, LandmarkNetwork, choose_device
from softskills.models.media.tracking import (
    Rect,
    box_rect,
    crop_to_tensor,
    project_landmarks,
    rotation_between,
    scaled_square,
    ssd_anchors,
    top_detection,
    track_chunks,
)

DETECTOR_STRIDES = (8, 16, 16, 16)
"""face_detection_short_range.pbtxt: 896 anchors over a 128 x 128 letterboxed image."""
DETECTOR_KEYPOINTS = 6
ROI_SCALE = 1.5
"""face_detection_front_detection_to_roi.pbtxt and face_landmark_landmarks_to_roi.pbtxt: the square region is 1.5x
the face box, rotated so the eyes are level."""
EYE_CORNERS = (33, 263)
"""The mesh points whose line sets the next region's rotation (outer corners of the eyes)."""
IRIS_DEPTH_POINTS = 16
"""Iris z = mean z of the first 16 points of that eye's contour (lower contour and upper contour without the
corners), as tensors_to_face_landmarks_with_attention.pbtxt assigns it."""
_LIPS_ROTATION_POINT, _LEFT_EYE_ROTATION_POINT, _RIGHT_EYE_ROTATION_POINT = 61, 33, 362


class BatchedFaceLandmarker:
    """Tracks the face in chunks of frames, frame t of every chunk in one batch per network. Stateless between
    calls (each chunk starts with a detection, as the MediaPipe graph's reset does), so concurrent calls may share
    it; `landmarks_many` is what the deployment's @serve.batch calls."""

    def __init__(
        self,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        device: str = "auto",
        cpu_threads: int = 1,
    ):
        self.device = choose_device(device)
        self._detector = LandmarkNetwork(FACE_DETECTOR, self.device, cpu_threads)
        self._mesh = LandmarkNetwork(FACE_MESH, self.device, cpu_threads)
        self._anchors = ssd_anchors(FACE_DETECTOR.input_size, DETECTOR_STRIDES)
        self._min_detection = min_detection_confidence
        self._min_tracking = min_tracking_confidence
        self._refinements = refinement_indexes(self._mesh)

    def landmarks(self, frames: np.ndarray, frame_times_s: np.ndarray) -> FaceTrack:
        """Frames: uint8 RGB (N, H, W, 3) in presentation order; frame_times_s: (N,) seconds."""
        return self.landmarks_many([(frames, frame_times_s)])[0]

    def landmarks_many(self, chunks: list[tuple[np.ndarray, np.ndarray]]) -> list[FaceTrack]:
        tracks = track_chunks(self, chunks, (LANDMARK_POINTS, 3))
        return [
            FaceTrack(times, points, found, width, height, "face_mesh")
            for times, points, found, width, height in tracks
        ]

    def new_state(self) -> None:
        return None

    def detect(self, frames: list[np.ndarray]) -> list[Rect | None]:
        crops = [
            crop_to_tensor(
                f,
                Rect(0.5, 0.5, 1.0, 1.0),
                FACE_DETECTOR.input_size,
                keep_aspect_ratio=True,
                zero_border=True,
                value_range=(-1.0, 1.0),
            )
            for f in frames
        ]
        boxes, scores = self._detector.run(np.stack([c.tensor for c in crops]))
        rects = []
        for frame, crop, raw_boxes, raw_scores in zip(frames, crops, boxes, scores):
            detection = top_detection(
                raw_boxes,
                raw_scores,
                self._anchors,
                FACE_DETECTOR.input_size,
                DETECTOR_KEYPOINTS,
                self._min_detection,
                crop,
            )
            if detection is None:
                rects.append(None)
                continue
            size = (frame.shape[1], frame.shape[0])
            rotation = rotation_between(detection.keypoints[0], detection.keypoints[1], size, 0.0)
            rects.append(scaled_square(box_rect(detection.box, rotation), size, ROI_SCALE))
        return rects

    def landmarks_in(self, frames: list[np.ndarray], rects: list[Rect], states: list) -> list:
        """(points (478, 3) | None, next region | None) per frame."""
        crops = [
            crop_to_tensor(
                f, r, FACE_MESH.input_size, keep_aspect_ratio=False, zero_border=False, value_range=(0.0, 1.0)
            )
            for f, r in zip(frames, rects)
        ]
        outputs = self._mesh.run(np.stack([c.tensor for c in crops]))
        results = []
        for i, (frame, rect, crop) in enumerate(zip(frames, rects, crops)):
            presence = 1.0 / (1.0 + np.exp(-float(outputs[6][i].reshape(-1)[0])))
            if not presence > self._min_tracking:
                results.append((None, None))
                continue
            crop_points = self._refined([output[i] for output in outputs[:6]])
            points = project_landmarks(crop_points, rect, crop.padding)
            size = (frame.shape[1], frame.shape[0])
            box = np.array([points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()])
            rotation = rotation_between(points[EYE_CORNERS[0]], points[EYE_CORNERS[1]], size, 0.0)
            results.append((points.astype(np.float32), scaled_square(box_rect(box, rotation), size, ROI_SCALE)))
        return results

    def _refined(self, outputs: list[np.ndarray]) -> np.ndarray:
        """LandmarksRefinementCalculator: the mesh, with lips and eyes moved to the refined x, y, and the irises
        appended with the mean depth of their eye's contour; crop-normalised (÷ 192)."""
        size = FACE_MESH.input_size
        mesh, lips, left_eye, right_eye, left_iris, right_iris = (o.reshape(-1) for o in outputs)
        points = np.empty((LANDMARK_POINTS, 3), dtype=np.float64)
        points[:MESH_POINTS] = mesh.reshape(MESH_POINTS, 3) / size
        lips_index, left_index, right_index = self._refinements
        for index, refined in ((lips_index, lips), (left_index, left_eye), (right_index, right_eye)):
            points[index, :2] = refined.reshape(-1, 2) / size
        for start, iris, eye_index in (
            (MESH_POINTS, left_iris, left_index),
            (MESH_POINTS + 5, right_iris, right_index),
        ):
            points[start : start + 5, :2] = iris.reshape(5, 2) / size
            points[start : start + 5, 2] = points[eye_index[:IRIS_DEPTH_POINTS], 2].mean()
        return points


def refinement_indexes(mesh: LandmarkNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mesh points that the lips, left-eye and right-eye outputs replace. MediaPipe's graph config lists them
    (tensors_to_face_landmarks_with_attention.pbtxt); they are the same points the model's own attention crops
    are built from, so they are read from the model's Landmarks2TransformMatrix operators rather than copied."""
    from softskills.models.media.tflite_torch import cached_plan

    plan = cached_plan(FACE_MESH.path(), FACE_MESH.sha256, FACE_MESH.outputs)
    subsets = {
        op["attributes"]["left_rotation_idx"]: np.array(op["attributes"]["subset_idxs"])
        for op in plan["ops"]
        if op["kind"] == "Landmarks2TransformMatrix"
    }
    return subsets[_LIPS_ROTATION_POINT], subsets[_LEFT_EYE_ROTATION_POINT], subsets[_RIGHT_EYE_ROTATION_POINT]
