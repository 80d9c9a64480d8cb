"""dlib DNN layer stacks: their definitions (as in dlib's C++ templates) and a parser.

A dlib network is a nested C++ type. `serialize(add_layer)` writes its version, then its
whole subnetwork, then its own layer details, so a file holds every layer's version from
the top down, the input layer, then each layer's details from the bottom up (dlib/dnn/
core.h). Nothing in the stream names the layer types, so the parser walks a definition
of the network written out here from dlib's own source, and checks every layer's name and
hyper-parameters as it goes: another network fails loudly instead of parsing as garbage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from openlfr.convert.dlib_serial import DlibFormatError, Reader

__all__ = ["DlibFormatError", "Layer", "mmod_definition", "parse", "resnet_v1_definition"]


@dataclass
class Layer:
    """One entry of a network, top (loss) first. `kind` is one of KINDS; `args` are the
    template parameters from the definition; `data` is filled in by `parse`."""

    kind: str
    args: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)


KINDS = (
    "loss",
    "input",
    "tag",
    "skip",
    "con",
    "affine",
    "relu",
    "max_pool",
    "avg_pool",
    "add_prev",
    "fc",
)
_NOT_ADD_LAYERS = {"loss", "input", "tag", "skip"}


# --- dlib_face_recognition_resnet_model_v1 (tools/python/src/face_recognition.cpp) -------


def _con(n: int, size: int, stride: int) -> Layer:
    return Layer("con", {"num_filters": n, "nr": size, "nc": size, "stride": stride})


def _block(n: int, stride: int) -> list[Layer]:
    # block<N,BN,stride,SUBNET> = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>
    return [
        Layer("affine"),
        _con(n, 3, 1),
        Layer("relu"),
        Layer("affine"),
        _con(n, 3, stride),
    ]


def _ares(n: int) -> list[Layer]:
    # relu<add_prev1<block<N,affine,1,tag1<SUBNET>>>>
    return [Layer("relu"), Layer("add_prev", {"tag": 1}), *_block(n, 1), Layer("tag", {"id": 1})]


def _ares_down(n: int) -> list[Layer]:
    # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,affine,2,tag1<SUBNET>>>>>>>
    return [
        Layer("relu"),
        Layer("add_prev", {"tag": 2}),
        Layer("avg_pool", {"nr": 2, "nc": 2, "stride": 2}),
        Layer("skip", {"id": 1}),
        Layer("tag", {"id": 2}),
        *_block(n, 2),
        Layer("tag", {"id": 1}),
    ]


def resnet_v1_definition() -> list[Layer]:
    """dlib's `anet_type` face recognition ResNet, top (loss) first, input last."""
    levels: list[Layer] = []
    levels += _ares_down(256)  # alevel0
    levels += _ares(256) + _ares(256) + _ares_down(256)  # alevel1
    levels += _ares(128) + _ares(128) + _ares_down(128)  # alevel2
    levels += _ares(64) + _ares(64) + _ares(64) + _ares_down(64)  # alevel3
    levels += _ares(32) + _ares(32) + _ares(32)  # alevel4
    return [
        Layer("loss", {"name": "loss_metric_2"}),
        Layer("fc", {"num_outputs": 128, "bias": False}),
        Layer("avg_pool", {"nr": 0, "nc": 0, "stride": 1}),  # avg_pool_everything
        *levels,
        Layer("max_pool", {"nr": 3, "nc": 3, "stride": 2}),
        Layer("relu"),
        Layer("affine"),
        _con(32, 7, 2),
        Layer("input", {"name": "input_rgb_image_sized", "size": 150}),
    ]


# --- mmod_human_face_detector (dlib/examples/dnn_mmod_face_detection_ex.cpp) -------------


def _rcon(n: int, size: int, stride: int) -> list[Layer]:
    # relu<affine<con<n,size,size,stride,stride,SUBNET>>>
    return [Layer("relu"), Layer("affine"), _con(n, size, stride)]


def mmod_definition() -> list[Layer]:
    """dlib's CNN face detector: loss_mmod<con<1,9,9,1,1,rcon5<rcon5<rcon5<downsampler<
    input_rgb_image_pyramid<pyramid_down<6>>>>>>>>, top first. The file was saved by the
    training net, so its affine layers are stored as bn_con (converted on reading)."""
    return [
        Layer("loss", {"name": "loss_mmod_"}),
        _con(1, 9, 1),
        *_rcon(45, 5, 1),
        *_rcon(45, 5, 1),
        *_rcon(45, 5, 1),
        *_rcon(32, 5, 2),  # downsampler
        *_rcon(32, 5, 2),
        *_rcon(16, 5, 2),
        Layer("input", {"name": "input_rgb_image_pyramid"}),
    ]


