"""A second chance for verification images where the detector found no face.

Face-centred crop sets (LFW's deep-funneled images, UTKFace's aligned crops) put every
face at about the same place. Where the detector misses one, the average landmarks of the
faces it did find in images of the same size are a good guess; embedding that "mean
face" is the backend-agnostic form of the usual LFW centre-crop convention. It is used
for verification only (identification counts misses as misses) and is always counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from openlfr.evaluation.cache import ImageResult, primary_face
from openlfr.vision.face import Face

MIN_EXAMPLES = 5  # fewer detected faces of one image size give no reliable average


def mean_faces(results: Sequence[ImageResult]) -> dict[tuple[int, int], Face]:
    """Per image shape: a face with the mean box and landmarks of the primary faces."""
    found: dict[tuple[int, int], list[Face]] = defaultdict(list)
    for r in results:
        face = primary_face(r)
        if r.shape is not None and face is not None and face.landmarks is not None:
            found[r.shape].append(face)
    out = {}
    for shape, faces in found.items():
        schemes = {f.scheme for f in faces}
        if len(faces) < MIN_EXAMPLES or len(schemes) != 1:
            continue
        box = tuple(float(v) for v in np.mean([f.box for f in faces], axis=0))
        landmarks = np.mean([f.landmarks for f in faces], axis=0)
        out[shape] = Face(box, 0.0, landmarks, schemes.pop(), extras={"fallback": "mean-face"})
    return out


def embed_mean_faces(engine, results: Sequence[ImageResult]) -> dict:
    """{path: template Face} for results with no detected face (and no detector-made
    fallback), where images of their size had enough detected faces to average."""
    from openlfr.errors import OpenLFRError
    from openlfr.vision.image import load_image

    templates = mean_faces(results)
    out = {}
    for r in results:
        if r.faces or r.fallback is not None or r.error or r.shape not in templates:
            continue
        try:
            image = load_image(r.path)
        except OpenLFRError:
            continue
        embedded = engine.embed(image, [templates[r.shape]])
        if embedded and embedded[0].template is not None:
            out[r.path] = embedded[0]
    return out
