"""SCRFD pre- and post-processing in plain numpy, as InsightFace's `scrfd.py` does it.

Kept apart from ONNX Runtime so the arithmetic (letterbox, anchors, distance decoding, NMS)
can be read and tested on its own. Coordinates here are in the model input's pixels until
`Letterbox.to_image` maps them back.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openlfr.errors import ModelNotFoundError

INPUT_MEAN = 127.5
INPUT_STD = 128.0

# Outputs per model variant: 3 or 5 FPN levels, each with score, bbox and optionally kps.
# InsightFace's SCRFD exports with 3 levels use 2 anchors per location, those with 5 use 1.
LAYOUTS = {
    6: ((8, 16, 32), 2, False),
    9: ((8, 16, 32), 2, True),
    10: ((8, 16, 32, 64, 128), 1, False),
    15: ((8, 16, 32, 64, 128), 1, True),
}


@dataclass(frozen=True)
class Letterbox:
    """An image resized into the model's input keeping its aspect, padded right/bottom."""

    blob: np.ndarray  # (1, 3, H, W) float32, normalised
    scale: float  # model pixels per image pixel

    def to_image(self, points: np.ndarray) -> np.ndarray:
        return points / self.scale


def letterbox(image: np.ndarray, size: tuple[int, int]) -> Letterbox:
    """Resize an RGB uint8 image into `size` (width, height) as InsightFace does.

    InsightFace feeds BGR frames through cv2's blobFromImage(swapRB=True), so the network
    sees RGB; our images are RGB already, so no swap happens here.
    """
    width, height = size
    img_h, img_w = image.shape[:2]
    im_ratio = img_h / img_w  # the same float arithmetic as InsightFace, to round alike
    if im_ratio > height / width:
        new_h = height
        new_w = max(1, int(new_h / im_ratio))
    else:
        new_w = width
        new_h = max(1, int(new_w * im_ratio))
    scale = new_h / img_h
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    canvas[:new_h, :new_w] = cv2.resize(image, (new_w, new_h))
    blob = (canvas.astype(np.float32) - INPUT_MEAN) / INPUT_STD
    return Letterbox(np.ascontiguousarray(blob.transpose(2, 0, 1)[None]), scale)


def anchor_centres(height: int, width: int, stride: int, num_anchors: int) -> np.ndarray:
    """(height*width*num_anchors, 2) x, y of each anchor: the top-left of its cell."""
    ys, xs = np.mgrid[:height, :width]
    centres = (np.stack([xs, ys], axis=-1).astype(np.float32) * stride).reshape(-1, 2)
    if num_anchors > 1:
        centres = np.repeat(centres, num_anchors, axis=0)
    return centres


def distance2bbox(points: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Left/top/right/bottom distances from each point to x1, y1, x2, y2 boxes."""
    return np.stack(
        [
            points[:, 0] - distance[:, 0],
            points[:, 1] - distance[:, 1],
            points[:, 0] + distance[:, 2],
            points[:, 1] + distance[:, 3],
        ],
        axis=-1,
    )


def distance2kps(points: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """(n, 2k) offsets from each point to (n, k, 2) keypoints."""
    offsets = distance.reshape(len(distance), distance.shape[1] // 2, 2)
    return points[:, None, :] + offsets


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first.

    Uses InsightFace's +1 pixel area convention so results match its detector exactly.
    """
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        overlap = inter / (areas[i] + areas[rest] - inter)
        order = rest[overlap <= threshold]
    return np.asarray(keep, dtype=np.int64)


@dataclass(frozen=True)
class Detections:
    boxes: np.ndarray  # (n, 4) x1, y1, x2, y2
    scores: np.ndarray  # (n,)
    keypoints: np.ndarray | None  # (n, 5, 2) or None for models without them


def _levels(
    outputs: list[np.ndarray], input_hw: tuple[int, int]
) -> tuple[list[tuple[int, np.ndarray, np.ndarray, np.ndarray | None]], int]:
    """Group raw outputs by FPN level, by their shapes rather than their order.

    Exports differ in output order and in whether a batch axis is present; each output's
    last axis (1 score, 4 box, 10 keypoint distances) and row count (cells x anchors at
    one stride) say what it is unambiguously.
    """
    if len(outputs) not in LAYOUTS:
        raise ModelNotFoundError(
            f"detector gave {len(outputs)} outputs; an SCRFD model gives 6, 9, 10 or 15"
        )
    strides, num_anchors, _ = LAYOUTS[len(outputs)]
    height, width = input_hw
    rows_to_stride = {(height // s) * (width // s) * num_anchors: s for s in strides}
    parts: dict[tuple[int, int], np.ndarray] = {}
    for out in outputs:
        arr = out[0] if out.ndim == 3 else out
        if arr.ndim != 2 or arr.shape[1] not in (1, 4, 10) or arr.shape[0] not in rows_to_stride:
            raise ModelNotFoundError(
                f"detector output of shape {out.shape} does not fit SCRFD at input {width}x{height}"
            )
        parts[(rows_to_stride[arr.shape[0]], arr.shape[1])] = arr
    levels = []
    for s in strides:
        if (s, 1) not in parts or (s, 4) not in parts:
            raise ModelNotFoundError(f"detector outputs lack scores or boxes at stride {s}")
        levels.append((s, parts[(s, 1)], parts[(s, 4)], parts.get((s, 10))))
    return levels, num_anchors


def decode(
    outputs: list[np.ndarray],
    input_hw: tuple[int, int],
    score_threshold: float = 0.5,
    nms_threshold: float = 0.4,
) -> Detections:
    """Boxes, scores and keypoints (model input pixels) from an SCRFD model's raw outputs."""
    levels, num_anchors = _levels(outputs, input_hw)
    height, width = input_hw
    all_scores, all_boxes, all_kps = [], [], []
    with_kps = all(kps is not None for _, _, _, kps in levels)
    for stride, scores, boxes, kps in levels:
        centres = anchor_centres(height // stride, width // stride, stride, num_anchors)
        keep = np.flatnonzero(scores[:, 0] >= score_threshold)
        all_scores.append(scores[keep, 0])
        all_boxes.append(distance2bbox(centres[keep], boxes[keep] * stride))
        if with_kps:
            all_kps.append(distance2kps(centres[keep], kps[keep] * stride))
    scores = np.concatenate(all_scores).astype(np.float32)
    boxes = np.concatenate(all_boxes).astype(np.float32)
    keep = nms(boxes, scores, nms_threshold)
    keypoints = np.concatenate(all_kps).astype(np.float32)[keep] if with_kps else None
    return Detections(boxes[keep], scores[keep], keypoints)