# --- parsing -----------------------------------------------------------------------------


def parse(data: bytes, definition: list[Layer]) -> list[Layer]:
    """Fill each layer's `data` from a dlib file's bytes; the whole file must be consumed."""
    reader = Reader(data)
    layers = definition
    if layers[-1].kind != "input":
        raise ValueError("a definition ends with its input layer")
    versions: dict[int, int] = {}
    # Top-down: each wrapper's version (the loss layer also writes its details here).
    for i, layer in enumerate(layers[:-1]):
        if layer.kind == "loss":
            reader.version(1)
            _read_loss(reader, layer)
        elif layer.kind in ("tag", "skip"):
            reader.version(1)
        elif i == len(layers) - 2:
            versions[i] = reader.version(2, 3)  # add_layer directly on the input layer
        else:
            versions[i] = reader.version(1, 2)
    bottom = len(layers) - 2
    _read_input(reader, layers[-1])
    _read_details(reader, layers[bottom])
    _read_state(reader, versions[bottom], on_input=True)
    # Bottom-up: each computational layer's details and its (empty) training state.
    for i in range(bottom - 1, -1, -1):
        if layers[i].kind in _NOT_ADD_LAYERS:
            continue
        _read_details(reader, layers[i])
        _read_state(reader, versions[i], on_input=False)
    if not reader.at_end():
        raise DlibFormatError(f"{len(data) - reader.pos} unexpected bytes after the network")
    return layers


def _read_state(reader: Reader, version: int, *, on_input: bool) -> None:
    # this_layer_setup_called, gradient_input_is_stale, get_output_and_gradient_input_disabled
    for _ in range(3):
        reader.bool()
    reader.tensor()  # x_grad
    reader.tensor()  # cached_output
    if on_input:
        reader.tensor()  # grad_final
        if version >= 3:
            reader.int()  # _sample_expansion_factor
    elif version >= 2:
        reader.tensor()  # params_grad


def _check(layer: Layer, name: str, found, expected) -> None:
    if expected is not None and found != expected:
        raise DlibFormatError(f"{layer.kind} layer: {name} is {found}, expected {expected}")


def _read_loss(reader: Reader, layer: Layer) -> None:
    name = reader.expect(layer.args["name"])
    if name == "loss_metric_2":
        layer.data = {"margin": reader.float(), "dist_thresh": reader.float()}
    elif name == "loss_mmod_":
        layer.data = _read_mmod_options(reader)


def _read_mmod_options(reader: Reader) -> dict:
    # mmod_options version 1 (dlib/dnn/loss.h): one detector window, two overlap testers.
    reader.version(1)
    width, height = reader.int(), reader.int()
    options = {
        "detector_window": (width, height),
        "loss_per_false_alarm": reader.float(),
        "loss_per_missed_target": reader.float(),
        "truth_match_iou_threshold": reader.float(),
    }
    # test_box_overlap: iou_thresh, percent_covered_thresh
    options["overlaps_nms"] = (reader.float(), reader.float())
    options["overlaps_ignore"] = (reader.float(), reader.float())
    return options


def _read_input(reader: Reader, layer: Layer) -> None:
    reader.expect(layer.args["name"])
    if layer.args["name"] == "input_rgb_image_sized":
        mean = [reader.float() for _ in range(3)]
        nr, nc = reader.int(), reader.int()
        _check(layer, "rows", nr, layer.args["size"])
        _check(layer, "columns", nc, layer.args["size"])
        layer.data = {"mean_rgb": np.array(mean, np.float64), "size": (nr, nc)}
    elif layer.args["name"] == "input_rgb_image_pyramid":
        # The pyramid itself is built outside the network (tiled, pyramid_down<6>).
        layer.data = {"mean_rgb": np.array([reader.float() for _ in range(3)]), "size": None}


def _read_details(reader: Reader, layer: Layer) -> None:
    read = {
        "con": _read_con,
        "affine": _read_affine,
        "relu": _read_relu,
        "max_pool": _read_pool,
        "avg_pool": _read_pool,
        "add_prev": _read_add_prev,
        "fc": _read_fc,
    }[layer.kind]
    read(reader, layer)


def _read_con(reader: Reader, layer: Layer) -> None:
    reader.expect("con_4")
    params = reader.tensor().ravel()
    num_filters, nr, nc = reader.int(), reader.int(), reader.int()
    stride_y, stride_x = reader.int(), reader.int()
    pad_y, pad_x = reader.int(), reader.int()
    filters, biases = reader.alias(), reader.alias()
    for _ in range(4):  # learning-rate and weight-decay multipliers
        reader.float()
    args = layer.args
    _check(layer, "num_filters", num_filters, args["num_filters"])
    _check(layer, "nr", nr, args["nr"])
    _check(layer, "nc", nc, args["nc"])
    _check(layer, "stride", (stride_y, stride_x), (args["stride"], args["stride"]))
    if filters.size + biases.size != params.size or filters.num_samples != num_filters:
        raise DlibFormatError(f"con layer: params of size {params.size} do not fit {filters}")
    weight = params[: filters.size].reshape(num_filters, filters.k, nr, nc)
    layer.data = {
        "weight": weight,
        "bias": params[filters.size :].copy(),
        "stride": (stride_y, stride_x),
        "pads": (pad_y, pad_x),
    }


