"""What every chip embedder on ONNX Runtime shares: one cached session, batched runs,
flip averaging, L2 normalisation and chip checks. A subclass names its network
(`model_path`), its chip and dimension, and how chips become the network's input
(`preprocess`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from openlfr.errors import ConfigError
from openlfr.vision.backends import ChipSpec
from openlfr.vision.onnx_backend import choose_providers
from openlfr.vision.ort_session import cached_session

log = logging.getLogger(__name__)

DEFAULT_BATCH = 32
_lock = threading.Lock()  # one conversion at a time within a process


class OnnxChipEmbedder:
    """Aligned chips -> L2-normalised templates on ONNX Runtime.

    `flip` averages each chip's template with its mirror image's (model_id gets "+flip");
    `threads` is onnxruntime's intra-op thread count (0: all cores); `batch_size` bounds
    one run's chips; `device` is "auto" (CUDA when present), "cpu" or "cuda"; `provider`
    says which ran.
    """

    label: str  # the network's name in logs
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
            path = self.model_path()
        providers = tuple(choose_providers(device))
        self.session = cached_session(str(path), providers, int(threads), self.label)
        self.input_name = self.session.get_inputs()[0].name
        self.provider = self.session.get_providers()[0]
        self.model_id = self.base_model_id + ("+flip" if self.flip else "")
        log.info("%s embedder (%s) on %s", self.label, self.model_id, self.provider)

    def model_path(self) -> Path:
        """The ONNX file (converted and cached on first use)."""
        raise NotImplementedError

    def preprocess(self, chips: np.ndarray) -> np.ndarray:
        """(n, size, size, 3) uint8 RGB -> the network's input (default: as they are)."""
        return np.ascontiguousarray(chips)

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


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
