"""Parsing dlib's face ResNet file: the structure read matches dlib's C++ definition."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.convert import dlib_net
from openlfr.convert.dlib_serial import DlibFormatError
from openlfr.vision.dlib_backend import RESNET, model_path


@pytest.fixture(scope="module")
def resnet_bytes() -> bytes:
    return model_path(RESNET).read_bytes()


def test_the_whole_file_parses_into_the_defined_layers(resnet_bytes: bytes) -> None:
    layers = dlib_net.parse(resnet_bytes, dlib_net.resnet_v1_definition())
    kinds = [layer.kind for layer in layers]
    assert kinds.count("con") == 29
    assert kinds.count("add_prev") == 14
    assert kinds[0] == "loss" and kinds[-1] == "input"
    first_conv = layers[-2]
    assert first_conv.data["weight"].shape == (32, 3, 7, 7)
    assert first_conv.data["stride"] == (2, 2) and first_conv.data["pads"] == (0, 0)
    fc = layers[1]
    assert fc.data["weight"].shape == (256, 128) and fc.data["bias"] is None
    assert layers[-1].data["size"] == (150, 150)
    assert layers[0].data["dist_thresh"] == pytest.approx(0.6)
    assert dlib_net.finite(layers)
    for layer in layers:
        if layer.kind == "affine":
            assert layer.data["conv_mode"]
            assert np.all(np.isfinite(layer.data["gamma"]))


def test_a_truncated_file_fails_clearly(resnet_bytes: bytes) -> None:
    with pytest.raises(DlibFormatError, match="ends early"):
        dlib_net.parse(resnet_bytes[: len(resnet_bytes) // 2], dlib_net.resnet_v1_definition())


def test_trailing_bytes_are_refused(resnet_bytes: bytes) -> None:
    with pytest.raises(DlibFormatError, match="unexpected bytes"):
        dlib_net.parse(resnet_bytes + b"\x00", dlib_net.resnet_v1_definition())


def test_another_network_does_not_parse_as_the_resnet() -> None:
    mmod = model_path("mmod_human_face_detector.dat").read_bytes()
    with pytest.raises(DlibFormatError, match="loss_metric_2"):
        dlib_net.parse(mmod, dlib_net.resnet_v1_definition())


def test_a_definition_that_disagrees_with_the_file_fails(resnet_bytes: bytes) -> None:
    definition = dlib_net.resnet_v1_definition()
    definition[-2].args["num_filters"] = 64  # the first convolution really has 32
    with pytest.raises(DlibFormatError, match="num_filters"):
        dlib_net.parse(resnet_bytes, definition)
