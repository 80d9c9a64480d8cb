"""Detector and Embedder protocols, a small registry of backends, and the `FaceEngine`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from openlfr.errors import ConfigError
from openlfr.vision.face import Face


@runtime_checkable
class Detector(Protocol):
    """Finds faces and their five landmarks in an RGB uint8 image (H, W, 3)."""

    def detect(self, image: np.ndarray) -> list[Face]: ...


@dataclass(frozen=True)
class ChipSpec:
    """How an embedder wants its face chip cut: size in pixels and alignment convention."""

    size: int
    style: str  # "dlib" (dlib.get_face_chip) or "arcface" (similarity to ArcFace reference)
    padding: float = 0.25


@runtime_checkable
class Embedder(Protocol):
    """Turns aligned chips into L2-normalised template vectors."""

    model_id: str
    dim: int
    chip: ChipSpec

    def embed_chips(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        """(n, dim) float32, each row L2-normalised."""
        ...


@dataclass(frozen=True)
class Backend:
    name: str
    make_detector: Callable[..., Detector]
    make_embedder: Callable[..., Embedder]
    description: str = ""


_REGISTRY: dict[str, Backend] = {}

# The embedded default: score-level fusion (vision/fused.py, fusions/default.json) of
# dlib's ResNet on ONNX Runtime (`dlib-onnx`) and the HSE faceres MobileNet (`faceres`),
# weights fitted on LFW DevTrain: TPIR at FPIR 0.01 on LFW open-set 0.72 against dlib's
# 0.58 alone, for ~8 ms more per face. Every single model stays selectable by name.
DEFAULT_BACKEND = "fused"


def register(backend: Backend) -> None:
    _REGISTRY[backend.name] = backend


def backend_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get_backend(name: str) -> Backend:
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown backend {name!r}; choose one of: {', '.join(sorted(_REGISTRY))}"
        ) from None


def _load_builtin() -> None:
    # Imported lazily so that `openlfr --help` does not load dlib or onnxruntime. Not
    # skipped when the registry is non-empty: importing one backend module directly
    # registers only that one. (Repeated imports are a dictionary lookup.)
    from openlfr.vision import (  # noqa: F401
        dlib_backend,
        dlib_onnx_backend,
        fused,
        onnx_backend,
        tfjs_backend,
    )
