"""The ONNX builder on a small synthetic dlib stack, against a direct numpy forward pass.

The stack exercises what the face ResNet relies on: affine folded into a convolution,
a skip back to a tag, and dlib's add of two tensors of different channels and sizes
(zero-padded at the end, the larger size kept).
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from openlfr.convert import onnx_graph
from openlfr.convert.dlib_net import Layer

RNG = np.random.default_rng(7)


def conv(x, w, b, stride, pad):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, h, wd = x.shape
    f, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, f, oh, ow))
    for r in range(oh):
        for c in range(ow):
            patch = x[:, :, r * stride : r * stride + kh, c * stride : c * stride + kw]
            out[:, :, r, c] = np.einsum("nchw,fchw->nf", patch, w) + b
    return out


def avg_pool(x, k, s):
    oh, ow = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
    out = np.zeros((*x.shape[:2], oh, ow))
    for r in range(oh):
        for c in range(ow):
            out[:, :, r, c] = x[:, :, r * s : r * s + k, c * s : c * s + k].mean(axis=(2, 3))
    return out


def padded_add(a, b):
    shape = tuple(max(p, q) for p, q in zip(a.shape, b.shape, strict=True))
    out = np.zeros(shape)
    out[tuple(slice(0, d) for d in a.shape)] += a
    out[tuple(slice(0, d) for d in b.shape)] += b
    return out


def _layers():
    w1, b1 = RNG.normal(size=(4, 3, 3, 3)), RNG.normal(size=4)
    w2, b2 = RNG.normal(size=(6, 4, 3, 3)), RNG.normal(size=6)
    gamma, beta = RNG.normal(size=6), RNG.normal(size=6)
    fc_w, fc_b = RNG.normal(size=(6, 5)), RNG.normal(size=5)
    mean = np.array([120.0, 110.0, 100.0])

    def con(w, b, stride, pad):
        return Layer(
            "con", data={"weight": w, "bias": b, "stride": (stride,) * 2, "pads": (pad,) * 2}
        )

    layers = [
        Layer("fc", data={"weight": fc_w, "bias": fc_b}),
        Layer("avg_pool", data={"window": (0, 0), "stride": (1, 1), "pads": (0, 0)}),
        Layer("relu"),
        Layer("add_prev", {"tag": 2}),
        Layer("avg_pool", data={"window": (2, 2), "stride": (2, 2), "pads": (0, 0)}),
        Layer("skip", {"id": 1}),
        Layer("tag", {"id": 2}),
        Layer("affine", data={"gamma": gamma, "beta": beta, "conv_mode": True}),
        con(w2, b2, 2, 0),
        Layer("tag", {"id": 1}),
        Layer("relu"),
        con(w1, b1, 1, 1),
        Layer("input", data={"mean_rgb": mean, "size": (8, 8)}),
    ]

    def reference(chips: np.ndarray) -> np.ndarray:
        x = (chips.transpose(0, 3, 1, 2) - mean.reshape(1, 3, 1, 1)) / 256.0
        t1 = np.maximum(conv(x, w1, b1, 1, 1), 0)  # 4 x 8 x 8
        main = conv(t1, w2, b2, 2, 0) * gamma.reshape(1, -1, 1, 1) + beta.reshape(1, -1, 1, 1)
        skip = avg_pool(t1, 2, 2)  # 4 x 4 x 4 against main's 6 x 3 x 3
        x = np.maximum(padded_add(skip, main), 0)  # 6 x 4 x 4
        return x.mean(axis=(2, 3)) @ fc_w + fc_b

    return layers, reference


def test_graph_matches_a_direct_forward_pass() -> None:
    layers, reference = _layers()
    model = onnx_graph.build(layers, name="toy")
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("Conv") == 2 and "Pad" in ops
    assert "Mul" in ops[:4] and ops.count("Mul") == 1  # only the input scaling: affine folded
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    chips = RNG.integers(0, 256, size=(3, 8, 8, 3), dtype=np.uint8)
    out = session.run(None, {onnx_graph.INPUT: chips})[0]
    assert out.shape == (3, 5)
    np.testing.assert_allclose(out, reference(chips.astype(np.float64)), rtol=1e-4, atol=1e-4)
