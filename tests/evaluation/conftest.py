"""Test doubles for the evaluation package: a tiny face engine that reads colour as identity.

A "face" is any image that is not black; its template is the normalised mean colour of
the image's centre, so images of one colour are one person. Real engines are exercised
by the shared-data integration tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openlfr.evaluation.cache import EngineSpec
from openlfr.vision.face import Face, Quality, Template


class FakeDetector:
    cache_key = "fake-detector-v1"

    def __init__(self):
        self.calls = 0

    def detect(self, image):
        self.calls += 1
        if image.mean() < 10:
            return []
        h, w = image.shape[:2]
        lm = np.array(
            [
                [w * 0.3, h * 0.4],
                [w * 0.4, h * 0.4],
                [w * 0.7, h * 0.4],
                [w * 0.6, h * 0.4],
                [w * 0.5, h * 0.6],
            ]
        )
        faces = [Face((w * 0.25, h * 0.25, w * 0.75, h * 0.75), 0.9, lm)]
        if image[0, 0].sum() == 3 * 255:  # a white corner marks a second, off-centre face
            faces.append(Face((0.0, 0.0, w * 0.2, h * 0.2), 0.5, lm / 4))
        return faces


class FakeEngine:
    model_id = "fake-colour-v1"

    def __init__(self):
        self.detector = FakeDetector()

    def embed(self, image, faces):
        out = []
        for f in faces:
            x1, y1, x2, y2 = (int(v) for v in f.box)
            v = image[y1:y2, x1:x2].reshape(-1, 3).mean(axis=0) + 1.0
            v = np.concatenate([v, [40.0]]).astype(np.float32)
            out.append(f.with_(template=Template(v / np.linalg.norm(v), self.model_id)))
        return out

    def analyse(self, image):
        faces = self.detector.detect(image)
        faces = [f.with_(quality=Quality(0.8, ("blur",), 40.0, 100.0, 0.1, 120.0)) for f in faces]
        return self.embed(image, faces)


class FakeSpec(EngineSpec):
    """An EngineSpec whose engine is the fake (single process only)."""

    def build(self):
        return FakeEngine()


def write_image(path: Path, colour, size: int = 40, corner_white: bool = False) -> Path:
    arr = np.zeros((size, size, 3), dtype=np.uint8)
    arr[:] = colour
    if corner_white:
        arr[:4, :4] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return path


# Distinct, well-separated colours: one per person.
PALETTE = [
    (200, 30, 30),
    (30, 200, 30),
    (30, 30, 200),
    (200, 200, 30),
    (30, 200, 200),
    (200, 30, 200),
    (120, 60, 20),
    (20, 120, 60),
    (60, 20, 120),
    (90, 90, 90),
]


@pytest.fixture
def fake_engine():
    return FakeEngine()


@pytest.fixture
def fake_spec():
    return FakeSpec("fake")


@pytest.fixture
def people_dir(tmp_path) -> Path:
    """people P0..P3 with 3 images each (slight colour jitter), P4..P9 with one image,
    and P3's second image black (a missed detection)."""
    root = tmp_path / "faces"
    for i, colour in enumerate(PALETTE):
        n = 3 if i < 4 else 1
        for k in range(n):
            c = tuple(min(255, v + 3 * k) for v in colour)
            if i == 3 and k == 1:
                c = (0, 0, 0)
            write_image(root / f"P{i}" / f"P{i}_{k + 1:04d}.jpg", c)
    return root