def _read_affine(reader: Reader, layer: Layer) -> None:
    name = reader.expect("affine_", "bn_con2", "bn_fc2")
    if name != "affine_":
        layer.data = _read_bn_as_affine(reader, name)
        return
    params = reader.tensor().ravel()
    gamma, beta = reader.alias(), reader.alias()
    mode = reader.int()  # CONV_MODE = 0 (per channel), FC_MODE = 1
    if gamma.size + beta.size != params.size:
        raise DlibFormatError(f"affine layer: params of size {params.size} do not fit {gamma}")
    layer.data = {
        "gamma": params[: gamma.size].copy(),
        "beta": params[gamma.size :].copy(),
        "conv_mode": mode == 0,
    }


def _read_bn_as_affine(reader: Reader, name: str) -> dict:
    # bn_ as serialized by dlib/dnn/layers.h, turned into an affine_ as affine_(const bn_&)
    # does: gamma / sqrt(running_variance + eps), beta - that * running_mean.
    params = reader.tensor().ravel()
    gamma_shape, beta_shape = reader.alias(), reader.alias()
    reader.tensor()  # means (of the last training batch)
    reader.tensor()  # invstds
    running_means = reader.tensor().ravel()
    running_variances = reader.tensor().ravel()
    reader.int()  # num_updates
    reader.int()  # running_stats_window_size
    for _ in range(4):  # learning-rate and weight-decay multipliers
        reader.float()
    eps = reader.float()
    if gamma_shape.size + beta_shape.size != params.size:
        raise DlibFormatError(f"{name} layer: params of size {params.size} do not fit")
    gamma = params[: gamma_shape.size].astype(np.float32)
    beta = params[gamma_shape.size :].astype(np.float32)
    scale = gamma * (np.float32(1.0) / np.sqrt(running_variances + np.float32(eps)))
    return {
        "gamma": scale.astype(np.float32),
        "beta": (beta - scale * running_means).astype(np.float32),
        "conv_mode": name == "bn_con2",
    }


def _read_relu(reader: Reader, layer: Layer) -> None:
    reader.expect("relu_")


def _read_pool(reader: Reader, layer: Layer) -> None:
    reader.expect(f"{layer.kind}_2")
    nr, nc = reader.int(), reader.int()
    stride_y, stride_x = reader.int(), reader.int()
    pad_y, pad_x = reader.int(), reader.int()
    args = layer.args
    _check(layer, "window", (nr, nc), (args["nr"], args["nc"]))
    _check(layer, "stride", (stride_y, stride_x), (args["stride"], args["stride"]))
    layer.data = {"window": (nr, nc), "stride": (stride_y, stride_x), "pads": (pad_y, pad_x)}


def _read_add_prev(reader: Reader, layer: Layer) -> None:
    reader.expect("add_prev_")


def _read_fc(reader: Reader, layer: Layer) -> None:
    reader.expect("fc_2")
    num_outputs, num_inputs = reader.int(), reader.int()
    params = reader.tensor().ravel()
    weights, _biases = reader.alias(), reader.alias()
    bias_mode = reader.int()  # FC_HAS_BIAS = 0, FC_NO_BIAS = 1
    for _ in range(4):
        reader.float()
    _check(layer, "num_outputs", num_outputs, layer.args["num_outputs"])
    has_bias = bias_mode == 0
    _check(layer, "bias", has_bias, layer.args["bias"])
    n_weights = num_inputs * num_outputs
    if weights.size != n_weights or params.size < n_weights:
        raise DlibFormatError(f"fc layer: params of size {params.size} do not fit {weights}")
    # dlib computes output = input (n, num_inputs) x W (num_inputs, num_outputs).
    layer.data = {
        "weight": params[:n_weights].reshape(num_inputs, num_outputs),
        "bias": params[n_weights : n_weights + num_outputs].copy() if has_bias else None,
    }


def finite(layers: list[Layer]) -> bool:
    """True when every parsed number is finite (a cheap corruption check)."""
    for layer in layers:
        for value in layer.data.values():
            if isinstance(value, np.ndarray) and not np.all(np.isfinite(value)):
                return False
            if isinstance(value, float) and not math.isfinite(value):
                return False
    return True
