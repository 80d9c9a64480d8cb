"""Fixtures: a tiny LFW-layout folder of drawn faces (no shared data needed) and a small
scene configuration that renders in about a second."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from openlfr.simulate import SceneConfig


def drawn_face(colour: tuple[int, int, int], seed: int) -> np.ndarray:
    """A 250x250 RGB picture with a face-like oval of one colour where LFW's face is."""
    rng = np.random.default_rng(seed)
    img = rng.integers(60, 120, (250, 250, 3), dtype=np.uint8)
    cv2.ellipse(img, (124, 132), (50, 60), 0, 0, 360, colour, -1)
    for x in (105, 145):
        cv2.circle(img, (x, 118), 6, (20, 20, 20), -1)
    cv2.line(img, (108, 160), (140, 160), (90, 30, 30), 3)
    return img


@pytest.fixture
def faces_dir(tmp_path: Path) -> Path:
    """8 people: the first 4 with 3 photos each, the others with one."""
    root = tmp_path / "faces"
    for i in range(8):
        person = root / f"Person_{i}"
        person.mkdir(parents=True)
        for j in range(3 if i < 4 else 1):
            colour = (40 + 25 * i, 200 - 20 * i, 80 + 15 * j)
            img = drawn_face(colour, seed=10 * i + j)
            cv2.imwrite(str(person / f"Person_{i}_{j + 1:04d}.jpg"), img[:, :, ::-1])
    return root


@pytest.fixture
def small_config() -> SceneConfig:
    return SceneConfig(
        minutes=0.1,
        seed=5,
        width=320,
        height=240,
        fps=10,
        pass_seconds=(2.0, 3.0),
        far_face=(12.0, 16.0),
        near_face=(50.0, 60.0),
    )


@pytest.fixture
def face_image():
    """``face_image(colour, seed)``: a drawn LFW-like face (see `drawn_face`)."""
    return drawn_face
