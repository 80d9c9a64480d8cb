"""The second opinion on a track: dlib's MMOD CNN on a crop around the box."""

from __future__ import annotations

import numpy as np
from skimage import data

from openlfr.live.verify import FaceVerifier
from openlfr.vision.engine import FaceEngine


def test_a_real_face_passes_and_a_window_grid_does_not():
    image = data.astronaut()
    faces = FaceEngine.from_backend("dlib-onnx", cnn_fallback=False).detect(image)
    face = max(faces, key=lambda f: f.width)
    verifier = FaceVerifier()
    assert verifier.is_face(image, face.box)
    # Small versions of the face (a far-away passer-by) are rescaled first.
    small = image[::4, ::4].copy()
    assert verifier.is_face(small, tuple(v / 4 for v in face.box))
    # A facade: dark windows in rows on a flat wall (what BlazeFace fired on).
    wall = np.full((300, 300, 3), (170, 120, 120), np.uint8)
    for y in range(20, 300, 60):
        for x in range(20, 300, 50):
            wall[y : y + 30, x : x + 22] = (60, 60, 70)
    assert not verifier.is_face(wall, (60.0, 60.0, 200.0, 200.0))
    # Degenerate boxes are no face, not an error.
    assert not verifier.is_face(wall, (10.0, 10.0, 10.0, 40.0))
    assert not verifier.is_face(wall, (400.0, 400.0, 500.0, 500.0))
