"""Inputs of the TF.js reference fixtures, regenerated identically by the tests and by
scripts/tfjs-reference/make_inputs.py (which hands them to TF.js itself).

- "pattern": a batch of two images from an integer formula (exact in float32);
- "astronaut": the face in scikit-image's astronaut photo, cut as a dlib chip (HOG
  detector and 5 landmarks, dlib.get_face_chip) at the model's size, as float32: BGR minus
  the Caffe means for faceres (its training input), raw RGB 0..255 for mobileface.
"""

from __future__ import annotations

import numpy as np

# model -> (TF input node, TF output node, chip size, chip padding)
MODELS = {
    "faceres": ("input_1", "global_pooling/Mean", 224, 0.5),
    "faceres-deep": ("input_1", "global_pooling/Mean", 224, 0.5),
    "mobileface": ("data", "batchnorm0/add_1", 112, 0.25),
}
CAFFE_BGR_MEANS = np.array([103.939, 116.779, 123.68], np.float32)


def pattern(size: int) -> np.ndarray:
    i = np.arange(2 * size * size * 3, dtype=np.int64)
    return (((i * 7919) % 251) - 125).astype(np.float32).reshape(2, size, size, 3)


def astronaut(model: str) -> np.ndarray:
    import skimage.data

    from openlfr.vision import align
    from openlfr.vision.backends import ChipSpec
    from openlfr.vision.dlib_backend import DlibDetector

    _, _, size, padding = MODELS[model]
    image = np.ascontiguousarray(skimage.data.astronaut()[:, :, :3])
    face = DlibDetector(upsample=1).detect(image)[0]
    chip = align.chip(image, face, ChipSpec(size, "dlib", padding)).astype(np.float32)
    if model.startswith("faceres"):
        chip = chip[:, :, ::-1] - CAFFE_BGR_MEANS
    return np.ascontiguousarray(chip[None])


def inputs(model: str) -> dict[str, np.ndarray]:
    size = MODELS[model][2]
    return {"pattern": pattern(size), "astronaut": astronaut(model)}


# Detectors: model -> (TF input node, its outputs (TF node, fixture name)). Their inputs
# are whole images at the model's size, scaled to [-1, 1] as MediaPipe feeds BlazeFace.
DETECTORS = {
    "blazeface-back": (
        "input",
        (
            ("Identity", "scores_16"),
            ("Identity_1", "scores_8"),
            ("Identity_2", "boxes_16"),
            ("Identity_3", "boxes_8"),
        ),
    ),
}


def detector_inputs(model: str) -> dict[str, np.ndarray]:
    """ "pattern": the integer pattern in [-1, 1]; "astronaut": scikit-image's astronaut
    photo (512 px) averaged 2x2 down to 256 px, in [-1, 1] (exact float32 arithmetic)."""
    import skimage.data

    assert model in DETECTORS
    image = skimage.data.astronaut()[:, :, :3].astype(np.float32)
    small = image.reshape(256, 2, 256, 2, 3).sum(axis=(1, 3)) / np.float32(4)
    return {
        "pattern": pattern(256)[:1] / np.float32(125),
        "astronaut": np.ascontiguousarray((small / np.float32(127.5) - 1)[None]),
    }
