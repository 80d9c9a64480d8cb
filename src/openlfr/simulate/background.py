"""A procedurally drawn street (no external images): sky, facades with windows, pavement with
lines running to the vanishing point, trees, texture noise; and a lamp post that stands in
front of everyone (a static occluder)."""

from __future__ import annotations

import random

import cv2
import numpy as np

from openlfr.simulate.plan import SceneConfig

Rect = tuple[int, int, int, int]


def street(config: SceneConfig) -> np.ndarray:
    """The empty street, RGB uint8, deterministic for the config's seed."""
    rng = random.Random(f"background:{config.seed}")
    w, h = config.width, config.height
    horizon = int(config.horizon)
    vx = w // 2
    img = np.zeros((h, w, 3), np.float32)
    # Sky: a vertical gradient.
    top, bottom = np.array([120, 160, 215], np.float32), np.array([200, 215, 230], np.float32)
    ramp = np.linspace(0, 1, horizon, dtype=np.float32)[:, None, None]
    img[:horizon] = top * (1 - ramp) + bottom * ramp
    # Ground: darker near the camera.
    ground = np.array([rng.randint(95, 135)] * 3, np.float32)
    ramp = np.linspace(0, 1, h - horizon, dtype=np.float32)[:, None, None]
    img[horizon:] = ground * (1.1 - 0.35 * ramp)
    img = img.astype(np.uint8)
    # Facades on both sides, receding to the vanishing point.
    for side in (-1, 1):
        x = 0 if side < 0 else w
        while (side < 0 and x < vx - w // 10) or (side > 0 and x > vx + w // 10):
            width = rng.randint(w // 14, w // 6)
            x2 = x - side * width  # left side grows rightwards, right side leftwards
            near_factor = abs(x - vx) / (w / 2)  # taller nearer the edges
            top_y = int(horizon - (0.25 + 0.7 * near_factor) * horizon * rng.uniform(0.7, 1.0))
            base_y = int(horizon + 0.55 * near_factor * (h - horizon))
            colour = tuple(int(c) for c in np.clip(np.array(_tone(rng)), 0, 255))
            xa, xb = sorted((x, x2))
            cv2.rectangle(img, (xa, max(0, top_y)), (xb, base_y), colour, -1)
            _windows(img, rng, (xa, max(0, top_y), xb, base_y))
            x = x2
    # Pavement edges and lane lines converging on the vanishing point.
    for frac in (-0.9, -0.45, 0.0, 0.45, 0.9):
        end = (int(vx + frac * w * 1.2), h)
        cv2.line(img, (vx, horizon), end, (185, 185, 175), max(1, w // 480), cv2.LINE_AA)
    # Trees: dark green blobs along the facades.
    for _ in range(rng.randint(3, 6)):
        side = rng.choice((-1, 1))
        tx = int(vx + side * rng.uniform(0.15, 0.45) * w)
        ty = int(horizon * rng.uniform(0.6, 1.0))
        r = int(h * rng.uniform(0.04, 0.09))
        cv2.circle(img, (tx, ty), r, (40, rng.randint(80, 120), 45), -1, cv2.LINE_AA)
        cv2.rectangle(img, (tx - r // 8, ty), (tx + r // 8, ty + 2 * r), (70, 55, 40), -1)
    noise = np.random.default_rng(config.seed).normal(0, 6, img.shape)
    return np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def lamp_post(config: SceneConfig) -> Rect:
    """A pole in the foreground, off the centre line: (x1, y1, x2, y2)."""
    rng = random.Random(f"lamp:{config.seed}")
    w, h = config.width, config.height
    x = int(w * rng.choice((rng.uniform(0.12, 0.3), rng.uniform(0.7, 0.88))))
    half = max(2, w // 160)
    return (x - half, int(config.horizon * 0.2), x + half, h)


def draw_lamp_post(img: np.ndarray, rect: Rect) -> None:
    x1, y1, x2, y2 = rect
    cv2.rectangle(img, (x1, y1), (x2, y2), (45, 50, 55), -1)
    cv2.line(img, (x1 + 1, y1), (x1 + 1, y2), (90, 95, 100), 1)
    cv2.rectangle(img, (x1 - 3 * (x2 - x1), y1 - 4), (x2 + 3 * (x2 - x1), y1 + 4), (45, 50, 55), -1)


def _tone(rng: random.Random) -> tuple[int, int, int]:
    base = rng.randint(90, 200)
    return (base + rng.randint(-20, 30), base + rng.randint(-20, 10), base + rng.randint(-30, 0))


def _windows(img: np.ndarray, rng: random.Random, rect: Rect) -> None:
    x1, y1, x2, y2 = rect
    bw, bh = x2 - x1, y2 - y1
    if bw < 20 or bh < 30:
        return
    cols, rows = rng.randint(2, 4), rng.randint(3, 7)
    ww, wh = bw / (cols * 2 + 1), bh / (rows * 2 + 1)
    dark = rng.randint(30, 80)
    for r in range(rows):
        for c in range(cols):
            xa = int(x1 + (2 * c + 1) * ww)
            ya = int(y1 + (2 * r + 1) * wh)
            shade = dark + rng.randint(-15, 40)
            cv2.rectangle(
                img, (xa, ya), (int(xa + ww), int(ya + wh)), (shade, shade, shade + 10), -1
            )
