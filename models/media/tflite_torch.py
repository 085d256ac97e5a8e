"""Runs the .tflite models that the mediapipe wheel ships as torch modules, so the same weights run batched on a
CPU or a CUDA device.

A .tflite file is a flat list of tensors and operators. `convert` reads it once (after checking its sha256 against the
value this service was validated with) into a plan of plain records and float32 weights — fp16 weights dequantised,
sparse ones densified — and `TfliteModule` executes that plan with torch ops. The conversion is cached beside the
other converted models (`cached_plan`), keyed by the file's hash, so a replica converts at first start only.

Activations that are 4-D live in torch's NCHW layout; the plan keeps TFLite's NHWC shapes, and the few operators
whose meaning depends on the layout (reshape, slice, concatenation, the custom ops) convert at their boundary.
Only the operators these models use are implemented; any other is refused at conversion, never guessed. MediaPipe's
three custom operators in the Face Mesh attention model (Landmarks2TransformMatrix, TransformTensorBilinear,
TransformLandmarks, version 2) are written here after mediapipe/util/tflite/operations/*.cc."""

from __future__ import annotations

import hashlib
import logging
import math
import os
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CACHE_ENV = "SOFTSKILLS_MODEL_CACHE"
PLAN_VERSION = 1
"""Bumped whenever the plan's format or an operator's conversion changes, so stale caches are rebuilt."""

_ACTIVATIONS = {0: None, 1: "relu", 2: "relu_n1_to_1", 3: "relu6"}


class UnsupportedModel(RuntimeError):
    """The .tflite file uses something this converter does not implement, or is not the file it expects."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """$SOFTSKILLS_MODEL_CACHE, else <SOFTSKILLS_DATA_DIR>/models, else ~/.cache/softskills/models."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    if os.environ.get("SOFTSKILLS_DATA_DIR"):
        return Path(os.environ["SOFTSKILLS_DATA_DIR"]) / "models"
    return Path.home() / ".cache" / "softskills" / "models"


def cached_plan(path: Path, expected_sha256: str, outputs: tuple[str, ...] | None = None) -> dict:
    """The converted plan of `path`, from the cache when a conversion of the same bytes is there; the file's sha256
    is checked first in both cases (a changed wheel must not run unvalidated weights)."""
    import torch

    actual = sha256_of(path)
    if actual != expected_sha256:
        raise UnsupportedModel(
            f"{path.name} has sha256 {actual}, expected {expected_sha256}: not the model this "
            "service was validated with"
        )
    suffix = "-".join(outputs) if outputs else "all"
    target = cache_dir() / f"{path.stem}-{actual[:16]}-{suffix}-v{PLAN_VERSION}.pt"
    if target.is_file():
        try:
            return torch.load(target, weights_only=True)
        except Exception:  # noqa: BLE001 - a truncated or foreign cache file is rebuilt, not trusted
            log.warning("converted model cache %s is unreadable; converting again", target, exc_info=True)
    plan = convert(path.read_bytes(), outputs)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        torch.save(plan, partial)
        partial.replace(target)
    except OSError:
        log.warning(
            "cannot cache the converted %s under %s; it will be converted again next start",
            path.name,
            target.parent,
            exc_info=True,
        )
    return plan


