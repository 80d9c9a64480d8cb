"""Where and at what scale to look for faces in a frame, and doing it on both cores.

Measured on the 1080p opera-house clip (2 cores, see bench/live.py): dlib's HOG upsampled
once over a whole 1080p frame costs ~0.7-1.8 s; motion gating does not help there (a
hand-held camera and a crowd: 75-90% of a 1/4-size difference image "moves"). What works:

* **Scale from the smallest useful face.** HOG's window is 80 px. A face narrower than
  ``min_face`` pixels (default 56) has an eye distance under ~24 px and is flagged "too
  small" by the quality check anyway (so it could never count as seen nor be searched);
  scanning at ``80 / min_face`` (1.43x) instead of 2x costs half as much and loses no
  usable face.
* **Tiles spread over time.** The frame (or the region of interest) is cut into
  overlapping tiles; each detection frame scans only a share of them, so the whole frame
  is covered once per ``scan_period_s`` of video. New faces are found within that period.
* **Windows around tracks.** Each detection frame also looks in a window around every
  live track's predicted box, at the scale that suits that face (large faces are scanned
  downscaled). This keeps tracks alive and gives fresh shots for the quality choice.
* **A process pool.** Tiles and windows of one frame are detected in parallel worker
  processes (``workers``), while the main process decodes, embeds and decides.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from openlfr.errors import ConfigError
from openlfr.live.tracker import Box, nms
from openlfr.vision.backends import DEFAULT_BACKEND
from openlfr.vision.face import Face

HOG_WINDOW = 80  # dlib's frontal face detector finds faces of about this width and up


@dataclass(frozen=True)
class Region:
    """A part of a frame to scan: integer box (x1, y1, x2, y2) and the scale to scan it at."""

    box: tuple[int, int, int, int]
    scale: float


def tile_grid(
    width: int, height: int, tile: int, overlap: int, roi: Box | None = None
) -> list[tuple[int, int, int, int]]:
    """Overlapping tiles covering the frame (or the ROI). ``overlap`` must exceed the
    largest face a tile should find whole; a face cut by one tile is whole in its neighbour."""
    x0, y0, x1, y1 = (0, 0, width, height) if roi is None else (int(v) for v in roi)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(width, x1), min(height, y1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        raise ConfigError(f"region of interest {roi} leaves nothing of a {width}x{height} frame")

    def cuts(a: int, b: int) -> list[tuple[int, int]]:
        # As many tiles as ``tile`` suggests (rounded, not ceiled: a span of 1.8 tiles
        # is two tiles, not three), each just long enough to overlap its neighbour.
        span = b - a
        n = max(1, round((span - overlap) / max(1, tile - overlap)))
        if n == 1 or span <= tile:
            return [(a, b)]
        size = math.ceil((span + (n - 1) * overlap) / n)
        step = (span - size) / (n - 1)
        return [(a + round(i * step), min(b, a + round(i * step) + size)) for i in range(n)]

    return [(xa, ya, xb, yb) for ya, yb in cuts(y0, y1) for xa, xb in cuts(x0, x1)]


# --- detection of regions, in this process or a worker ----------------------------------

_WORKER_DETECTOR = None


def _detector_for(backend: str, options: dict):
    global _WORKER_DETECTOR
    if _WORKER_DETECTOR is None:
        from openlfr.vision.backends import get_backend

        # Scaling is done here, per region: the backend must not upsample again.
        _WORKER_DETECTOR = get_backend(backend).make_detector(
            **{**options, "upsample": 0, "cnn_fallback": False}
        )
    return _WORKER_DETECTOR


def _die_with_parent() -> None:
    """Linux: end this worker when its parent dies (killed, not shut down): seen here,
    a killed pipeline's workers otherwise linger, holding their models in memory."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the pool's own shutdown still applies


def _init_worker(backend: str, options: dict) -> None:
    import signal

    # Ctrl-C is the parent's to handle; a worker just stops when the pool shuts down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    # One thread per worker: the pool is the parallelism (OpenCV would oversubscribe).
    cv2.setNumThreads(1)
    _detector_for(backend, options)


