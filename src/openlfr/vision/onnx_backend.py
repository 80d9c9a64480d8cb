"""ONNX Runtime backend: user-supplied SCRFD detector and ArcFace embedder (InsightFace layout).

`--backend onnx --models DIR` points at a model pack such as InsightFace's buffalo_l
(det_10g.onnx, w600k_r50.onnx and others). Which file is the detector and which the
recogniser is read off each graph's inputs and outputs, as InsightFace's model_zoo does,
not off file names. CUDA is used when onnxruntime offers it; `provider` says which ran.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from openlfr.errors import ConfigError, ImageError, ModelNotFoundError
from openlfr.vision import scrfd
from openlfr.vision.backends import Backend, ChipSpec, register
from openlfr.vision.face import INSIGHTFACE5, Face

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
DEFAULT_DET_SIZE = (640, 640)
DETECTOR = "detector"
RECOGNISER = "recogniser"

_lock = threading.Lock()
_packs: dict[tuple, ModelPack] = {}
_sessions: dict[tuple, ort.InferenceSession] = {}


# --- providers ---------------------------------------------------------------------------


def choose_providers(device: str = "auto") -> list[str]:
    """Execution providers in order of preference: CUDA first when present ("auto")."""
    available = ort.get_available_providers()
    if device == "cpu":
        return [CPU]
    if device == "cuda":
        if CUDA not in available:
            raise ConfigError(
                "device 'cuda' asked for, but this onnxruntime has no CUDAExecutionProvider "
                f"(available: {', '.join(available)}); install onnxruntime-gpu"
            )
        return [CUDA, CPU]
    if device == "auto":
        return [CUDA, CPU] if CUDA in available else [CPU]
    raise ConfigError(f"unknown device {device!r}; choose auto, cpu or cuda")


def _session(path: Path, providers: tuple[str, ...], threads: int) -> ort.InferenceSession:
    """One shared session per file and settings, so detector and embedder load once."""
    if threads < 0:
        raise ConfigError(f"threads must be 0 (automatic) or more, not {threads}")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, providers, threads)
    with _lock:
        if key not in _sessions:
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.log_severity_level = 3  # onnxruntime's warnings are not the user's concern
            _sessions[key] = _open(path, options, list(providers))
            used = _sessions[key].get_providers()[0]
            if providers[0] == CUDA and used != CUDA:
                log.warning("CUDA provider could not start for %s; running on %s", path, used)
        return _sessions[key]


def _open(path: Path, options: ort.SessionOptions, providers: list[str]) -> ort.InferenceSession:
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelNotFoundError(f"{path} is not a usable ONNX model: {reason}") from None


# --- finding the models in a directory ---------------------------------------------------


@dataclass(frozen=True)
class ModelPack:
    """The detector and recogniser files found in a model directory."""

    directory: Path
    detector: Path
    recogniser: Path
    others: tuple[Path, ...] = ()


def classify(session: ort.InferenceSession) -> str | None:
    """DETECTOR, RECOGNISER or None (landmark, attribute and other models), from the graph.

    Follows InsightFace's model_zoo router: a detector has one image input and 6/9/10/15
    outputs; a recogniser has a square input of at least 112 pixels (a multiple of 16,
    but not the 192 of the landmark models) and one (batch, dim) output.
    """
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or inputs[0].type != "tensor(float)" or len(inputs[0].shape) != 4:
        return None
    _, channels, height, width = inputs[0].shape
    if isinstance(channels, int) and channels != 3:
        return None
    if len(outputs) in scrfd.LAYOUTS:
        return DETECTOR
    square = isinstance(height, int) and height == width
    if len(outputs) != 1 or not square or height < 112 or height % 16 or height == 192:
        return None
    out_shape = outputs[0].shape
    if len(out_shape) == 2 and isinstance(out_shape[1], int) and out_shape[1] >= 64:
        return RECOGNISER
    return None


def find_models(models: str | Path) -> ModelPack:
    """Inspect every *.onnx file in `models` and pick the one detector and one recogniser."""
    directory = Path(models).expanduser()
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise ModelNotFoundError(f"model directory {directory} {what}")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() == ".onnx" and p.is_file())
    key = (str(directory.resolve()), tuple((p.name, p.stat().st_mtime_ns) for p in files))
    with _lock:
        if key in _packs:
            return _packs[key]
    if not files:
        raise ModelNotFoundError(f"no .onnx files in {directory}")
    found: dict[str | None, list[Path]] = {DETECTOR: [], RECOGNISER: [], None: []}
    for path in files:
        # A light CPU session only to read the graph's signature and check the file is valid.
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.log_severity_level = 3
        found[classify(_open(path, options, [CPU]))].append(path)
    for kind in (DETECTOR, RECOGNISER):
        if not found[kind]:
            names = ", ".join(p.name for p in files)
            raise ModelNotFoundError(
                f"no face {kind} among the models in {directory} ({names}); expected an "
                "InsightFace-style pack with an SCRFD detector and an ArcFace recogniser"
            )
        if len(found[kind]) > 1:
            names = ", ".join(p.name for p in found[kind])
            raise ModelNotFoundError(
                f"several face {kind}s in {directory} ({names}); keep one per directory"
            )
    pack = ModelPack(directory, found[DETECTOR][0], found[RECOGNISER][0], tuple(found[None]))
    with _lock:
        _packs[key] = pack
    return pack


# --- file identity and in-graph normalisation ----------------------------------------------


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: memoryview, start: int, end: int):
    """(field number, (start, end) or None) for each field of one protobuf message."""
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = _varint(buf, pos)
            yield field, None
        elif wire == 1:
            pos += 8
            yield field, None
        elif wire == 2:
            length, pos = _varint(buf, pos)
            yield field, (pos, pos + length)
            pos += length
        elif wire == 5:
            pos += 4
            yield field, None
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def first_node_names(data: bytes, count: int = 8) -> list[str]:
    """Names of the first `count` nodes of a serialised ONNX model, without the onnx package.

    ModelProto.graph is field 7, GraphProto.node field 1, NodeProto.name field 3.
    """
    buf = memoryview(data)
    names: list[str] = []
    try:
        for field, span in _fields(buf, 0, len(buf)):
            if field != 7 or span is None:
                continue
            for node_field, node in _fields(buf, *span):
                if node_field != 1 or node is None:
                    continue
                name = ""
                for attr, value in _fields(buf, *node):
                    if attr == 3 and value is not None:
                        name = bytes(buf[value[0] : value[1]]).decode("utf-8", "replace")
                names.append(name)
                if len(names) >= count:
                    return names
            break
    except (IndexError, ValueError):
        pass  # onnxruntime already accepted the file; an odd encoding only costs the hint
    return names


def normalises_in_graph(data: bytes) -> bool:
    """True for MXNet-converted ArcFace models that subtract and scale inside the graph.

    InsightFace's ArcFaceONNX looks for Sub and Mul nodes among the first eight and then
    feeds raw pixels (mean 0, std 1); otherwise it uses mean 127.5 and std 127.5.
    """
    names = first_node_names(data)
    has_sub = any(n.startswith(("Sub", "_minus")) for n in names)
    has_mul = any(n.startswith(("Mul", "_mul")) for n in names)
    return has_sub and has_mul


def model_id_for(path: Path, data: bytes) -> str:
    """'onnx-<file stem>-<8 hex of sha256>': templates of different files never compare."""
    return f"onnx-{path.stem}-{hashlib.sha256(data).hexdigest()[:8]}"


# --- detector ------------------------------------------------------------------------------


def _det_size(value: int | Sequence[int] | None) -> tuple[int, int] | None:
    if value is None:
        return None
    size = (int(value), int(value)) if isinstance(value, int | float | str) else tuple(value)
    if len(size) != 2 or any(int(v) <= 0 or int(v) % 32 for v in size):
        raise ConfigError(f"det_size must be a positive multiple of 32 (or two), not {value!r}")
    return int(size[0]), int(size[1])


class OnnxDetector:
    """SCRFD face detector: RGB image -> faces with five InsightFace landmarks."""

    scheme = INSIGHTFACE5

    def __init__(
        self,
        path: str | Path,
        *,
        providers: Sequence[str] = (CPU,),
        threads: int = 0,
        det_size: int | Sequence[int] | None = None,
        threshold: float = 0.5,
        nms_threshold: float = 0.4,
    ) -> None:
        if not 0.0 <= threshold <= 1.0 or not 0.0 <= nms_threshold <= 1.0:
            raise ConfigError("detector thresholds must lie in [0, 1]")
        self.path = Path(path)
        self.session = _session(self.path, tuple(providers), threads)
        self.provider: str = self.session.get_providers()[0]
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.output_names = [o.name for o in self.session.get_outputs()]
        model_h, model_w = inp.shape[2], inp.shape[3]
        wanted = _det_size(det_size)
        if isinstance(model_h, int) and isinstance(model_w, int):
            if wanted and wanted != (model_w, model_h):
                log.warning("%s has a fixed input %dx%d; det_size ignored", path, model_w, model_h)
            self.input_size = (model_w, model_h)  # width, height
        else:
            self.input_size = wanted or DEFAULT_DET_SIZE
        self.threshold = threshold
        self.nms_threshold = nms_threshold
        log.info("ONNX detector %s on %s", self.path.name, self.provider)

    def detect(self, image: np.ndarray) -> list[Face]:
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or not image.size:
            raise ImageError(
                f"expected an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}"
            )
        box = scrfd.letterbox(image, self.input_size)
        outputs = self.session.run(self.output_names, {self.input_name: box.blob})
        width, height = self.input_size
        found = scrfd.decode(outputs, (height, width), self.threshold, self.nms_threshold)
        img_h, img_w = image.shape[:2]
        boxes = box.to_image(found.boxes)
        # Clip to the frame: downstream crops assume boxes inside the image.
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, img_w)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, img_h)
        kps = None if found.keypoints is None else box.to_image(found.keypoints)
        return [
            Face(
                box=tuple(float(v) for v in boxes[i]),
                score=float(np.clip(found.scores[i], 0.0, 1.0)),
                landmarks=None if kps is None else kps[i].astype(np.float64),
                scheme=INSIGHTFACE5,
            )
            for i in range(len(boxes))
        ]


# --- embedder ------------------------------------------------------------------------------


class OnnxEmbedder:
    """ArcFace-style embedder: aligned RGB chips -> L2-normalised vectors."""

    def __init__(
        self,
        path: str | Path,
        *,
        providers: Sequence[str] = (CPU,),
        threads: int = 0,
        input_mean: float | None = None,
        input_std: float | None = None,
        batch_size: int = 32,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, not {batch_size}")
        self.path = Path(path)
        data = self.path.read_bytes()
        self.model_id: str = model_id_for(self.path, data)
        if input_mean is None or input_std is None:
            in_graph = normalises_in_graph(data)
            default_mean, default_std = (0.0, 1.0) if in_graph else (127.5, 127.5)
            input_mean = default_mean if input_mean is None else input_mean
            input_std = default_std if input_std is None else input_std
        if input_std == 0:
            raise ConfigError("input_std must not be 0")
        self.input_mean = float(input_mean)
        self.input_std = float(input_std)
        del data
        self.session = _session(self.path, tuple(providers), threads)
        self.provider: str = self.session.get_providers()[0]
        inp, out = self.session.get_inputs()[0], self.session.get_outputs()[0]
        self.input_name, self.output_name = inp.name, out.name
        self.chip = ChipSpec(int(inp.shape[2]), "arcface")
        self.dim: int = int(out.shape[1])
        # A fixed batch axis (often 1) means fixed-size runs; a symbolic one takes any batch.
        fixed = inp.shape[0] if isinstance(inp.shape[0], int) and inp.shape[0] > 0 else None
        self.run_batch = fixed or batch_size
        self.fixed_batch = fixed is not None
        log.info("ONNX embedder %s (%s) on %s", self.path.name, self.model_id, self.provider)

    def _blob(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        size = self.chip.size
        for chip in chips:
            if np.shape(chip) != (size, size, 3):
                raise ValueError(f"chips must be ({size}, {size}, 3) RGB, got {np.shape(chip)}")
        stack = np.asarray(chips, dtype=np.float32)
        stack = (stack - self.input_mean) / self.input_std
        return np.ascontiguousarray(stack.transpose(0, 3, 1, 2))

    def embed_chips(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        """(n, dim) float32, each row L2-normalised."""
        if len(chips) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        blob = self._blob(chips)
        parts = []
        for start in range(0, len(blob), self.run_batch):
            batch = blob[start : start + self.run_batch]
            n = len(batch)
            if self.fixed_batch and n < self.run_batch:
                pad = np.zeros((self.run_batch - n, *batch.shape[1:]), dtype=np.float32)
                batch = np.concatenate([batch, pad])
            out = self.session.run([self.output_name], {self.input_name: batch})[0]
            parts.append(np.asarray(out, dtype=np.float32).reshape(len(batch), -1)[:n])
        vectors = np.concatenate(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


# --- backend factories -------------------------------------------------------------------


def _pack(models: str | Path | None) -> ModelPack:
    if models is None or str(models) == "":
        raise ConfigError("the onnx backend needs --models DIR (a folder of ONNX model files)")
    return find_models(models)


def make_detector(
    models: str | Path | None = None,
    *,
    device: str = "auto",
    threads: int = 0,
    det_size: int | Sequence[int] | None = None,
    det_threshold: float = 0.5,
    nms_threshold: float = 0.4,
    **_other_options,
) -> OnnxDetector:
    """The pack's SCRFD detector; options meant for the embedder are ignored."""
    return OnnxDetector(
        _pack(models).detector,
        providers=choose_providers(device),
        threads=threads,
        det_size=det_size,
        threshold=det_threshold,
        nms_threshold=nms_threshold,
    )


def make_embedder(
    models: str | Path | None = None,
    *,
    device: str = "auto",
    threads: int = 0,
    input_mean: float | None = None,
    input_std: float | None = None,
    batch_size: int = 32,
    **_other_options,
) -> OnnxEmbedder:
    """The pack's ArcFace recogniser; options meant for the detector are ignored."""
    return OnnxEmbedder(
        _pack(models).recogniser,
        providers=choose_providers(device),
        threads=threads,
        input_mean=input_mean,
        input_std=input_std,
        batch_size=batch_size,
    )


BACKEND = Backend(
    "onnx",
    make_detector,
    make_embedder,
    "ONNX Runtime with user-supplied InsightFace models (SCRFD + ArcFace); CUDA when present",
)
register(BACKEND)