def convert(model_bytes: bytes, outputs: tuple[str, ...] | None = None) -> dict:
    """A plan: {"ops": [records], "constants": {tensor index: float32 tensor in the layout the op wants},
    "inputs": [index], "outputs": [index], "shapes": {index: NHWC shape}}. `outputs` names the output tensors to
    keep (None: all); operators that feed none of them are left out."""
    import tflite
    import torch

    model = tflite.Model.GetRootAsModel(model_bytes, 0)
    if model.SubgraphsLength() != 1:
        raise UnsupportedModel("only single-graph models are supported")
    graph = model.Subgraphs(0)
    builtin_names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    tensors = [graph.Tensors(i) for i in range(graph.TensorsLength())]
    shapes = {i: [int(d) for d in t.ShapeAsNumpy()] if t.ShapeLength() else [] for i, t in enumerate(tensors)}
    names = {i: t.Name().decode() for i, t in enumerate(tensors)}
    raw = {}
    for i, tensor in enumerate(tensors):
        data = model.Buffers(tensor.Buffer()).DataAsNumpy() if tensor.Buffer() else 0
        if not isinstance(data, int) and len(data):
            dtype = {
                tflite.TensorType.FLOAT32: np.float32,
                tflite.TensorType.FLOAT16: np.float16,
                tflite.TensorType.INT32: np.int32,
                tflite.TensorType.INT64: np.int64,
            }.get(tensor.Type())
            if dtype is None:
                raise UnsupportedModel(f"tensor {names[i]} has unsupported type {tensor.Type()}")
            values = np.frombuffer(data.tobytes(), dtype=dtype)
            raw[i] = values if tensor.Sparsity() else values.reshape(shapes[i])
    graph_inputs = [graph.Inputs(i) for i in range(graph.InputsLength())]
    graph_outputs = [graph.Outputs(i) for i in range(graph.OutputsLength())]
    if outputs is not None:
        by_name = {names[i]: i for i in graph_outputs}
        missing = [name for name in outputs if name not in by_name]
        if missing:
            raise UnsupportedModel(f"model has no outputs named {missing}; it has {sorted(by_name)}")
        graph_outputs = [by_name[name] for name in outputs]

    records = []
    for k in range(graph.OperatorsLength()):
        op = graph.Operators(k)
        code = model.OperatorCodes(op.OpcodeIndex())
        kind = builtin_names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "?")
        if kind == "CUSTOM":
            kind = code.CustomCode().decode()
        ins = [int(op.Inputs(j)) for j in range(op.InputsLength())]
        outs = [int(op.Outputs(j)) for j in range(op.OutputsLength())]
        if kind == "DEQUANTIZE":
            raw[outs[0]] = raw[ins[0]].astype(np.float32).reshape(shapes[outs[0]])
            continue
        if kind == "DENSIFY":
            raw[outs[0]] = _densify(raw[ins[0]], shapes[outs[0]], tensors[ins[0]].Sparsity()).astype(np.float32)
            continue
        records.append((kind, ins, outs, _options(kind, op, code, tflite)))

    needed = set(graph_outputs)
    kept = []
    for kind, ins, outs, params in reversed(records):
        if needed.intersection(outs):
            needed.update(i for i in ins if i >= 0)
            kept.append((kind, ins, outs, params))
    kept.reverse()

    constants = {}
    ops = []
    for kind, ins, outs, params in kept:
        record = {"kind": kind, "inputs": ins, "outputs": outs, **params}
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            weight = raw[ins[1]].astype(np.float32)
            # TFLite: conv (O, H, W, I); depthwise (1, H, W, C * multiplier); torch: (O, I / groups, H, W)
            weight = weight.transpose(0, 3, 1, 2) if kind == "CONV_2D" else weight.transpose(3, 0, 1, 2)
            constants[ins[1]] = torch.from_numpy(np.ascontiguousarray(weight))
            if len(ins) > 2 and ins[2] >= 0:
                constants[ins[2]] = torch.from_numpy(raw[ins[2]].astype(np.float32).copy())
            record["groups"] = shapes[ins[0]][3] if kind == "DEPTHWISE_CONV_2D" else 1
            record["padding_lrtb"] = (
                _same_padding(shapes[ins[0]], weight.shape[2:], params) if params["padding"] == "SAME" else [0, 0, 0, 0]
            )
        elif kind == "PRELU":
            alpha = raw[ins[1]].astype(np.float32)
            if alpha.size != shapes[ins[0]][-1]:
                raise UnsupportedModel(f"PRELU with alpha shape {alpha.shape} is not per channel")
            constants[ins[1]] = torch.from_numpy(alpha.reshape(-1).copy())
        elif kind in ("PAD", "RESHAPE", "STRIDED_SLICE", "RESIZE_BILINEAR"):
            record["arguments"] = [raw[i].tolist() for i in ins[1:] if i in raw]
        elif kind in ("ADD", "MUL"):
            for i in ins:
                if i in raw:
                    value = raw[i].astype(np.float32)
                    if value.ndim == 4:
                        value = value.transpose(0, 3, 1, 2)
                    constants[i] = torch.from_numpy(np.ascontiguousarray(value))
        ops.append(record)
    return {
        "ops": ops,
        "constants": constants,
        "inputs": graph_inputs,
        "outputs": graph_outputs,
        "shapes": {i: shapes[i] for i in needed | set(graph_outputs)},
        "version": PLAN_VERSION,
    }


