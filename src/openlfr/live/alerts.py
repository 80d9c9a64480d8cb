"""The one thing the live pipeline emits about a person: an `AlertEvent`, with its evidence.

An alert carries what the accountable service stores (the fields of
`openlfr.domain.alerts.AlertEvent`: camera, subject_id, score, at, track_id, live_image;
see `AlertEvent.domain_fields`) and more: first-seen time, threshold, expected FPIR,
model id, the best probe crop as JPEG and an evidence frame (JPEG) in which every face
other than the alerting one is blurred beyond recognition. This module imports nothing
of the store: the pipeline knows nothing of HTTP or SQL.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import cv2
import numpy as np

from openlfr.live.tracker import Box

JPEG_QUALITY = 90


@dataclass(frozen=True)
class AlertEvent:
    """One alert: a track whose fused similarity to a listed subject reached the threshold.

    Times: ``first_seen``/``alerted_at`` are UTC datetimes (decode time of the frames);
    ``first_seen_s``/``alerted_s`` are seconds of video since the camera's stream began
    (the footage's own clock: what an analyst of recorded footage needs).
    """

    camera: str
    track: int
    subject: str
    similarity: float
    threshold: float
    expected_fpir: float | None  # None: the model has no calibration
    model_id: str
    first_seen: datetime
    alerted_at: datetime
    first_seen_s: float
    alerted_s: float
    shots: int  # templates of this track searched when it alerted
    fusion: str
    quality: float  # quality score of the best probe shot
    box: Box  # the alerting face on the evidence frame
    probe_jpeg: bytes = field(repr=False, default=b"")
    evidence_jpeg: bytes = field(repr=False, default=b"")

    @property
    def latency_s(self) -> float:
        """Video seconds from the track's first appearance to the alert."""
        return self.alerted_s - self.first_seen_s

    def to_json(self, include_images: bool = False) -> dict:
        """A JSON-ready dict (one line of the alerts JSONL). Images as base64 on request."""
        out = {
            "camera": self.camera,
            "track": self.track,
            "subject": self.subject,
            "similarity": round(self.similarity, 4),
            "threshold": round(self.threshold, 4),
            "expected_fpir": self.expected_fpir,
            "model_id": self.model_id,
            "first_seen": self.first_seen.isoformat(timespec="milliseconds"),
            "alerted_at": self.alerted_at.isoformat(timespec="milliseconds"),
            "first_seen_s": round(self.first_seen_s, 3),
            "alerted_s": round(self.alerted_s, 3),
            "latency_s": round(self.latency_s, 3),
            "shots": self.shots,
            "fusion": self.fusion,
            "quality": round(self.quality, 4),
            "box": [round(v, 1) for v in self.box],
        }
        if include_images:
            out["probe_jpeg"] = base64.b64encode(self.probe_jpeg).decode("ascii")
            out["evidence_jpeg"] = base64.b64encode(self.evidence_jpeg).decode("ascii")
        return out

    def domain_fields(self) -> dict:
        """Keyword arguments for `openlfr.domain.alerts.AlertEvent` (add ``deployment_id``)."""
        return {
            "camera": self.camera,
            "subject_id": self.subject,
            "score": self.similarity,
            "at": self.alerted_at,
            "track_id": str(self.track),
            "live_image": self.probe_jpeg,
        }


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def encode_jpeg(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 RGB image
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def crop_region(image: np.ndarray, box: Box, margin: float) -> tuple[int, int, int, int]:
    """The face box with ``margin`` face widths around it, clipped to the image."""
    h, w = image.shape[:2]
    bw, bh = box[2] - box[0], box[3] - box[1]
    x1 = max(0, int(box[0] - margin * bw))
    y1 = max(0, int(box[1] - margin * bh))
    x2 = min(w, int(box[2] + margin * bw))
    y2 = min(h, int(box[3] + margin * bh))
    return x1, y1, x2, y2


def crop(image: np.ndarray, box: Box, margin: float = 0.3) -> np.ndarray:
    """The face box with ``margin`` face widths around it, clipped to the image (a copy)."""
    x1, y1, x2, y2 = crop_region(image, box, margin)
    return image[y1:y2, x1:x2].copy()


def blur_faces(image: np.ndarray, boxes: Sequence[Box], margin: float = 0.25) -> np.ndarray:
    """A copy of ``image`` with each box (grown by ``margin``) pixelated and blurred: coarse
    enough that no face can be recognised or re-identified from the evidence."""
    out = image.copy()
    h, w = out.shape[:2]
    for box in boxes:
        bw, bh = box[2] - box[0], box[3] - box[1]
        x1 = max(0, int(box[0] - margin * bw))
        y1 = max(0, int(box[1] - margin * bh))
        x2 = min(w, int(box[2] + margin * bw) + 1)
        y2 = min(h, int(box[3] + margin * bh) + 1)
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        region = out[y1:y2, x1:x2]
        # 4x4 blocks, then a blur over them: no identity survives, shape of a head does.
        small = cv2.resize(region, (4, 4), interpolation=cv2.INTER_AREA)
        block = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
        k = max(3, (min(x2 - x1, y2 - y1) // 2) | 1)
        out[y1:y2, x1:x2] = cv2.GaussianBlur(block, (k, k), 0)
    return out


def evidence_frame(image: np.ndarray, keep: Box, others: Sequence[Box]) -> bytes:
    """The evidence JPEG: the whole frame with every face but ``keep`` blurred. A face that
    overlaps the kept one is blurred too, except where it covers the kept face itself."""
    blurred = blur_faces(image, others)
    x1, y1, x2, y2 = (int(round(v)) for v in keep)
    h, w = image.shape[:2]
    x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
    blurred[y1:y2, x1:x2] = image[y1:y2, x1:x2]
    return encode_jpeg(blurred)
