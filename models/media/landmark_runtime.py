"""The landmark models of the mediapipe wheel on a batched runtime: ONNX Runtime (CUDA execution provider where
onnxruntime-gpu sees a GPU, else the CPU provider), or torch on a CUDA device when only torch sees one.

Each model is the wheel's own .tflite, checked by sha256, converted by models/media/tflite_torch.py and exported
to ONNX once; both conversions are cached under `tflite_torch.cache_dir()`."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from softskills.models.media.tflite_torch import build_module, cache_dir, cached_plan

log = logging.getLogger(__name__)

ONNX_OPSET = 17


@dataclass(frozen=True)
class WheelModel:
    """A model file inside the mediapipe wheel, the sha256 it was validated with, its input side and the outputs
    the tracking reads (in the order it reads them)."""

    relative_path: str
    sha256: str
    input_size: int
    outputs: tuple[str, ...]

    def path(self) -> Path:
        import mediapipe

        path = Path(mediapipe.__file__).parent / self.relative_path
        if not path.is_file():
            raise RuntimeError(f"mediapipe {mediapipe.__version__} does not ship {self.relative_path}")
        return path


FACE_DETECTOR = WheelModel(
    "modules/face_detection/face_detection_short_range.tflite",
    "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    128,
    ("regressors", "classificators"),
)
FACE_MESH = WheelModel(
    "modules/face_landmark/face_landmark_with_attention.tflite",
    "e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4",
    192,
    (
        "output_mesh_identity",
        "output_lips",
        "output_left_eye",
        "output_right_eye",
        "output_left_iris",
        "output_right_iris",
        "conv_faceflag",
    ),
)
POSE_DETECTOR = WheelModel(
    "modules/pose_detection/pose_detection.tflite",
    "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    224,
    ("Identity", "Identity_1"),
)
POSE_LANDMARKS = WheelModel(
    "modules/pose_landmark/pose_landmark_full.tflite",
    "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    256,
    ("Identity", "Identity_1", "Identity_3"),
)
"""Landmarks, presence flag and heatmap; the segmentation and world-landmark heads are not computed."""


def choose_device(requested: str) -> str:
    """ "onnx-cuda" (onnxruntime-gpu with a GPU), "torch-cuda" (a CUDA build of torch with a GPU) or "onnx-cpu".
    `requested`: auto | cpu | cuda; cuda without a visible GPU falls back to the CPU with a log line."""
    if requested not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {requested!r}")
    if requested == "cpu":
        return "onnx-cpu"
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers() and _torch_cuda_devices() != 0:
        return "onnx-cuda"
    if _torch_cuda_devices():
        return "torch-cuda"
    level = logging.WARNING if requested == "cuda" else logging.INFO
    log.log(
        level,
        "landmark models: no GPU visible (onnxruntime providers %s, torch CUDA devices %s); running on "
        "the CPU provider",
        onnxruntime.get_available_providers(),
        _torch_cuda_devices(),
    )
    return "onnx-cpu"


def _torch_cuda_devices() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


class LandmarkNetwork:
    """One wheel model, loaded once, run on batches: `run(batch)` takes float32 NHWC (B, S, S, 3) and returns the
    named outputs as float32 arrays with the batch first. Safe to call from several threads (ONNX Runtime sessions
    are; torch calls are serialised)."""

    def __init__(self, model: WheelModel, device: str, cpu_threads: int = 1):
        self.model = model
        self.device = device
        plan = cached_plan(model.path(), model.sha256, model.outputs)
        if device == "torch-cuda":
            self._module = build_module(plan).to("cuda")
            self._lock = threading.Lock()
            self._session = None
        else:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = cpu_threads
            options.inter_op_num_threads = 1
            providers = (
                ["CUDAExecutionProvider", "CPUExecutionProvider"] if device == "onnx-cuda" else ["CPUExecutionProvider"]
            )
            self._session = onnxruntime.InferenceSession(str(_cached_onnx(model, plan)), options, providers=providers)
            self._input = self._session.get_inputs()[0].name

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if self._session is not None:
            return self._session.run(None, {self._input: batch})
        import torch

        with self._lock, torch.inference_mode():
            outputs = self._module(torch.from_numpy(batch).to("cuda", non_blocking=True))
            return [output.float().cpu().numpy() for output in outputs]


def _cached_onnx(model: WheelModel, plan: dict) -> Path:
    """The plan exported to ONNX (dynamic batch) once, cached beside the plan under the model's hash."""
    import torch

    target = cache_dir() / f"{Path(model.relative_path).stem}-{model.sha256[:16]}-v{plan['version']}.onnx"
    if target.is_file():
        return target
    module = build_module(plan)
    example = torch.zeros(1, model.input_size, model.input_size, 3)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    with torch.no_grad():
        torch.onnx.export(
            module,
            (example,),
            str(partial),
            dynamo=False,
            opset_version=ONNX_OPSET,
            input_names=["image"],
            output_names=list(model.outputs),
            dynamic_axes={"image": {0: "batch"}},
        )
    partial.replace(target)
    return target