def _options(kind: str, op, code, tflite) -> dict:
    def builtin(options_class):
        options = options_class()
        table = op.BuiltinOptions()
        options.Init(table.Bytes, table.Pos)
        return options

    padding = {tflite.Padding.SAME: "SAME", tflite.Padding.VALID: "VALID"}
    if kind == "CONV_2D":
        o = builtin(tflite.Conv2DOptions)
        return {
            "stride": [o.StrideH(), o.StrideW()],
            "dilation": [o.DilationHFactor(), o.DilationWFactor()],
            "padding": padding[o.Padding()],
            "activation": _activation(o.FusedActivationFunction()),
        }
    if kind == "DEPTHWISE_CONV_2D":
        o = builtin(tflite.DepthwiseConv2DOptions)
        if o.DepthMultiplier() != 1:
            raise UnsupportedModel("depthwise convolutions with a depth multiplier are not supported")
        return {
            "stride": [o.StrideH(), o.StrideW()],
            "dilation": [o.DilationHFactor(), o.DilationWFactor()],
            "padding": padding[o.Padding()],
            "activation": _activation(o.FusedActivationFunction()),
        }
    if kind == "MAX_POOL_2D":
        o = builtin(tflite.Pool2DOptions)
        return {
            "stride": [o.StrideH(), o.StrideW()],
            "kernel": [o.FilterHeight(), o.FilterWidth()],
            "padding": padding[o.Padding()],
            "activation": _activation(o.FusedActivationFunction()),
        }
    if kind in ("ADD", "MUL"):
        o = builtin(tflite.AddOptions if kind == "ADD" else tflite.MulOptions)
        return {"activation": _activation(o.FusedActivationFunction())}
    if kind == "CONCATENATION":
        o = builtin(tflite.ConcatenationOptions)
        return {"axis": o.Axis(), "activation": _activation(o.FusedActivationFunction())}
    if kind == "RESIZE_BILINEAR":
        o = builtin(tflite.ResizeBilinearOptions)
        if not o.AlignCorners() and not o.HalfPixelCenters():
            raise UnsupportedModel("RESIZE_BILINEAR without align_corners or half_pixel_centers is not supported")
        return {"align_corners": bool(o.AlignCorners())}
    if kind == "DEPTH_TO_SPACE":
        return {"block": builtin(tflite.DepthToSpaceOptions).BlockSize()}
    if kind == "STRIDED_SLICE":
        o = builtin(tflite.StridedSliceOptions)
        if o.EllipsisMask() or o.NewAxisMask() or o.ShrinkAxisMask():
            raise UnsupportedModel("STRIDED_SLICE with ellipsis, new-axis or shrink masks is not supported")
        return {"begin_mask": o.BeginMask(), "end_mask": o.EndMask()}
    if kind in ("PAD", "RESHAPE", "PRELU", "RELU", "LOGISTIC"):
        return {}
    if kind in ("Landmarks2TransformMatrix", "TransformTensorBilinear", "TransformLandmarks"):
        from flatbuffers import flexbuffers

        if code.Version() != 2:
            raise UnsupportedModel(f"{kind} version {code.Version()} is not supported (version 2 is)")
        data = op.CustomOptionsAsNumpy().tobytes() if op.CustomOptionsLength() else b""
        return {"attributes": flexbuffers.Loads(data) if data else {}}
    raise UnsupportedModel(f"operator {kind} is not supported by this converter")


def _activation(code: int) -> str | None:
    if code not in _ACTIVATIONS:
        raise UnsupportedModel(f"fused activation {code} is not supported")
    return _ACTIVATIONS[code]


def _same_padding(input_nhwc: list[int], kernel_hw, params: dict) -> list[int]:
    """TensorFlow's SAME padding as (left, right, top, bottom): the odd pixel goes after."""
    pads = []
    for size, k, stride, dilation in zip(input_nhwc[1:3], kernel_hw, params["stride"], params["dilation"]):
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
        pads.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = pads
    return [left, right, top, bottom]


