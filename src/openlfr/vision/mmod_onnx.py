"""dlib's CNN (MMOD) face detector on ONNX Runtime: dlib's whole scan, not only its network.

`dlib.cnn_face_detection_model_v1(path)(image, upsample)` does, in dlib's source:

1. `pyramid_up` the image `upsample` times (dlib/image_transforms/interpolation.h);
2. `input_rgb_image_pyramid<pyramid_down<6>>::to_tensor` (dlib/dnn/input.h): one tiled
   image holding the image and every 5/6 smaller level down to 5 rows, laid out by
   `compute_tiled_image_pyramid_details` (dlib/image_transforms/image_pyramid.h, padding
   10, outer padding 11), mean-subtracted, /256; each level is a corner-aligned bilinear
   resize of the one above (`tt::resize_bilinear`);
3. the network over that one image: a score map 8x smaller;
4. `loss_mmod_::to_label` (dlib/dnn/loss.h): every score above the threshold becomes the
   80x80 detector window centred on its input point, mapped back through the pyramid
   (`tiled_pyramid_to_image`: the nearest level, `pyramid_down<6>::rect_up`), sorted by
   score, then greedy NMS with the file's `overlaps_nms` tester;
5. `rect_down` of each box through the upsampling.

All five are reproduced here, so the boxes are dlib's (same pixels, IoU ~1) and the
scores agree to ~1e-4. Only the network runs in onnxruntime (several times dlib's speed).

`scale` is this project's addition for video: the frame is resized by that factor
(OpenCV) before step 2 and boxes are mapped back, which trades the smallest face found
(about 80 / scale pixels) against cost.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from openlfr.convert.cache import cached
from openlfr.errors import ConfigError, ModelNotFoundError
from openlfr.vision.face import DLIB5, Face
from openlfr.vision.onnx_backend import choose_providers
from openlfr.vision.ort_session import cached_session

log = logging.getLogger(__name__)

MMOD = "mmod_human_face_detector.dat"
# The score network with a float (n, 3, H, W) input: the tiled pyramid is built outside.
MMOD_FLOAT_KIND = "dlib-mmod-v1-f32.c1"
PYRAMID_RATE = 5.0 / 6.0  # pyramid_down<6>
PADDING, OUTER_PADDING = 10, 11  # input_rgb_image_pyramid's defaults (the file has no others)
MIN_LEVEL_ROWS = 5

# Box: dlib's inclusive integer rectangle (left, top, right, bottom).
Rect = tuple[int, int, int, int]

_lock = threading.Lock()


# --- the model: network, options ---------------------------------------------------------


@dataclass(frozen=True)
class MmodModel:
    """What the scan needs from the dlib file besides the network."""

    mean_rgb: np.ndarray  # subtracted before /256
    window: tuple[int, int]  # detector window width, height
    nms_iou: float  # overlaps_nms: iou_thresh
    nms_covered: float  # overlaps_nms: percent_covered_thresh
    # Output (score map) point x -> input (tensor) point a * x + b, per dlib's layers.
    map_a: float
    map_b: float
    convs: tuple[tuple[int, int, int], ...]  # (kernel, stride, pad), input first

    def output_size(self, n: int) -> int:
        """Score map rows (or columns) for an input of n rows (or columns)."""
        for k, stride, pad in self.convs:
            n = (n + 2 * pad - k) // stride + 1
        return n


def _convert_float(data: bytes) -> bytes:
    """The MMOD network as ONNX with input "tensor": float32 (n, 3, H, W), already
    mean-subtracted and /256 (dlib's tiled pyramid tensor)."""
    import onnx
    from onnx import TensorProto, helper

    from openlfr.convert.dlib_models import convert_mmod

    model = onnx.load_from_string(convert_mmod(data))
    graph = model.graph
    # The uint8 graph starts Cast -> Transpose -> Sub(mean) -> Mul(1/256) -> first Conv.
    prologue = [n.op_type for n in graph.node[:4]]
    if prologue != ["Cast", "Transpose", "Sub", "Mul"]:
        raise ModelNotFoundError(f"unexpected MMOD graph prologue {prologue}")
    scaled = graph.node[3].output[0]
    keep = list(graph.node[4:])
    for node in keep:
        for i, name in enumerate(node.input):
            if name == scaled:
                node.input[i] = "tensor"
    used = {name for node in keep for name in node.input}
    inits = [t for t in graph.initializer if t.name in used]
    new_graph = helper.make_graph(
        keep,
        graph.name,
        [helper.make_tensor_value_info("tensor", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        list(graph.output),
        inits,
    )
    out = helper.make_model(new_graph, opset_imports=list(model.opset_import))
    out.producer_name = "openlfr.vision.mmod_onnx"
    onnx.checker.check_model(out)
    return out.SerializeToString()


@lru_cache(maxsize=2)
def load_model(source: str) -> MmodModel:
    from openlfr.convert import dlib_net

    layers = dlib_net.parse(Path(source).read_bytes(), dlib_net.mmod_definition())
    options = layers[0].data
    a, b = 1.0, 0.0
    convs = []
    # Top-down through the convolutions: con_::map_output_to_input, p*stride - pad + k/2.
    for layer in layers:
        if layer.kind == "con":
            stride = layer.data["stride"][1]
            pad = layer.data["pads"][1]
            k = layer.data["weight"].shape[3]
            a, b = a * stride, b * stride - pad + k // 2
            convs.insert(0, (k, stride, pad))
    iou, covered = options["overlaps_nms"]
    return MmodModel(
        mean_rgb=layers[-1].data["mean_rgb"].astype(np.float32),
        window=tuple(options["detector_window"]),
        nms_iou=float(iou),
        nms_covered=float(covered),
        map_a=a,
        map_b=b,
        convs=tuple(convs),
    )


def _session(path: str, providers: tuple[str, ...], threads: int) -> ort.InferenceSession:
    return cached_session(path, providers, threads, "dlib MMOD detector")


# --- dlib's geometry ---------------------------------------------------------------------


def _round(x: float) -> int:
    # dlib converts double coordinates to long as floor(x + 0.5) (drectangle -> rectangle).
    return int(math.floor(x + 0.5))


def pyramid_rects(nr: int, nc: int) -> tuple[list[Rect], int, int]:
    """compute_tiled_image_pyramid_details for pyramid_down<6>: each level's inclusive rect
    in the tiled image, and the tiled image's rows and columns."""
    if nr * nc == 0:
        return [], 0, 0
    sizes = [(nr, nc)]
    while True:
        nr, nc = math.floor(PYRAMID_RATE * nr), math.floor(PYRAMID_RATE * nc)
        if nr * nc == 0 or nr < MIN_LEVEL_ROWS:
            break
        sizes.append((nr, nc))
    pad, outer = PADDING, OUTER_PADDING
    total_height = sum(h + pad for h, _ in sizes) - 2 * pad
    height, prev_width = 0, 0
    h0, w0 = sizes[0]
    for h, w in sizes:
        # First column until the next level fits beside the previous one (then double back).
        if w <= w0 - prev_width - pad and (height - h0) * 2 >= total_height - h0:
            break
        height += h + pad
        prev_width = w
    height -= pad
    rows, cols = height + 2 * outer, w0 + 2 * outer
    rects: list[Rect] = []
    y, i = outer, 0
    while y < height + outer and i < len(sizes):
        h, w = sizes[i]
        rects.append((outer, y, outer + w - 1, y + h - 1))
        y += h + pad
        i += 1
    y -= pad
    first = rects[0]
    while i < len(sizes):
        h, w = sizes[i]
        rect = (outer + w0 - w, y - h, outer + w0 - 1, y - 1)  # right-aligned, going up
        if _intersects(first, rect):
            break
        rects.append(rect)
        y -= h + pad
        i += 1
    return rects, rows, cols


def _intersects(a: Rect, b: Rect) -> bool:
    return max(a[0], b[0]) <= min(a[2], b[2]) and max(a[1], b[1]) <= min(a[3], b[3])


def resize_bilinear(src: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """dlib's resize_image with interpolate_bilinear: corner-aligned (the corners of both
    images coincide), edge-clamped. src: (..., h, w) float32."""
    h, w = src.shape[-2:]

    def taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = np.arange(n_out) * ((n_in - 1) / max(n_out - 1, 1))
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, (pos - lo).astype(np.float32)

    top, bottom, fy = taps(h, rows)
    left, right, fx = taps(w, cols)
    fy = fy[:, None]
    tmp = src[..., top, :] * (1 - fy) + src[..., bottom, :] * fy
    return tmp[..., left] * (1 - fx) + tmp[..., right] * fx


def tiled_pyramid(image: np.ndarray, model: MmodModel) -> tuple[np.ndarray, list[Rect]]:
    """input_rgb_image_pyramid::to_tensor: (1, 3, R, C) float32 and each level's rect."""
    nr, nc = image.shape[:2]
    rects, rows, cols = pyramid_rects(nr, nc)
    tensor = np.zeros((1, 3, rows, cols), np.float32)
    level = (image.astype(np.float32) - model.mean_rgb) / np.float32(256.0)
    level = np.ascontiguousarray(level.transpose(2, 0, 1))
    for i, (left, top, right, bottom) in enumerate(rects):
        if i:
            level = resize_bilinear(level, bottom - top + 1, right - left + 1)
        tensor[0, :, top : bottom + 1, left : right + 1] = level
    return tensor, rects


def _nearest_rect(rects: list[Rect], x: float, y: float) -> int:
    # nearest_rect takes an integer point (dcenter rounded).
    px, py = _round(x), _round(y)
    best, best_dist = 0, math.inf
    for i, (left, top, right, bottom) in enumerate(rects):
        if left <= px <= right and top <= py <= bottom:
            return i
        nx, ny = min(max(px, left), right), min(max(py, top), bottom)
        dist = math.hypot(nx - px, ny - py)
        if dist < best_dist:
            best, best_dist = i, dist
    return best


def _point_up(x: float, y: float, levels: int) -> tuple[float, float]:
    ratio = 1.0 / PYRAMID_RATE  # pyramid_down<6>::point_up: p * 6/5 + 0.3
    for _ in range(levels):
        x, y = x * ratio + 0.3, y * ratio + 0.3
    return x, y


def _tensor_to_image(box: tuple[float, float, float, float], rects: list[Rect]):
    x1, y1, x2, y2 = box
    level = _nearest_rect(rects, (x1 + x2) / 2, (y1 + y2) / 2)
    ox, oy = rects[level][0], rects[level][1]
    x1, y1 = _point_up(x1 - ox, y1 - oy, level)
    x2, y2 = _point_up(x2 - ox, y2 - oy, level)
    return x1, y1, x2, y2


def _area(a: Rect) -> int:
    return max(0, a[2] - a[0] + 1) * max(0, a[3] - a[1] + 1)


def _overlaps(a: Rect, b: Rect, iou: float, covered: float) -> bool:
    # test_box_overlap: "IoU" over the bounding box of both, as dlib computes it.
    inner = _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    if inner == 0:
        return False
    outer = _area((min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])))
    return inner / outer > iou or inner / _area(a) > covered or inner / _area(b) > covered


def scores_to_detections(
    scores: np.ndarray, rects: list[Rect], model: MmodModel, threshold: float
) -> list[tuple[Rect, float]]:
    """loss_mmod_::to_label for one (h, w) score map: boxes in the (upsampled) image."""
    rows, cols = np.nonzero(scores > threshold)
    values = scores[rows, cols].astype(np.float64)
    order = np.argsort(-values, kind="stable")
    half_w, half_h = (model.window[0] - 1) / 2, (model.window[1] - 1) / 2  # centered_drect
    kept: list[tuple[Rect, float]] = []
    for k in order:
        cx = model.map_a * cols[k] + model.map_b
        cy = model.map_a * rows[k] + model.map_b
        box = _tensor_to_image((cx - half_w, cy - half_h, cx + half_w, cy + half_h), rects)
        rect = (_round(box[0]), _round(box[1]), _round(box[2]), _round(box[3]))
        if any(_overlaps(r, rect, model.nms_iou, model.nms_covered) for r, _ in kept):
            continue
        kept.append((rect, float(values[k])))
    return kept


def pyramid_up(image: np.ndarray) -> np.ndarray:
    """dlib's pyramid_up with pyramid_down<2>: the output size is rect_up of the image rect
    ((2 nr + 1) x (2 nc + 2)), filled by a corner-aligned bilinear resize."""
    nr, nc = image.shape[:2]
    rows, cols = _round((nr - 1 + 0.75) * 2) + 1, _round((nc - 1 + 1.25) * 2) + 1
    out = resize_bilinear(image.astype(np.float32).transpose(2, 0, 1), rows, cols)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8).transpose(1, 2, 0)


def _rect_down2(rect: Rect, levels: int) -> Rect:
    # pyramid_down<2>::point_down: p / 2 - (1.25, 0.75), per level, then rounded.
    x1, y1, x2, y2 = (float(v) for v in rect)
    for _ in range(levels):
        x1, y1, x2, y2 = x1 / 2 - 1.25, y1 / 2 - 0.75, x2 / 2 - 1.25, y2 / 2 - 0.75
    return _round(x1), _round(y1), _round(x2), _round(y2)


# --- the detector ------------------------------------------------------------------------


class MmodOnnxDetector:
    """dlib's MMOD CNN face detector with its network on onnxruntime, + 5-point landmarks.

    `upsample`: dlib's upsample_num_times (each doubles the image: smallest face ~40 px
    instead of ~80 px, 4x the cost). `scale`: resize the image by this factor first (any
    float; 1.0 = dlib exactly); faces of about 80 / (scale * 2**upsample) px and up are
    found. `min_score`: dlib's adjust_threshold (0 by default; the score is the CNN's,
    typically 0..~1.5). `threads`: onnxruntime intra-op threads (0: all cores); `device`:
    "auto", "cpu" or "cuda". Faces carry extras {"detector": "mmod"}.
    """

    def __init__(
        self,
        upsample: int = 0,
        scale: float = 1.0,
        min_score: float = 0.0,
        device: str = "auto",
        threads: int = 0,
        landmarks: bool = True,
    ) -> None:
        if upsample < 0:
            raise ConfigError(f"upsample must be 0 or more, not {upsample}")
        if not (0.05 <= scale <= 8.0):
            raise ConfigError(f"scale must be between 0.05 and 8, not {scale}")
        if threads < 0:
            raise ConfigError(f"threads must be 0 (automatic) or more, not {threads}")
        from openlfr.vision.dlib_backend import model_path, shape_predictor

        source = model_path(MMOD)
        self.upsample = int(upsample)
        self.scale = float(scale)
        self.min_score = float(min_score)
        self.model = load_model(str(source))
        with _lock:  # one conversion at a time within a process
            path = cached(source, MMOD_FLOAT_KIND, _convert_float)
        self.session = _session(str(path), tuple(choose_providers(device)), int(threads))
        self.provider = self.session.get_providers()[0]
        log.info("MMOD detector (dlib's, on onnxruntime) on %s", self.provider)
        self._shape = shape_predictor() if landmarks else None

    def detect_rects(self, image: np.ndarray) -> list[tuple[Rect, float]]:
        """dlib's own output: inclusive (left, top, right, bottom) rects and confidences, in
        the coordinates of `image` (boxes may reach outside it, as dlib's do)."""
        image = _check_image(image)
        work = image
        if self.scale != 1.0:
            interp = cv2.INTER_LINEAR if self.scale > 1 else cv2.INTER_AREA
            work = cv2.resize(image, None, fx=self.scale, fy=self.scale, interpolation=interp)
        for _ in range(self.upsample):
            work = pyramid_up(work)
        tensor, rects = tiled_pyramid(work, self.model)
        if min(self.model.output_size(n) for n in tensor.shape[2:]) < 1:
            return []  # too small for the network to say anything
        scores = self.session.run(None, {"tensor": tensor})[0][0, 0]
        found = scores_to_detections(scores, rects, self.model, self.min_score)
        out = []
        for rect, score in found:
            if self.upsample:
                rect = _rect_down2(rect, self.upsample)
            if self.scale != 1.0:
                # Inclusive pixel rect -> edges, scaled, -> inclusive again.
                x1, y1 = rect[0] / self.scale, rect[1] / self.scale
                x2, y2 = (rect[2] + 1) / self.scale - 1, (rect[3] + 1) / self.scale - 1
                rect = (_round(x1), _round(y1), _round(x2), _round(y2))
            out.append((rect, score))
        return out

    def detect(self, image: np.ndarray) -> list[Face]:
        image = _check_image(image)
        faces = []
        for rect, score in self.detect_rects(image):
            points = None
            if self._shape is not None:
                import dlib

                shape = self._shape(image, dlib.rectangle(*rect))
                points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
            h, w = image.shape[:2]
            # Inclusive dlib rect -> [x1, x2) box, clipped to the image like the dlib backend.
            box = (
                float(max(rect[0], 0)),
                float(max(rect[1], 0)),
                float(min(rect[2] + 1, w)),
                float(min(rect[3] + 1, h)),
            )
            faces.append(
                Face(
                    box=box,
                    score=score,
                    landmarks=points,
                    scheme=DLIB5,
                    extras={"detector": "mmod"},
                )
            )
        return faces


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise TypeError("expected an RGB uint8 numpy array")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {image.shape}")
    return np.ascontiguousarray(image)


class HogMmodDetector:
    """dlib's HOG first (cheap; frontal faces), MMOD-ONNX where HOG finds nothing.

    The fallback runs only on images of at most `fallback_max_pixels`: for live video, the
    windows around tracked faces (~250 px) are small and the full-scan tiles (~1 MP) are
    not, so a track whose face turns or tilts (HOG loses it) is kept by the CNN while the
    mostly empty tiles stay cheap. On the opera-house clip (bench/detectors.py) this found
    as many faces as the naive full-frame HOG at about a tenth of its detection time.
    `grey`: HOG on the grey image (dlib's HOG on RGB takes the strongest channel's gradient
    at each pixel: three gradient passes instead of one). Measured on the opera clip
    (bench/detectors.py, live scanner): HOG's own time -22%, detection cost 0.107 -> 0.099
    of the naive full-frame HOG's, faces 392 -> 401. Landmarks still come from the RGB
    image. Faces from the fallback carry extras {"detector": "mmod"}.
    """

    def __init__(
        self,
        upsample: int = 1,
        min_score: float = 0.0,
        fallback_max_pixels: int = 1_500_000,
        device: str = "auto",
        threads: int = 0,
        grey: bool = False,
    ) -> None:
        from openlfr.vision.dlib_backend import DlibDetector

        if fallback_max_pixels < 0:
            raise ConfigError(f"fallback_max_pixels must be 0 or more, not {fallback_max_pixels}")
        self.hog = DlibDetector(upsample=upsample, min_score=min_score, cnn_fallback=False)
        self.mmod = MmodOnnxDetector(upsample=upsample, device=device, threads=threads)
        self.fallback_max_pixels = int(fallback_max_pixels)
        self.grey = bool(grey)

    def _hog(self, image: np.ndarray) -> list[Face]:
        if not self.grey:
            return self.hog.detect(image)
        image = _check_image(image)
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        hog = self.hog
        rects, scores, which = hog._detector.run(grey, hog.upsample, hog.min_score)
        faces = []
        for rect, score, sub in zip(rects, scores, which, strict=True):
            shape = hog._shape(image, rect)
            points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
            box = (
                float(rect.left()),
                float(rect.top()),
                float(rect.right() + 1),
                float(rect.bottom() + 1),
            )
            faces.append(
                Face(
                    box=box,
                    score=float(score),
                    landmarks=points,
                    scheme=DLIB5,
                    extras={"hog_filter": int(sub)},
                )
            )
        return faces

    def detect(self, image: np.ndarray) -> list[Face]:
        faces = self._hog(image)
        if faces or image.shape[0] * image.shape[1] > self.fallback_max_pixels:
            return faces
        return self.mmod.detect(image)


def make_detector(
    upsample: int = 1,
    scale: float = 1.0,
    min_score: float = 0.0,
    device: str = "auto",
    threads: int = 0,
    **_ignored,
) -> MmodOnnxDetector:
    """Factory for the registry: options meant for other backends are ignored.

    upsample=1 by default, as the `dlib` backend's HOG: faces from ~40 px in stills.
    """
    return MmodOnnxDetector(
        upsample=upsample, scale=scale, min_score=min_score, device=device, threads=threads
    )


def make_hybrid_detector(
    upsample: int = 1,
    min_score: float = 0.0,
    fallback_max_pixels: int = 1_500_000,
    device: str = "auto",
    threads: int = 0,
    grey: bool = False,
    **_ignored,
) -> HogMmodDetector:
    """Factory for the registry (detector="hog+mmod"): options for others are ignored."""
    return HogMmodDetector(
        upsample=upsample,
        min_score=min_score,
        fallback_max_pixels=fallback_max_pixels,
        device=device,
        threads=threads,
        grey=grey,
    )
