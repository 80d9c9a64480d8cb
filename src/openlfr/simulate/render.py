"""Drawing a frame: the street, then each person far to near (body, face, whatever hides it),
then the lamp post, the scene's light and sensor noise.

A face is its probe photo cut out with a soft elliptical mask around the face box (no
detector needed: the caller says where the face is), scaled to its pose's size, turned
(yaw as a perspective squeeze, roll as a rotation), lit and blurred along its motion.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from openlfr.simulate.background import draw_lamp_post, lamp_post, street
from openlfr.simulate.cast import CastMember, lfw_face_box
from openlfr.simulate.plan import PersonPlan, Pose, SceneConfig, pose

# The cut-out around the face box, in face-box widths/heights (LFW: hair, ears, chin).
_MARGIN_X, _MARGIN_TOP, _MARGIN_BOTTOM = 0.22, 0.45, 0.42
_SAMPLES = 8  # visibility: an 8x8 grid of points over the face box


@dataclass(frozen=True)
class Sprite:
    """A face cut-out: RGBA float32 (alpha 0..1), the face centre and width within it."""

    rgba: np.ndarray
    centre: tuple[float, float]
    face_width: float
    skin: tuple[float, float, float]  # mean colour of the face (for the neck)


def make_sprite(image: np.ndarray, face_box: tuple[float, float, float, float]) -> Sprite:
    """Cut the face out of an RGB uint8 photo (edges padded by replication if needed)."""
    x1, y1, x2, y2 = face_box
    fw, fh = x2 - x1, y2 - y1
    ax1, ay1 = int(round(x1 - _MARGIN_X * fw)), int(round(y1 - _MARGIN_TOP * fh))
    ax2, ay2 = int(round(x2 + _MARGIN_X * fw)), int(round(y2 + _MARGIN_BOTTOM * fh))
    h, w = image.shape[:2]
    pad = max(0, -ax1, -ay1, ax2 - w, ay2 - h)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = image[ay1 + pad : ay2 + pad, ax1 + pad : ax2 + pad].astype(np.float32)
    ch, cw = crop.shape[:2]
    alpha = np.zeros((ch, cw), np.float32)
    cv2.ellipse(alpha, (cw // 2, ch // 2), (int(cw * 0.46), int(ch * 0.47)), 0, 0, 360, 1.0, -1)
    soft = max(3, int(min(cw, ch) * 0.06)) | 1
    alpha = cv2.GaussianBlur(alpha, (soft * 2 + 1, soft * 2 + 1), 0)
    cx, cy = (x1 + x2) / 2 - ax1, (y1 + y2) / 2 - ay1
    inner = crop[
        int(cy - fh * 0.25) : int(cy + fh * 0.25), int(cx - fw * 0.25) : int(cx + fw * 0.25)
    ]
    skin = tuple(float(v) for v in inner.reshape(-1, 3).mean(0))
    return Sprite(np.dstack([crop, alpha]), (cx, cy), fw, skin)  # type: ignore[arg-type]


def load_sprite(member: CastMember, loader: Callable[[Path], np.ndarray]) -> Sprite:
    image = member.probe if isinstance(member.probe, np.ndarray) else loader(member.probe)
    box = member.face_box or lfw_face_box(image.shape[1], image.shape[0])
    return make_sprite(image, box)


def layout(
    plans: Sequence[PersonPlan], config: SceneConfig, frame: int
) -> list[tuple[PersonPlan, Pose]]:
    """The people on screen in a frame with their poses, in drawing order (far to near)."""
    here = [(p, pose(p, config, frame)) for p in plans if p.on_screen(frame)]
    here.sort(key=lambda item: (item[1].size, item[0].id))
    return here


def _body_rects(p: Pose, height: int) -> list[tuple[float, float, float, float]]:
    s = p.size
    return [
        (p.cx - 0.22 * s, p.cy + 0.35 * s, p.cx + 0.22 * s, p.cy + 0.9 * s),  # neck
        (p.cx - 1.05 * s, p.cy + 0.8 * s, p.cx + 1.05 * s, height),  # shoulders down
    ]


def _occluder_rect(p: Pose) -> tuple[float, float, float, float] | None:
    if p.occluder is None:
        return None
    x1, y1, _, _ = p.box
    a, b, c, d = p.occluder.rect
    return (x1 + a * p.size, y1 + b * p.size, x1 + c * p.size, y1 + d * p.size)


def visibility(
    items: Sequence[tuple[PersonPlan, Pose]], config: SceneConfig, lamp: tuple[int, int, int, int]
) -> list[float]:
    """For each face in drawing order, the share of its box that ends up visible: inside the
    frame and not behind its own occluder, a nearer person (head or body) or the lamp post."""
    g = (np.arange(_SAMPLES) + 0.5) / _SAMPLES
    out = []
    for i, (_, p) in enumerate(items):
        x1, y1, _, _ = p.box
        xs = (x1 + g * p.size)[None, :].repeat(_SAMPLES, 0)
        ys = (y1 + g * p.size)[:, None].repeat(_SAMPLES, 1)
        seen = (xs >= 0) & (xs < config.width) & (ys >= 0) & (ys < config.height)
        rects = [lamp]
        occ = _occluder_rect(p)
        if occ:
            rects.append(occ)
        for _, q in items[i + 1 :]:
            rects += _body_rects(q, config.height)
            rx, ry = q.size * (0.5 + _MARGIN_X) * 0.92, q.size * (0.5 + _MARGIN_TOP) * 0.94
            seen &= ((xs - q.cx) / rx) ** 2 + ((ys - q.cy) / ry) ** 2 > 1  # the nearer head
            qo = _occluder_rect(q)
            if qo:
                rects.append(qo)
        for a, b, c, d in rects:
            seen &= ~((xs >= a) & (xs < c) & (ys >= b) & (ys < d))
        out.append(float(seen.mean()))
    return out


class Renderer:
    """Draws frames of a planned scene; any frame, in any order (sprites are cached while a
    person is on screen and dropped after)."""

    def __init__(
        self,
        plans: Sequence[PersonPlan],
        config: SceneConfig,
        loader: Callable[[Path], np.ndarray] | None = None,
    ) -> None:
        if loader is None:
            from openlfr.vision.image import load_image

            loader = load_image
        self.plans = list(plans)
        self.config = config
        self._loader = loader
        self._street = street(config)
        self.lamp = lamp_post(config)
        self._sprites: dict[str, Sprite] = {}
        rng = np.random.default_rng(config.seed + 1)
        noise = rng.normal(0, 3.0, (4, config.height, config.width, 3))
        self._noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        self._noise_down = np.clip(-noise, 0, 255).astype(np.uint8)
        self._light_phase = float(rng.uniform(0, 2 * math.pi))

    def render(self, frame: int) -> np.ndarray:
        """One frame, RGB uint8 (height x width x 3)."""
        return self.draw(frame, layout(self.plans, self.config, frame))

    def draw(self, frame: int, items: Sequence[tuple[PersonPlan, Pose]]) -> np.ndarray:
        """Draw a frame from its `layout`."""
        img = self._street.copy()
        live = {p.id for p, _ in items}
        for gone in [k for k in self._sprites if k not in live]:
            del self._sprites[gone]
        for plan, p in items:
            sprite = self._sprites.get(plan.id)
            if sprite is None:
                sprite = self._sprites[plan.id] = load_sprite(plan.member, self._loader)
            self._draw_person(img, plan, p, sprite)
        draw_lamp_post(img, self.lamp)
        # Clouds: the whole scene's light drifts slowly.
        t = frame / self.config.fps
        light = 1.0 + 0.08 * math.sin(2 * math.pi * t / 40 + self._light_phase)
        img = cv2.convertScaleAbs(img, alpha=light)
        k = frame % len(self._noise_up)
        cv2.add(img, self._noise_up[k], dst=img)
        cv2.subtract(img, self._noise_down[k], dst=img)
        return img

    def _draw_person(self, img: np.ndarray, plan: PersonPlan, p: Pose, sprite: Sprite) -> None:
        h = self.config.height
        colour = tuple(min(255.0, c * p.gain) for c in plan.body_colour)
        skin = tuple(min(255.0, c * p.gain * 0.85) for c in sprite.skin)
        (nx1, ny1, nx2, ny2), (bx1, by1, bx2, _) = _body_rects(p, h)
        cv2.rectangle(img, (int(nx1), int(ny1)), (int(nx2), int(ny2)), skin, -1)
        cv2.ellipse(
            img, (int(p.cx), int(by1 + 0.2 * p.size)), (int(1.05 * p.size), int(0.3 * p.size)),
            0, 180, 360, colour, -1, cv2.LINE_AA,
        )  # fmt: skip
        cv2.rectangle(img, (int(bx1), int(by1 + 0.2 * p.size)), (int(bx2), h), colour, -1)
        _draw_face(img, sprite, p, plan.side_light)
        occ = _occluder_rect(p)
        if occ is not None and p.occluder is not None:
            x1, y1, x2, y2 = (int(v) for v in occ)
            cv2.rectangle(img, (x1, y1), (x2, y2), p.occluder.colour, -1, cv2.LINE_AA)


def _draw_face(img: np.ndarray, sprite: Sprite, p: Pose, side_light: float) -> None:
    scale = p.size / sprite.face_width
    sh, sw = sprite.rgba.shape[:2]
    tw, th = max(2, round(sw * scale)), max(2, round(sh * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(sprite.rgba, (tw, th), interpolation=interp)
    sx, sy = tw / sw, th / sh
    fcx, fcy = sprite.centre[0] * sx, sprite.centre[1] * sy
    # Corners relative to the face centre, then yaw (squeeze, far side shorter), then roll.
    yaw, roll = math.radians(p.yaw), math.radians(p.roll)
    src = np.float32([[0, 0], [tw, 0], [tw, th], [0, th]])
    rel = src - np.float32([fcx, fcy])
    squeeze = math.cos(yaw)
    shrink = 0.12 * math.sin(yaw)
    dst = []
    for x, y in rel:
        side = 1 if x > 0 else -1
        dst.append((x * squeeze, y * (1 - side * shrink)))
    c, s = math.cos(roll), math.sin(roll)
    dst = np.float32([[x * c - y * s + p.cx, x * s + y * c + p.cy] for x, y in dst])
    x0, y0 = np.floor(dst.min(0)).astype(int)
    x1, y1 = np.ceil(dst.max(0)).astype(int)
    H, W = img.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if cx1 - cx0 < 2 or cy1 - cy0 < 2:
        return
    m = cv2.getPerspectiveTransform(src, dst - np.float32([cx0, cy0]))
    # Cubic, not bilinear: bilinear resampling at sub-pixel offsets softens the face by
    # about a third (Laplacian variance, what the quality gate reads as blur).
    warped = cv2.warpPerspective(
        small, m, (cx1 - cx0, cy1 - cy0), flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0),
    )  # fmt: skip
    if p.blur >= 1.5:
        warped = cv2.filter2D(warped, -1, _line_kernel(p.blur, p.blur_angle))
    rgb, alpha = warped[..., :3], warped[..., 3:4]
    # Light: overall gain times a left-right ramp (light from one side).
    ramp = np.linspace(-0.5, 0.5, rgb.shape[1], dtype=np.float32)[None, :, None]
    rgb = rgb * (p.gain * (1 + side_light * ramp))
    roi = img[cy0:cy1, cx0:cx1].astype(np.float32)
    img[cy0:cy1, cx0:cx1] = np.clip(roi + alpha * (rgb - roi), 0, 255).astype(np.uint8)


def _line_kernel(length: float, angle_deg: float) -> np.ndarray:
    n = int(math.ceil(length)) | 1
    k = np.zeros((n, n), np.float32)
    mid = n // 2
    dx, dy = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    half = length / 2
    p1 = (int(round(mid - dx * half)), int(round(mid - dy * half)))
    p2 = (int(round(mid + dx * half)), int(round(mid + dy * half)))
    cv2.line(k, p1, p2, 1.0, 1)
    return k / max(k.sum(), 1e-6)