def detect_region(
    detector, crop: np.ndarray, offset: tuple[int, int], scale: float
) -> list[tuple[Box, float, np.ndarray, dict]]:
    """Faces in one crop, as (box, score, landmarks, extras) in full-frame coordinates."""
    if scale != 1.0:
        interp = cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=interp)
    out = []
    ox, oy = offset
    for f in detector.detect(np.ascontiguousarray(crop)):
        x1, y1, x2, y2 = f.box
        box = (x1 / scale + ox, y1 / scale + oy, x2 / scale + ox, y2 / scale + oy)
        marks = None if f.landmarks is None else f.landmarks / scale + np.array([ox, oy])
        out.append((box, f.score, marks, {**f.extras, "scheme": f.scheme}))
    return out


def _ready(_: int) -> int:
    return os.getpid()


def _pool_job(args: tuple[str, dict, np.ndarray, tuple[int, int], float]):
    backend, options, crop, offset, scale = args
    return detect_region(_detector_for(backend, options), crop, offset, scale)


class RegionDetector:
    """Detects faces in a list of regions of one frame; in ``workers`` processes (0: here).

    ``backend``/``options`` build the detector in each worker; ``detector`` (optional) is
    the in-process one (the engine's), used when ``workers`` is 0.
    """

    def __init__(
        self,
        backend: str = DEFAULT_BACKEND,
        options: dict | None = None,
        workers: int = 0,
        detector=None,
    ) -> None:
        if workers < 0:
            raise ConfigError(f"workers must be 0 or more, not {workers}")
        self.backend = backend
        self.options = dict(options or {})
        self.workers = workers
        self._detector = detector
        self._pool: Executor | None = None

    def start(self) -> RegionDetector:
        if self.workers and self._pool is None:
            import multiprocessing as mp

            # spawn, not fork: a forked child of a process whose OpenCV thread pool has
            # run can deadlock (seen here). A calling script needs the usual
            # `if __name__ == "__main__":` guard.
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=mp.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.backend, self.options),
            )
            # Wait for the workers to load their models, so start-up is not timed as work.
            list(self._pool.map(_ready, range(self.workers)))
        return self

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def detect(self, image: np.ndarray, regions: Sequence[Region]) -> list[Face]:
        """Faces found in any region, duplicates (overlapping regions) merged."""
        jobs = []
        for r in regions:
            x1, y1, x2, y2 = r.box
            if x2 - x1 < 8 or y2 - y1 < 8:
                continue
            jobs.append((image[y1:y2, x1:x2], (x1, y1), r.scale))
        if self._pool is not None and len(jobs) > 1:
            args = [(self.backend, self.options, np.ascontiguousarray(c), o, s) for c, o, s in jobs]
            found = list(self._pool.map(_pool_job, args))
        else:
            det = self._detector or _detector_for(self.backend, self.options)
            found = [detect_region(det, c, o, s) for c, o, s in jobs]
        faces = [
            Face(
                box=tuple(float(v) for v in box),
                score=float(score),
                landmarks=None if marks is None else marks.astype(np.float32),
                scheme=extras.pop("scheme"),
                extras=extras,
            )
            for result in found
            for box, score, marks, extras in result
        ]
        return nms(faces)


@dataclass(frozen=True)
class ScanPlan:
    """The regions to scan on one detection frame."""

    regions: list[Region]
    tiles: int  # how many of them are full-scan tiles


