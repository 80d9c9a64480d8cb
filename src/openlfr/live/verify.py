"""A second opinion on a new track: is it a face at all?

BlazeFace on upscaled scan tiles also fires on face-like patterns (on the simulated street,
a grid of windows: 89 of 358 detections in the demo scene). Each such track was counted as
a face seen, which every deployment record publishes, and searched. dlib's MMOD CNN (its
network on ONNX Runtime, `vision/mmod_onnx.py`) sees faces differently; run once on a crop
around a confirmed track's box, rescaled so the face is ~100 px, it agreed on all 269 real
detections of that scene and on none of the 89 false ones (13.6 ms a check).

The pipeline asks at a track's first detection (when it is big enough to count), at its
second, and, until it passes, every few detection rounds after (a face that grows or turns
may pass later). Crops live in memory only.
"""

from __future__ import annotations

import cv2
import numpy as np

from openlfr.live.alerts import crop_region
from openlfr.live.tracker import Box, iou

FACE_PX = 100.0  # the MMOD window is 80 px: a face of this size is found at upsample 0
MARGIN = 0.6  # context around the box, as a share of its size each side
AGREE_IOU = 0.25  # the two detectors' boxes differ in shape (MMOD's are squarer)


class FaceVerifier:
    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._detector = None  # loaded on first use (a model conversion on the first run)

    def load(self):
        """The MMOD network (converted from dlib's file on a machine's first run)."""
        if self._detector is None:
            from openlfr.vision.mmod_onnx import make_detector

            self._detector = make_detector(upsample=0, threads=self.threads)
        return self._detector

    def is_face(self, image: np.ndarray, box: Box) -> bool:
        x1, y1, x2, y2 = box
        w = x2 - x1
        cx1, cy1, cx2, cy2 = crop_region(image, box, MARGIN)
        if w <= 1 or y2 - y1 <= 1 or cx2 <= cx1 or cy2 <= cy1:
            return False
        scale = FACE_PX / w
        crop = cv2.resize(
            image[cy1:cy2, cx1:cx2],
            None,
            fx=scale,
            fy=scale,
            interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA,
        )
        target = ((x1 - cx1) * scale, (y1 - cy1) * scale, (x2 - cx1) * scale, (y2 - cy1) * scale)
        found = self.load().detect(np.ascontiguousarray(crop))
        return any(iou(f.box, target) > AGREE_IOU for f in found)