def _densify(values: np.ndarray, dense_shape: list[int], sparsity) -> np.ndarray:
    """TFLite's sparse tensor format (traversal order, block map, DENSE / SPARSE_CSR dimensions) back to a dense
    array, level by level as TFLite's FormatConverter walks it, vectorised over the entries of each level."""
    import tflite

    order = [int(v) for v in sparsity.TraversalOrderAsNumpy()]
    block_map = [int(v) for v in sparsity.BlockMapAsNumpy()] if sparsity.BlockMapLength() else []
    rank = len(dense_shape)
    levels = [sparsity.DimMetadata(i) for i in range(sparsity.DimMetadataLength())]
    block_size = {block_map[k]: levels[order.index(rank + k)].DenseSize() for k in range(len(block_map))}

    def index_vector(union_type, table):
        for vector_type, cls in (
            (tflite.SparseIndexVector.Int32Vector, tflite.Int32Vector),
            (tflite.SparseIndexVector.Uint16Vector, tflite.Uint16Vector),
            (tflite.SparseIndexVector.Uint8Vector, tflite.Uint8Vector),
        ):
            if union_type == vector_type:
                vector = cls()
                vector.Init(table.Bytes, table.Pos)
                return vector.ValuesAsNumpy().astype(np.int64)
        raise UnsupportedModel(f"sparse index vector type {union_type} is not supported")

    position = np.zeros(1, dtype=np.int64)
    coords = np.zeros((1, len(order)), dtype=np.int64)
    for level, meta in enumerate(levels):
        if meta.Format() == tflite.DimensionType.DENSE:
            size = meta.DenseSize()
            position = (position[:, None] * size + np.arange(size)).reshape(-1)
            coords = np.repeat(coords, size, axis=0)
            coords[:, level] = np.tile(np.arange(size), len(coords) // size)
        else:
            segments = index_vector(meta.ArraySegmentsType(), meta.ArraySegments())
            indices = index_vector(meta.ArrayIndicesType(), meta.ArrayIndices())
            starts, counts = segments[position], segments[position + 1] - segments[position]
            coords = np.repeat(coords, counts, axis=0)
            offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            position = np.repeat(starts, counts) + offsets
            coords[:, level] = indices[position]
    dense = np.zeros(dense_shape, dtype=values.dtype)
    index = [np.zeros(len(coords), dtype=np.int64) for _ in range(rank)]
    for level, dim in enumerate(order):
        if dim < rank:
            index[dim] += coords[:, level] * block_size.get(dim, 1)
        else:
            index[block_map[dim - rank]] += coords[:, level]
    dense[tuple(index)] = values[position]
    return dense


def _torch_module_class():
    import torch
    import torch.nn.functional as F

    class TfliteModule(torch.nn.Module):
        """Executes a plan from `convert` on a batch: inputs NHWC float32 (B, H, W, C) like the .tflite's; outputs
        in the .tflite's own shapes with the batch size first."""

        def __init__(self, plan: dict):
            super().__init__()
            self._ops = plan["ops"]
            self._inputs = plan["inputs"]
            self._outputs = plan["outputs"]
            self._shapes = plan["shapes"]
            self._constant_ids = sorted(plan["constants"])
            for i in self._constant_ids:
                self.register_buffer(f"c{i}", plan["constants"][i])

        def _constant(self, i: int):
            return getattr(self, f"c{i}")

        def forward(self, *inputs):
            values = {}
            for i, x in zip(self._inputs, inputs):
                values[i] = x.permute(0, 3, 1, 2) if x.dim() == 4 else x
            for op in self._ops:
                result = self._run(op, values)
                values[op["outputs"][0]] = result
            return [self._nhwc(values[i]) for i in self._outputs]

        def _value(self, values, i):
            return values[i] if i in values else self._constant(i)

        @staticmethod
        def _nhwc(x):
            return x.permute(0, 2, 3, 1) if x.dim() == 4 else x

        @staticmethod
        def _nchw(x):
            return x.permute(0, 3, 1, 2) if x.dim() == 4 else x

        @staticmethod
        def _activate(x, activation):
            if activation == "relu":
                return F.relu(x)
            if activation == "relu6":
                return F.hardtanh(x, 0.0, 6.0)
            if activation == "relu_n1_to_1":
                return F.hardtanh(x, -1.0, 1.0)
            return x

        def _run(self, op, values):  # noqa: C901 - one branch per operator reads best as one table
            kind, ins = op["kind"], op["inputs"]
            x = self._value(values, ins[0])
            if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                left, right, top, bottom = op["padding_lrtb"]
                if left or right or top or bottom:
                    x = F.pad(x, (left, right, top, bottom))
                bias = self._constant(ins[2]) if len(ins) > 2 and ins[2] >= 0 else None
                x = F.conv2d(x, self._constant(ins[1]), bias, op["stride"], 0, op["dilation"], op["groups"])
                return self._activate(x, op["activation"])
            if kind in ("ADD", "MUL"):
                y = self._value(values, ins[1])
                return self._activate(x + y if kind == "ADD" else x * y, op["activation"])
            if kind == "PRELU":
                return F.prelu(x, self._constant(ins[1]))
            if kind == "RELU":
                return F.relu(x)
            if kind == "LOGISTIC":
                return torch.sigmoid(x)
            if kind == "MAX_POOL_2D":
                if op["padding"] == "SAME":
                    left, right, top, bottom = _same_padding(
                        self._shapes[ins[0]], op["kernel"], {**op, "dilation": [1, 1]}
                    )
                    x = F.pad(x, (left, right, top, bottom), value=-math.inf)
                return self._activate(F.max_pool2d(x, op["kernel"], op["stride"]), op["activation"])
            if kind == "PAD":
                pads = op["arguments"][0]
                if pads[0] != [0, 0]:
                    raise UnsupportedModel("PAD on the batch axis is not supported")
                if x.dim() == 4:
                    (top, bottom), (left, right), (front, back) = pads[1:]
                    return F.pad(x, (left, right, top, bottom, front, back))
                return F.pad(x, tuple(v for pair in reversed(pads[1:]) for v in pair))
            if kind == "RESHAPE":
                shape = list(self._shapes[op["outputs"][0]])
                return self._nchw(self._nhwc(x).reshape([x.shape[0], *shape[1:]]))
            if kind == "CONCATENATION":
                parts = [self._value(values, i) for i in ins]
                axis = op["axis"] % len(self._shapes[ins[0]])
                if parts[0].dim() == 4:
                    axis = (0, 2, 3, 1)[axis]
                return self._activate(torch.cat(parts, dim=axis), op["activation"])
            if kind == "RESIZE_BILINEAR":
                size = op["arguments"][0]
                return F.interpolate(x, size=size, mode="bilinear", align_corners=op["align_corners"])
            if kind == "DEPTH_TO_SPACE":
                block = op["block"]
                b, c, h, w = x.shape
                out_c = c // (block * block)
                x = x.reshape(b, block, block, out_c, h, w).permute(0, 3, 4, 1, 5, 2)
                return x.reshape(b, out_c, h * block, w * block)
            if kind == "STRIDED_SLICE":
                begin, end, strides = op["arguments"]
                shape = self._shapes[ins[0]]
                nhwc = self._nhwc(x)
                index = [slice(None)]
                for axis in range(1, len(shape)):
                    start = None if op["begin_mask"] >> axis & 1 else begin[axis]
                    stop = None if op["end_mask"] >> axis & 1 else end[axis]
                    index.append(slice(start, stop, strides[axis]))
                return self._nchw(nhwc[tuple(index)])
            if kind == "Landmarks2TransformMatrix":
                return landmarks_to_transform_matrix(x, op["attributes"])
            if kind == "TransformTensorBilinear":
                return transform_tensor_bilinear(x, self._value(values, ins[1]), op["attributes"])
            if kind == "TransformLandmarks":
                return transform_landmarks(x, self._value(values, ins[1]))
            raise UnsupportedModel(f"operator {kind} has no implementation")

    return TfliteModule


def landmarks_to_transform_matrix(landmarks, attributes: dict):
    """MediaPipe's Landmarks2TransformMatrix v2: from (B, N, 3) landmarks, the (B, 4, 4) matrix that maps an
    output_width x output_height crop (rotated so the two rotation landmarks are level, sized to the subset's box
    times scale) into the input's coordinates."""
    import torch

    subset = torch.as_tensor(attributes["subset_idxs"], device=landmarks.device)
    left = landmarks[:, attributes["left_rotation_idx"], :2]
    right = landmarks[:, attributes["right_rotation_idx"], :2]
    rotation = attributes.get("target_rotation_radians", 0.0) - torch.atan2(
        right[:, 1] - left[:, 1], right[:, 0] - left[:, 0]
    )
    points = landmarks[:, subset, :2]
    cos, sin = torch.cos(rotation)[:, None], torch.sin(rotation)[:, None]
    rotated_x = cos * points[..., 0] - sin * points[..., 1]
    rotated_y = sin * points[..., 0] + cos * points[..., 1]
    max_x, min_x = rotated_x.max(dim=1).values, rotated_x.min(dim=1).values
    max_y, min_y = rotated_y.max(dim=1).values, rotated_y.min(dim=1).values
    mid_x, mid_y = (max_x + min_x) / 2, (max_y + min_y) / 2
    cos, sin = cos[:, 0], sin[:, 0]
    crop_x, crop_y = cos * mid_x + sin * mid_y, -sin * mid_x + cos * mid_y  # rotated back by -rotation
    out_w, out_h = attributes["output_width"], attributes["output_height"]
    scale_x = attributes["scale_x"] * (max_x - min_x) / out_w
    scale_y = attributes["scale_y"] * (max_y - min_y) / out_h
    # shift(crop centre) * rotate(-rotation) * scale * shift(-output / 2), as the C++ multiplies them
    r_cos, r_sin = torch.cos(-rotation), torch.sin(-rotation)
    matrix = torch.zeros(landmarks.shape[0], 4, 4, dtype=landmarks.dtype, device=landmarks.device)
    matrix[:, 0, 0] = r_cos * scale_x
    matrix[:, 0, 1] = -r_sin * scale_y
    matrix[:, 0, 3] = crop_x - r_cos * scale_x * out_w / 2 + r_sin * scale_y * out_h / 2
    matrix[:, 1, 0] = r_sin * scale_x
    matrix[:, 1, 1] = r_cos * scale_y
    matrix[:, 1, 3] = crop_y - r_sin * scale_x * out_w / 2 - r_cos * scale_y * out_h / 2
    matrix[:, 2, 2] = 1.0
    matrix[:, 3, 3] = 1.0
    return matrix


def transform_tensor_bilinear(features, matrix, attributes: dict):
    """MediaPipe's TransformTensorBilinear v2 on NCHW features: output pixel (x, y) samples the input at
    matrix * (x + 0.5, y + 0.5) - 0.5 bilinearly; a sample point outside the input's pixel centres reads 0."""
    import torch
    import torch.nn.functional as F

    out_h, out_w = attributes["output_height"], attributes["output_width"]
    batch, _, in_h, in_w = features.shape
    ys, xs = torch.meshgrid(
        torch.arange(out_h, dtype=features.dtype, device=features.device) + 0.5,
        torch.arange(out_w, dtype=features.dtype, device=features.device) + 0.5,
        indexing="ij",
    )
    source_x = matrix[:, 0, 0, None, None] * xs + matrix[:, 0, 1, None, None] * ys + matrix[:, 0, 3, None, None] - 0.5
    source_y = matrix[:, 1, 0, None, None] * xs + matrix[:, 1, 1, None, None] * ys + matrix[:, 1, 3, None, None] - 0.5
    inside = (source_x >= 0) & (source_x <= in_w - 1) & (source_y >= 0) & (source_y <= in_h - 1)
    grid = torch.stack([source_x / (in_w - 1) * 2 - 1, source_y / (in_h - 1) * 2 - 1], dim=-1)
    sampled = F.grid_sample(features, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    return sampled * inside[:, None].to(features.dtype)


def transform_landmarks(landmarks, matrix):
    """MediaPipe's TransformLandmarks v2: x and y of (B, N, 2 | 3) landmarks through the matrix's first two rows;
    z, when there, is kept."""
    import torch

    x, y = landmarks[..., 0], landmarks[..., 1]
    new_x = matrix[:, 0, 0, None] * x + matrix[:, 0, 1, None] * y + matrix[:, 0, 3, None]
    new_y = matrix[:, 1, 0, None] * x + matrix[:, 1, 1, None] * y + matrix[:, 1, 3, None]
    return torch.cat([new_x[..., None], new_y[..., None], landmarks[..., 2:]], dim=-1)


def build_module(plan: dict):
    """A torch module that runs the plan (eval mode, no gradients needed)."""
    return _torch_module_class()(plan).eval()