class Scanner:
    """Plans each detection frame's regions: the tiles that are due, plus a window around
    each live track.

    Tiles are revisited by the stream's clock (video seconds), not by round count, so the
    cost per video second is set by the periods whatever the detection rate: a tile in
    which a face was found in the last ``hot_s`` seconds is rescanned every
    ``scan_period_s``; a tile where none was is rescanned every ``idle_period_s`` (a fixed
    camera's faces come through a few parts of the picture: the walkway, the head band).
    A new face is therefore found within ``idle_period_s`` plus one detection interval at
    worst, and within ``scan_period_s`` where people have been passing. The first
    coverage is staggered over ``scan_period_s`` so no round pays for the whole frame.

    ``min_face``: smallest face width (px) to find; the tiles are scanned at
    ``80 / min_face``. ``tile``: a tile's side once scaled, in pixels (a guide: the grid
    is chosen to cover the frame with the least overlap). ``window_margin``: a track's
    window extends this many face widths on each side of its predicted box;
    ``fresh_margin`` for a track seen once, whose prediction has no velocity yet (the
    pipeline passes `Tracker.first_gate`: as far as the tracker will follow it). Why: on
    the opera clip a woman crossing at ~0.9 face widths a detection round left a
    0.75-width window before her second detection, and each re-detection started a new
    track (three for her).
    """

    def __init__(
        self,
        *,
        min_face: int = 56,
        tile: int = 900,
        scan_period_s: float = 1.0,
        idle_period_s: float = 2.0,
        hot_s: float = 10.0,
        roi: Box | None = None,
        window_margin: float = 0.75,
        fresh_margin: float = 1.5,
        max_scale: float = 2.0,
        window_face: float = 100.0,
    ) -> None:
        if min_face < 20:
            raise ConfigError(f"min_face must be at least 20 pixels, not {min_face}")
        if scan_period_s <= 0 or idle_period_s < scan_period_s:
            raise ConfigError(
                "scan_period_s must be positive and idle_period_s at least scan_period_s"
            )
        self.min_face = min_face
        self.full_scale = min(max_scale, HOG_WINDOW / min_face)
        self.tile = tile
        self.scan_period_s = scan_period_s
        self.idle_period_s = idle_period_s
        self.hot_s = hot_s
        self.roi = roi
        self.window_margin = window_margin
        self.fresh_margin = fresh_margin
        self.window_face = window_face
        self.max_scale = max_scale
        self._grid: list[tuple[int, int, int, int]] | None = None
        self._size: tuple[int, int] | None = None
        self._last_scan: list[float] = []
        self._last_face: list[float] = []

    def _tiles(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        if self._size != (width, height):
            # ``tile`` is in scanned (scaled) pixels, so each tile costs about the same
            # whatever the frame's resolution. Overlap: the largest face a tile must see
            # whole (~2.5x the smallest; larger ones are found by the track windows).
            tile = max(64, int(self.tile / self.full_scale))
            overlap = min(tile // 2, int(self.min_face * 2.5))
            self._grid = tile_grid(width, height, tile, overlap, self.roi)
            self._size = (width, height)
            self._last_scan = []
        assert self._grid is not None
        return self._grid

    def _period(self, i: int, now_s: float) -> float:
        hot = now_s - self._last_face[i] <= self.hot_s
        return self.scan_period_s if hot else self.idle_period_s

    def plan(
        self,
        width: int,
        height: int,
        predicted: Sequence[Box],
        now_s: float = 0.0,
        fresh: Sequence[Box] = (),
    ) -> ScanPlan:
        """The regions to scan at stream time ``now_s`` (seconds): the tiles due, and a
        window around each track's ``predicted`` box (``fresh``: the boxes of tracks seen
        once, given the wider window)."""
        grid = self._tiles(width, height)
        n = len(grid)
        if not self._last_scan:
            # The first round scans every tile (faces already in view are found at once);
            # their next visits are staggered over one period, so no later round pays for
            # the whole frame.
            self._last_scan = [now_s - self.scan_period_s * i / n for i in range(n)]
            self._last_face = [-math.inf] * n
            chosen = list(grid)
        else:
            chosen = []
            for i in range(n):
                # A little slack: a tile due just after this round is taken now.
                if now_s - self._last_scan[i] >= self._period(i, now_s) * 0.95:
                    chosen.append(grid[i])
                    self._last_scan[i] = now_s
        regions = [Region(t, self.full_scale) for t in chosen]
        windows = [(b, self.window_margin) for b in predicted]
        windows += [(b, self.fresh_margin) for b in fresh]
        for box, margin in windows:
            w = max(1.0, box[2] - box[0])
            m = margin * w
            win = (
                max(0, int(box[0] - m)),
                max(0, int(box[1] - m)),
                min(width, int(box[2] + m)),
                min(height, int(box[3] + m)),
            )
            if any(_inside(win, t) for t in chosen):
                continue  # the tile scanned this round already covers it
            # Scale so the face is ~window_face px (HOG's 80 px window with room to grow).
            scale = max(0.3, min(self.max_scale, self.window_face / w))
            regions.append(Region(win, scale))
        return ScanPlan(regions, len(chosen))

    def observe(self, boxes: Sequence[Box], now_s: float) -> None:
        """Faces found at ``now_s``: the tiles holding their centres stay busy."""
        if self._grid is None:
            return
        for box in boxes:
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            for i, (x1, y1, x2, y2) in enumerate(self._grid):
                if x1 <= cx < x2 and y1 <= cy < y2:
                    self._last_face[i] = now_s

    @property
    def tiles(self) -> list[tuple[int, int, int, int]]:
        """The current grid (empty before the first plan)."""
        return list(self._grid or [])


def _inside(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] >= b[0] and a[1] >= b[1] and a[2] <= b[2] and a[3] <= b[3]
