"""Tiny ONNX models built with onnx.helper, shaped like InsightFace's, for the ONNX backend tests.

fake SCRFD: the score at each cell of stride s is the mean red value / 255 of that s x s cell
of the (denormalised) input, so a red block placed on one stride-8 cell is one face. Box and
keypoint distances are constants per anchor; anchor 1 is a smaller box inside anchor 0's with
0.9 of its score, so NMS must remove it. Because the score undoes (x - 127.5) / 128 exactly,
a wrong mean, std, channel order or letterbox shows up as a wrong score or box.

fake ArcFace: AveragePool to a 2x2 grid per channel, then MatMul + Add with fixed weights,
so `arcface_reference` reproduces it in numpy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
STRIDES = (8, 16, 32)
# Per-anchor (left, top, right, bottom) distances in stride units.
BOX_DIST = np.array([[1.0, 1.5, 1.0, 2.5], [0.8, 1.2, 0.8, 2.0]], dtype=np.float32)
# Per-anchor keypoint offsets (5 x (dx, dy)) in stride units.
KPS_DIST = np.array(
    [
        [-0.5, -0.25, 0.5, -0.25, 0.0, 0.5, -0.375, 1.25, 0.375, 1.25],
        [-0.4, -0.2, 0.4, -0.2, 0.0, 0.4, -0.3, 1.0, 0.3, 1.0],
    ],
    dtype=np.float32,
)
ANCHOR_SCORE = np.array([1.0, 0.9], dtype=np.float32)


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _const(name: str, value) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def scrfd_model(
    path: Path,
    *,
    input_size: tuple[int, int] | None = (128, 128),
    batched: bool = True,
    with_kps: bool = True,
    shuffle: bool = False,
) -> Path:
    """A fake SCRFD with 9 (or 6) outputs; input_size (w, h) or None for a dynamic input."""
    width, height = input_size if input_size else ("W", "H")
    nodes, inits = (
        [],
        [
            _const("red_index", np.array([0], dtype=np.int64)),
            _const("to_score_mul", np.float32(128.0 / 255.0)),
            _const("to_score_add", np.float32(127.5 / 255.0)),
            _const("zero", np.float32(0.0)),
            _const("anchor_score", ANCHOR_SCORE),
            _const("box_dist", BOX_DIST),
            _const("kps_dist", KPS_DIST),
            _const("cell_shape", np.array([0, 0, 0, 1, 1], dtype=np.int64)),
        ],
    )
    nodes.append(helper.make_node("Gather", ["input.1", "red_index"], ["red"], axis=1))
    outputs: dict[str, list] = {"score": [], "bbox": [], "kps": []}
    for s in STRIDES:
        p = f"s{s}_"
        nodes += [
            helper.make_node(
                "AveragePool", ["red"], [p + "pool"], kernel_shape=[s, s], strides=[s, s]
            ),
            helper.make_node("Mul", [p + "pool", "to_score_mul"], [p + "m"]),
            helper.make_node("Add", [p + "m", "to_score_add"], [p + "v"]),
            helper.make_node("Transpose", [p + "v"], [p + "t"], perm=[0, 2, 3, 1]),  # 1,h,w,1
            helper.make_node("Mul", [p + "t", "anchor_score"], [p + "sa"]),  # 1,h,w,2
            helper.make_node("Mul", [p + "t", "zero"], [p + "z"]),
            helper.make_node("Reshape", [p + "z", "cell_shape"], [p + "z5"]),  # 1,h,w,1,1
            helper.make_node("Add", [p + "z5", "box_dist"], [p + "b5"]),  # 1,h,w,2,4
            helper.make_node("Add", [p + "z5", "kps_dist"], [p + "k5"]),  # 1,h,w,2,10
        ]
        for kind, src, last in (("score", "sa", 1), ("bbox", "b5", 4), ("kps", "k5", 10)):
            shape_name = f"{p}{kind}_shape"
            inits.append(
                _const(
                    shape_name,
                    np.array([1, -1, last] if batched else [-1, last], dtype=np.int64),
                )
            )
            out = f"{kind}_{s}"
            nodes.append(helper.make_node("Reshape", [p + src, shape_name], [out]))
            dims = [1, None, last] if batched else [None, last]
            outputs[kind].append(helper.make_tensor_value_info(out, TensorProto.FLOAT, dims))
    order = outputs["score"] + outputs["bbox"] + (outputs["kps"] if with_kps else [])
    if shuffle:
        order = order[::-1]
    graph = helper.make_graph(
        nodes,
        "fake_scrfd",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, height, width])],
        order,
        initializer=inits,
    )
    return _save(graph, path)


def arcface_weights(seed: int = 0, dim: int = 512) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weight = rng.normal(size=(12, dim)).astype(np.float32)
    bias = rng.normal(scale=2.0, size=(dim,)).astype(np.float32)
    return weight, bias


def arcface_model(
    path: Path,
    *,
    seed: int = 0,
    size: int = 112,
    dim: int = 512,
    dynamic_batch: bool = True,
    in_graph_norm: bool = False,
) -> Path:
    """A fake ArcFace: (N, 3, size, size) -> (N, dim) via 2x2 average pooling and a dense layer.

    With in_graph_norm the graph starts with MXNet-style `_minusscalar0` / `_mulscalar0`
    nodes computing (x - 127.5) * (1 / 128), as the old converted InsightFace models do.
    """
    weight, bias = arcface_weights(seed, dim)
    half = size // 2
    nodes, inits = [], [_const("fc_w", weight), _const("fc_b", bias)]
    source = "data"
    if in_graph_norm:
        inits += [_const("mean", np.float32(127.5)), _const("scale", np.float32(1 / 128))]
        nodes += [
            helper.make_node("Sub", ["data", "mean"], ["centred"], name="_minusscalar0"),
            helper.make_node("Mul", ["centred", "scale"], ["scaled"], name="_mulscalar0"),
        ]
        source = "scaled"
    nodes += [
        helper.make_node(
            "AveragePool", [source], ["grid"], kernel_shape=[half, half], strides=[half, half]
        ),
        helper.make_node("Flatten", ["grid"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "fc_w"], ["dense"]),
        helper.make_node("Add", ["dense", "fc_b"], ["fc1"]),
    ]
    batch = "None" if dynamic_batch else 1
    graph = helper.make_graph(
        nodes,
        "fake_arcface",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [batch, 3, size, size])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [batch, dim])],
        initializer=inits,
    )
    return _save(graph, path)


def arcface_reference(
    chips: np.ndarray,
    seed: int = 0,
    dim: int = 512,
    mean: float = 127.5,
    std: float = 127.5,
    normalise: bool = True,
) -> np.ndarray:
    """What the fake ArcFace computes, in numpy: chips (n, s, s, 3) RGB -> (n, dim)."""
    weight, bias = arcface_weights(seed, dim)
    x = (np.asarray(chips, dtype=np.float64) - mean) / std
    n, s = x.shape[0], x.shape[1]
    grid = x.transpose(0, 3, 1, 2).reshape(n, 3, 2, s // 2, 2, s // 2).mean(axis=(3, 5))
    out = grid.reshape(n, 12) @ weight + bias
    if normalise:
        out = out / np.linalg.norm(out, axis=1, keepdims=True)
    return out


def other_model(path: Path, *, size: int, out_dim: int) -> Path:
    """A non-face-recognition model of InsightFace's pack (landmark 192px, genderage 96px)."""
    inits = [_const("w", np.ones((3, out_dim), dtype=np.float32))]
    nodes = [
        helper.make_node("GlobalAveragePool", ["data"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"], axis=1),
        helper.make_node("MatMul", ["f", "w"], ["out"]),
    ]
    graph = helper.make_graph(
        nodes,
        "other",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, out_dim])],
        initializer=inits,
    )
    return _save(graph, path)


def model_pack(directory: Path, *, decoys: bool = True, **scrfd_options) -> Path:
    """A buffalo-like directory whose file names say nothing about which model is which."""
    scrfd_model(directory / "m2.onnx", **scrfd_options)
    arcface_model(directory / "m4.onnx")
    if decoys:
        other_model(directory / "m1.onnx", size=192, out_dim=212)  # like 2d106det
        other_model(directory / "m3.onnx", size=96, out_dim=3)  # like genderage
    return directory
