"""The face engine: detect, assess quality, align and embed, as one call or stage by stage."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from openlfr.vision import align, quality
from openlfr.vision.backends import DEFAULT_BACKEND, Detector, Embedder, get_backend
from openlfr.vision.face import Face, Template
from openlfr.vision.normaliser import NormalisedEmbedder
from openlfr.vision.normaliser import resolve as resolve_normaliser


class FaceEngine:
    """Glue between a Detector and an Embedder; knows nothing of galleries or video."""

    def __init__(self, detector: Detector, embedder: Embedder) -> None:
        self.detector = detector
        self.embedder = embedder

    @classmethod
    def from_backend(
        cls, name: str = DEFAULT_BACKEND, *, normaliser: str | Path | None = "auto", **options
    ) -> FaceEngine:
        """A backend's detector and embedder. `normaliser`: "auto" wraps the embedder in
        the normaliser fitted for its model in the data directory, if there is one (see
        vision/normaliser.py); "none" never does; a path uses that file."""
        backend = get_backend(name)
        embedder = backend.make_embedder(**options)
        fitted = resolve_normaliser(embedder.model_id, normaliser)
        if fitted is not None:
            embedder = NormalisedEmbedder(embedder, fitted)
        return cls(backend.make_detector(**options), embedder)

    @property
    def base_engine(self) -> FaceEngine:
        """The same engine without its normaliser (itself when it has none)."""
        if isinstance(self.embedder, NormalisedEmbedder):
            return FaceEngine(self.detector, self.embedder.base)
        return self

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces with landmarks and a quality verdict, largest first."""
        faces = self.detector.detect(image)
        faces = [f.with_(quality=quality.assess(image, f)) for f in faces]
        return sorted(faces, key=lambda f: f.width * f.height, reverse=True)

    def chips(self, image: np.ndarray, faces: Sequence[Face]) -> list[np.ndarray]:
        return [align.chip(image, f, self.embedder.chip) for f in faces]

    def embed(self, image: np.ndarray, faces: Sequence[Face]) -> list[Face]:
        """The same faces with a template each (one batched call to the embedder)."""
        if not faces:
            return []
        specs = getattr(self.embedder, "chip_specs", None)
        if specs:  # a fused embedder: each component model wants its own chip
            chip_sets = [[align.chip(image, f, spec) for f in faces] for spec in specs]
            vectors = self.embedder.embed_chip_sets(chip_sets)
        else:
            vectors = self.embedder.embed_chips(self.chips(image, faces))
        return [
            f.with_(template=Template(np.asarray(v, dtype=np.float32), self.model_id))
            for f, v in zip(faces, vectors, strict=True)
        ]

    def analyse(self, image: np.ndarray) -> list[Face]:
        """Detect and embed every face in one image."""
        return self.embed(image, self.detect(image))
