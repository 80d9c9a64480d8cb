"""Turn a parsed dlib layer stack into an ONNX graph of standard operators.

Walks the layers bottom-up as dlib's forward pass does, tracking each tensor's static
(channels, rows, cols) so that dlib's size rules can be reproduced exactly:
- affine layers after a convolution are folded into its weights and bias;
- add_prev adds two tensors of different shapes by zero-padding the smaller one at the
  end of each axis (dlib's tt::add), the output taking the larger of each dimension;
- pooling and convolution use dlib's floor output sizes and the padding read from the file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from openlfr.convert.dlib_net import Layer

OPSET = 17
INPUT = "chips"
OUTPUT = "descriptors"


@dataclass
class _Value:
    name: str
    shape: tuple  # channels, rows, cols (batch is dynamic; rows/cols None when dynamic too)


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def const(self, prefix: str, array: np.ndarray) -> str:
        name = self.name(prefix)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: list[str], prefix: str | None = None, **attrs) -> str:
        out = self.name(prefix or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


def build(layers: list[Layer], *, name: str) -> onnx.ModelProto:
    """ONNX model: uint8 RGB images (n, H, W, 3) in, dlib's network output out: (n, d) for
    a network ending in fc, (n, k, h, w) for a fully convolutional one. H and W are fixed
    when the input layer has a size (input_rgb_image_sized), else dynamic."""
    g = _Graph()
    source = layers[-1]
    size = source.data["size"] or ("h", "w")
    x = _input(g, source)
    tags: dict[int, _Value] = {}
    flat = False  # whether the output is (n, d) rather than (n, k, h, w)
    i = len(layers) - 2
    while i >= 0:
        layer = layers[i]
        kind = layer.kind
        if kind == "con":
            weight, bias = layer.data["weight"], layer.data["bias"]
            # Fold a following per-channel affine layer into the convolution.
            if i > 0 and layers[i - 1].kind == "affine" and layers[i - 1].data["conv_mode"]:
                gamma, beta = layers[i - 1].data["gamma"], layers[i - 1].data["beta"]
                weight = weight.astype(np.float64) * gamma.astype(np.float64)[:, None, None, None]
                bias = bias.astype(np.float64) * gamma + beta
                i -= 1
            x = _conv(g, x, layer, weight, bias)
        elif kind == "affine":
            x = _affine(g, x, layer)
        elif kind == "relu":
            x = _Value(g.op("Relu", [x.name]), x.shape)
        elif kind == "max_pool":
            x = _pool(g, x, layer, "MaxPool")
        elif kind == "avg_pool":
            x = _pool(g, x, layer, "AveragePool")
        elif kind == "tag":
            tags[layer.args["id"]] = x
        elif kind == "skip":
            x = tags[layer.args["id"]]
        elif kind == "add_prev":
            x = _add(g, x, tags[layer.args["tag"]])
        elif kind == "fc":
            x = _fc(g, x, layer)
            flat = True
        elif kind == "loss":
            pass  # loss_metric's output is the network output itself
        else:
            raise ValueError(f"no ONNX mapping for dlib layer {kind!r}")
        i -= 1
    g.nodes.append(helper.make_node("Identity", [x.name], [OUTPUT], name=OUTPUT))
    if flat:
        out_shape = ["n", x.shape[0]]
    else:
        out_shape = ["n", x.shape[0], x.shape[1] or "out_h", x.shape[2] or "out_w"]
    graph = helper.make_graph(
        g.nodes,
        name,
        [helper.make_tensor_value_info(INPUT, TensorProto.UINT8, ["n", size[0], size[1], 3])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, out_shape)],
        g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="openlfr.convert"
    )
    onnx.checker.check_model(model)
    return model


def _input(g: _Graph, layer: Layer) -> _Value:
    # input_rgb_image_sized: (pixel - mean) / 256 per channel, planar RGB (dlib/dnn/input.h).
    mean = layer.data["mean_rgb"].astype(np.float32).reshape(1, 3, 1, 1)
    nr, nc = layer.data["size"] or (None, None)
    x = g.op("Cast", [INPUT], to=TensorProto.FLOAT)
    x = g.op("Transpose", [x], perm=[0, 3, 1, 2])
    x = g.op("Sub", [x, g.const("mean", mean)])
    x = g.op("Mul", [x, g.const("scale", np.array(1.0 / 256.0, np.float32))])
    return _Value(x, (3, nr, nc))


def _out_size(n: int | None, window: int, stride: int, pad: int) -> int | None:
    return None if n is None else 1 + (n + 2 * pad - window) // stride


def _conv(g: _Graph, x: _Value, layer: Layer, weight, bias) -> _Value:
    num_filters, _, nr, nc = weight.shape
    sy, sx = layer.data["stride"]
    py, px = layer.data["pads"]
    w = g.const("w", np.asarray(weight, np.float32))
    b = g.const("b", np.asarray(bias, np.float32))
    out = g.op(
        "Conv", [x.name, w, b], kernel_shape=[nr, nc], strides=[sy, sx], pads=[py, px, py, px]
    )
    shape = (num_filters, _out_size(x.shape[1], nr, sy, py), _out_size(x.shape[2], nc, sx, px))
    return _Value(out, shape)


def _affine(g: _Graph, x: _Value, layer: Layer) -> _Value:
    gamma, beta = layer.data["gamma"], layer.data["beta"]
    if layer.data["conv_mode"]:
        gamma, beta = gamma.reshape(1, -1, 1, 1), beta.reshape(1, -1, 1, 1)
    else:
        gamma, beta = gamma.reshape((1, *x.shape)), beta.reshape((1, *x.shape))
    out = g.op("Mul", [x.name, g.const("gamma", gamma.astype(np.float32))])
    out = g.op("Add", [out, g.const("beta", beta.astype(np.float32))])
    return _Value(out, x.shape)


def _pool(g: _Graph, x: _Value, layer: Layer, op_type: str) -> _Value:
    nr, nc = layer.data["window"]
    if nr == 0 and nc == 0:  # *_pool_everything: one window over the whole map
        global_op = "GlobalAveragePool" if op_type == "AveragePool" else "GlobalMaxPool"
        return _Value(g.op(global_op, [x.name]), (x.shape[0], 1, 1))
    if nr == 0 or nc == 0:
        raise ValueError("pooling over all rows or all columns only is not supported")
    sy, sx = layer.data["stride"]
    py, px = layer.data["pads"]
    attrs = {"kernel_shape": [nr, nc], "strides": [sy, sx], "pads": [py, px, py, px]}
    if op_type == "AveragePool" and (py or px):
        attrs["count_include_pad"] = 0
    out = g.op(op_type, [x.name], **attrs)
    shape = (x.shape[0], _out_size(x.shape[1], nr, sy, py), _out_size(x.shape[2], nc, sx, px))
    return _Value(out, shape)


def _pad_to(g: _Graph, x: _Value, shape: tuple[int, int, int]) -> str:
    if x.shape == shape:
        return x.name
    # ONNX pads: all axes' begins, then all axes' ends; grow channels/rows/cols at the end.
    ends = [t - s for t, s in zip(shape, x.shape, strict=True)]
    pads = g.const("pads", np.array([0, 0, 0, 0, 0, *ends], np.int64))
    return g.op("Pad", [x.name, pads])


def _add(g: _Graph, a: _Value, b: _Value) -> _Value:
    # dlib's tt::add: output has the larger of each dimension, missing values count as 0.
    shape = tuple(max(s, t) for s, t in zip(a.shape, b.shape, strict=True))
    return _Value(g.op("Add", [_pad_to(g, a, shape), _pad_to(g, b, shape)]), shape)


def _fc(g: _Graph, x: _Value, layer: Layer) -> _Value:
    weight, bias = layer.data["weight"], layer.data["bias"]
    flat = g.op("Flatten", [x.name], axis=1)
    if int(np.prod(x.shape)) != weight.shape[0]:
        raise ValueError(f"fc layer expects {weight.shape[0]} inputs, got {x.shape}")
    w = g.const("fc_w", weight.astype(np.float32))
    out = g.op("MatMul", [flat, w])
    if bias is not None:
        out = g.op("Add", [out, g.const("fc_b", bias.astype(np.float32))])
    return _Value(out, (weight.shape[1], 1, 1))
