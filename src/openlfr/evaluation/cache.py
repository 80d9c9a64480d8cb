"""Embed many images once: a per-model on-disk cache keyed by the image's bytes.

Evaluation re-runs (a new threshold, a new plot, another protocol on the same images)
then cost seconds. One small `.npz` per image under
`cache_dir()/embeddings/<model_id>/<detector key>/<sha1[:2]>/<sha1>.npz`: 13k files is
comfortable for any file system, writes are atomic (several worker processes write at
once) and a partial run keeps everything it finished.

This cache holds templates of research images the user chose to evaluate (it is never
used by the live pipeline), and it lives in the re-computable cache directory.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from openlfr import paths
from openlfr.errors import OpenLFRError
from openlfr.vision.backends import DEFAULT_BACKEND
from openlfr.vision.face import DLIB5, Face, Quality, Template

CACHE_VERSION = 1


@dataclass(frozen=True)
class EngineSpec:
    """How to build a face engine in another process: backend name and its options."""

    backend: str = DEFAULT_BACKEND
    options: dict = field(default_factory=dict)
    normaliser: str | None = "auto"  # see vision/normaliser.py; not part of the cache key

    def build(self):
        from openlfr.vision.engine import FaceEngine

        return FaceEngine.from_backend(self.backend, normaliser=self.normaliser, **self.options)


@dataclass(frozen=True)
class ImageResult:
    """What the engine found in one image.

    `faces` are the detector's faces with quality and templates (empty: a missed
    detection). `fallback` is a face embedded from a centre box when the detector found
    none and can place landmarks on a given box (see `embed_fallback`). `error` is set
    when the image could not be read; `shape` is (height, width)."""

    path: Path
    faces: list[Face]
    error: str | None = None
    shape: tuple[int, int] | None = None
    fallback: Face | None = None

    @property
    def missed(self) -> bool:
        return not self.faces


def file_key(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "_"


def namespace(engine, options: dict | None = None) -> Path:
    """Cache folder for one embedder model and one detector configuration."""
    det = engine.detector
    ident = getattr(det, "cache_key", None) or type(det).__module__ + "." + type(det).__qualname__
    # The detector's constructor settings (e.g. upsample) change what it finds: part of the
    # key. Only those named in __init__, so run-time counters do not split the cache.
    params = inspect.signature(type(det).__init__).parameters
    settings = {
        k: v for k in params if isinstance(v := getattr(det, k, None), int | float | str | bool)
    }
    blob = json.dumps(
        {"detector": ident, "settings": settings, "options": options or {}},
        sort_keys=True,
        default=str,
    )
    det_key = hashlib.sha1(blob.encode()).hexdigest()[:12]
    return paths.cache_dir() / "embeddings" / _safe(engine.model_id) / det_key


# --- one image <-> one .npz --------------------------------------------------------------


def _pack_faces(prefix: str, faces: list[Face]) -> dict[str, np.ndarray]:
    n = len(faces)
    q = [f.quality for f in faces]
    dims = {len(f.template.vector) for f in faces if f.template is not None}
    dim = dims.pop() if dims else 0
    out = {
        f"{prefix}box": np.array([f.box for f in faces], dtype=np.float32).reshape(n, 4),
        f"{prefix}score": np.array([f.score for f in faces], dtype=np.float32),
        f"{prefix}landmarks": np.array(
            [f.landmarks if f.landmarks is not None else np.full((5, 2), np.nan) for f in faces],
            dtype=np.float32,
        ).reshape(n, 5, 2),
        f"{prefix}scheme": np.array([f.scheme for f in faces], dtype=str),
        f"{prefix}quality": np.array(
            [
                (x.score, x.eye_distance, x.sharpness, x.yaw, x.brightness) if x else (np.nan,) * 5
                for x in q
            ],
            dtype=np.float32,
        ).reshape(n, 5),
        f"{prefix}reasons": np.array(
            [json.dumps(list(x.reasons)) if x else "null" for x in q], dtype=str
        ),
        f"{prefix}template": np.array(
            [f.template.vector if f.template is not None else np.zeros(dim) for f in faces],
            dtype=np.float32,
        ).reshape(n, dim),
        f"{prefix}has_template": np.array([f.template is not None for f in faces], dtype=bool),
    }
    return out


def _unpack_faces(prefix: str, data, model_id: str) -> list[Face]:
    faces = []
    for i in range(len(data[f"{prefix}score"])):
        reasons = json.loads(str(data[f"{prefix}reasons"][i]))
        qv = data[f"{prefix}quality"][i]
        quality = (
            None
            if reasons is None
            else Quality(
                score=float(qv[0]),
                reasons=tuple(reasons),
                eye_distance=float(qv[1]),
                sharpness=float(qv[2]),
                yaw=float(qv[3]),
                brightness=float(qv[4]),
            )
        )
        lm = data[f"{prefix}landmarks"][i].astype(np.float64)
        template = (
            Template(data[f"{prefix}template"][i].astype(np.float32), model_id)
            if data[f"{prefix}has_template"][i]
            else None
        )
        faces.append(
            Face(
                box=tuple(float(v) for v in data[f"{prefix}box"][i]),
                score=float(data[f"{prefix}score"][i]),
                landmarks=None if np.isnan(lm).any() else lm,
                scheme=str(data[f"{prefix}scheme"][i]) or DLIB5,
                quality=quality,
                template=template,
            )
        )
    return faces


def save_result(file: Path, result: ImageResult) -> None:
    arrays = _pack_faces("f_", result.faces)
    arrays |= _pack_faces("b_", [result.fallback] if result.fallback else [])
    meta = {"version": CACHE_VERSION, "error": result.error, "shape": result.shape}
    arrays["meta"] = np.array(json.dumps(meta))
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=file.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.replace(tmp, file)  # atomic: readers never see half a file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_result(file: Path, path: Path, model_id: str) -> ImageResult | None:
    """The cached result, or None when absent, unreadable or from another cache version."""
    try:
        with np.load(file, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("version") != CACHE_VERSION:
                return None
            faces = _unpack_faces("f_", data, model_id)
            fallback = _unpack_faces("b_", data, model_id)
    except (OSError, ValueError, KeyError):
        return None
    shape = tuple(meta["shape"]) if meta.get("shape") else None
    return ImageResult(path, faces, meta.get("error"), shape, fallback[0] if fallback else None)


# --- computing ------------------------------------------------------------------------------


def centre_box(shape: tuple[int, int], share: float = 0.45) -> tuple[float, float, float, float]:
    """A square box of `share` of the shorter side around the image centre: where LFW's
    (and any face-centred crop set's) face is when the detector misses it."""
    h, w = shape
    side = share * min(h, w)
    cx, cy = w / 2, h / 2
    return (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def embed_fallback(engine, image: np.ndarray) -> Face | None:
    """A centre-box face, only where the detector can place landmarks on a given box
    (`detector.landmarks_for_box(image, box) -> Face`); None for other backends."""
    place = getattr(engine.detector, "landmarks_for_box", None)
    if place is None:
        return None
    face = place(image, centre_box(image.shape[:2]))
    if face is None:
        return None
    embedded = engine.embed(image, [face])
    return embedded[0] if embedded else None


def analyse_path(engine, path: Path) -> ImageResult:
    """Read one image and analyse it; an unreadable image is a result with `error`."""
    from openlfr.vision.image import load_image

    try:
        image = load_image(path)
    except OpenLFRError as exc:
        return ImageResult(Path(path), [], error=str(exc))
    shape = (int(image.shape[0]), int(image.shape[1]))
    faces = engine.analyse(image)
    fallback = embed_fallback(engine, image) if not faces else None
    return ImageResult(Path(path), list(faces), None, shape, fallback)


# Per-process state for pool workers: one engine each, built once.
_WORKER: dict = {}


def _worker_init(spec: EngineSpec, folder: str) -> None:
    # Each worker is one process on one core: keep libraries from spawning thread pools.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover - opencv is a dependency
        pass
    _WORKER["engine"] = spec.build()
    _WORKER["folder"] = Path(folder)


def _worker_run(job: tuple[str, str, str | None]) -> ImageResult:
    path, key, donor = job
    result = _analyse_or_reuse(_WORKER["engine"], Path(path), donor)
    save_result(_WORKER["folder"] / key[:2] / f"{key}.npz", result)
    return result


def _progress(total: int, enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=True,
    )


def embed_images(
    engine,
    paths_: Sequence[Path] | Iterable[Path],
    *,
    workers: int = 1,
    progress: bool = True,
    spec: EngineSpec | None = None,
) -> list[ImageResult]:
    """Analyse every image (cached on disk per model and file hash), in input order.

    `engine` is a `FaceEngine` or an `EngineSpec`; more than one worker needs the
    `EngineSpec` (as `engine` or `spec`), since each worker process builds its own
    engine. An unreadable image gives a result with `error` set; an image without a
    detected face gives one with no faces."""
    if isinstance(engine, EngineSpec):
        spec, engine = engine, engine.build()
    normaliser = getattr(getattr(engine, "embedder", None), "normaliser", None)
    if normaliser is not None:
        # Cache the base model's templates: normalising is cheap, and a new fit of the
        # normaliser must not re-embed every image.
        base_spec = replace(spec, normaliser="none") if spec else None
        raw = embed_images(
            engine.base_engine, paths_, workers=workers, progress=progress, spec=base_spec
        )
        return [_normalised(r, normaliser) for r in raw]
    if getattr(getattr(engine, "embedder", None), "component_specs", None):
        return _embed_fused(engine, paths_, workers=workers, progress=progress, spec=spec)
    if workers > 1 and spec is None:
        raise ValueError("workers > 1 needs an EngineSpec (each worker builds its own engine)")
    folder = namespace(engine, spec.options if spec else None)
    donors = _donor_folders(folder)
    items = [Path(p) for p in paths_]
    results: list[ImageResult | None] = [None] * len(items)
    todo: list[tuple[int, str, str | None]] = []
    for i, p in enumerate(items):
        try:
            key = file_key(p)
        except OSError as exc:
            results[i] = ImageResult(p, [], error=f"cannot read {p}: {exc.strerror or exc}")
            continue
        cached = load_result(folder / key[:2] / f"{key}.npz", p, engine.model_id)
        if cached is None:
            donor = next((d for d in donors if (d / key[:2] / f"{key}.npz").is_file()), None)
            todo.append((i, key, str(donor / key[:2] / f"{key}.npz") if donor else None))
        else:
            results[i] = cached
    if todo:
        with _progress(len(todo), progress) as bar:
            task = bar.add_task("embedding", total=len(todo))
            if workers > 1:
                _run_pool(spec, folder, items, todo, results, workers, lambda: bar.advance(task))
            else:
                for i, key, donor in todo:
                    results[i] = _analyse_or_reuse(engine, items[i], donor)
                    save_result(folder / key[:2] / f"{key}.npz", results[i])
                    bar.advance(task)
    return [r for r in results if r is not None]


def _donor_folders(folder: Path) -> list[Path]:
    """Other models' caches made with the same detector configuration (same folder name
    under another model): their faces can be re-embedded without detecting again."""
    root = folder.parent.parent
    if not root.is_dir():
        return []
    return sorted(
        d / folder.name
        for d in root.iterdir()
        if d.name != folder.parent.name and (d / folder.name).is_dir()
    )


def _analyse_or_reuse(engine, path: Path, donor: str | None) -> ImageResult:
    """Analyse the image, or embed the faces another model's cache found in it (the same
    detector finds the same faces: detection is most of the cost)."""
    found = load_result(Path(donor), path, "donor") if donor else None
    if found is None or found.error:
        return analyse_path(engine, path)
    from openlfr.vision.image import load_image

    try:
        image = load_image(path)
    except OpenLFRError as exc:
        return ImageResult(Path(path), [], error=str(exc))

    def bare(faces: list[Face]) -> list[Face]:
        return [f.with_(template=None) for f in faces]

    faces = engine.embed(image, bare(found.faces))
    fallback = engine.embed(image, bare([found.fallback])) if found.fallback else [None]
    return ImageResult(Path(path), faces, None, found.shape, fallback[0])


def _embed_fused(engine, paths_, *, workers, progress, spec) -> list[ImageResult]:
    """A fused model's results from each component's own cache (so a new fusion of
    models already evaluated costs no network run): templates combined face by face."""
    from openlfr.vision.engine import FaceEngine

    fused = engine.embedder
    per_component = []
    for component, (backend, options) in zip(fused.components, fused.component_specs, strict=True):
        sub_spec = EngineSpec(backend, dict(options), normaliser="none") if spec else None
        per_component.append(
            embed_images(
                FaceEngine(engine.detector, component),
                paths_,
                workers=workers,
                progress=progress,
                spec=sub_spec,
            )
        )
    return [_fuse_result(fused, parts) for parts in zip(*per_component, strict=True)]


def _fuse_result(fused, parts: Sequence[ImageResult]) -> ImageResult:
    first = parts[0]

    def fuse(faces: Sequence[Face | None]) -> Face | None:
        if faces[0] is None or any(f is None or f.template is None for f in faces):
            return faces[0]
        if any(not np.allclose(f.box, faces[0].box, atol=0.5) for f in faces):
            raise OpenLFRError(f"{first.path}: component caches disagree on the faces found")
        vector = fused.combine([f.template.vector for f in faces])[0]
        return faces[0].with_(template=Template(vector, fused.model_id))

    if any(len(p.faces) != len(first.faces) for p in parts):
        raise OpenLFRError(f"{first.path}: component caches disagree on the faces found")
    faces = [fuse(group) for group in zip(*(p.faces for p in parts), strict=True)]
    fallback = fuse([p.fallback for p in parts])
    return replace(first, faces=faces, fallback=fallback)


def _normalised(result: ImageResult, normaliser) -> ImageResult:
    def one(face: Face | None) -> Face | None:
        if face is None or face.template is None:
            return face
        vector = normaliser.apply(face.template.vector)[0]
        return face.with_(template=Template(vector, normaliser.model_id))

    return replace(result, faces=[one(f) for f in result.faces], fallback=one(result.fallback))


def _run_pool(spec, folder, items, todo, results, workers, tick) -> None:
    import multiprocessing as mp

    # spawn: a fresh interpreter per worker, safe with the threads OpenCV/dlib start.
    ctx = mp.get_context("spawn")
    jobs = [(str(items[i]), key, donor) for i, key, donor in todo]
    with ctx.Pool(workers, initializer=_worker_init, initargs=(spec, str(folder))) as pool:
        for (i, _, _), result in zip(todo, pool.imap(_worker_run, jobs, chunksize=8), strict=True):
            # The worker saw the path as a string; keep the caller's Path object.
            results[i] = ImageResult(
                items[i], result.faces, result.error, result.shape, result.fallback
            )
            tick()


def primary_face(result: ImageResult, image_shape: tuple[int, int] | None = None) -> Face | None:
    """The face nearest the image centre (the LFW convention: the named person is the
    centred face); None when the detector found none."""
    faces = [f for f in result.faces if f.template is not None]
    if not faces:
        return None
    shape = image_shape or result.shape
    if shape is None:
        return faces[0]
    cy, cx = shape[0] / 2, shape[1] / 2
    return min(faces, key=lambda f: (f.centre[0] - cx) ** 2 + (f.centre[1] - cy) ** 2)


def template_matrix(
    faces: Sequence[Face | None], dim: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(n, dim) float32 templates and an (n,) bool mask of which rows are present."""
    present = np.array([f is not None and f.template is not None for f in faces], dtype=bool)
    if dim is None:
        dims = [len(f.template.vector) for f in faces if f is not None and f.template is not None]
        dim = dims[0] if dims else 0
    out = np.zeros((len(faces), dim), dtype=np.float32)
    for i, f in enumerate(faces):
        if present[i]:
            out[i] = f.template.vector
    return out, present
