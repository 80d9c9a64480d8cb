"""Score-level fusion of several embedded models, presented as one embedder.

Each component model embeds its own chip of the same detected face. The fused template is
the concatenation of the components' unit templates, each scaled by sqrt(weight), with
the weights summing to 1: the cosine of two fused templates is then exactly the weighted
sum of the components' cosines. A component may first be projected to fewer dimensions (a
fixed linear map fitted with the weights, then re-normalised): its cosine is then the
projected model's, and the fused template is smaller (the default's is 256-d, not 1,152:
a quarter of the memory and scan time in a large gallery). Score-level fusion thus needs
nothing new downstream:
gallery indexes, calibrations, watchlists and thresholds treat a fused template like any
single model's, and its similarity is on the same documented 0..1 cosine scale.

The weights are learnt, never hand-picked on test data: `evaluation/fusion_fit.py` fits
them on a training split, and the result is a small JSON file (a `Fusion`). OpenLFR ships
one, `fusions/default.json`, fitted on LFW's DevTrain people (see the README's accuracy
table for how it was made and what it gives on the rest of LFW).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from openlfr import paths
from openlfr.errors import ConfigError
from openlfr.vision.backends import Backend, ChipSpec, Embedder, get_backend, register

FORMAT = "openlfr-fusion/1"
SHIPPED_DIR = Path(__file__).parent / "fusions"


@dataclass(frozen=True)
class Component:
    """One embedded model in a fusion: its backend, the backend's options, its weight, and
    optionally a projection, (k, dim) float32, applied to its unit template."""

    backend: str
    weight: float
    options: Mapping = field(default_factory=dict)
    projection: np.ndarray | None = field(default=None, compare=False, repr=False)


def projection_digest(matrix: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(matrix, np.float32).tobytes()).hexdigest()


@dataclass(frozen=True)
class Fusion:
    """Which models to fuse and how much each counts, with where the weights came from."""

    components: tuple[Component, ...]
    fitted_on: str = ""
    notes: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.components) < 2:
            raise ConfigError("a fusion needs at least two component models")
        weights = [c.weight for c in self.components]
        if any(not np.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
            raise ConfigError(f"fusion weights must be non-negative and not all 0: {weights}")

    def to_dict(self, stem: str = "fusion") -> dict:
        components = []
        for i, c in enumerate(self.components):
            entry = {"backend": c.backend, "weight": c.weight, "options": dict(c.options)}
            if c.projection is not None:
                entry["projection"] = {
                    "file": _projection_file(stem, i, c.backend),
                    "shape": list(c.projection.shape),
                    "sha256": projection_digest(c.projection),
                }
            components.append(entry)
        return {
            "format": FORMAT,
            "components": components,
            "fitted_on": self.fitted_on,
            "notes": dict(self.notes),
        }

    def save(self, path: str | Path) -> Path:
        """The JSON file, and beside it one .npy file per projected component."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        for i, c in enumerate(self.components):
            if c.projection is not None:
                target = path.parent / _projection_file(path.stem, i, c.backend)
                np.save(target, np.ascontiguousarray(c.projection, np.float32))
        return paths.write_json(path, self.to_dict(path.stem), indent=1)

    @classmethod
    def load(cls, path: str | Path) -> Fusion:
        path = Path(path)
        try:
            doc = json.loads(path.read_text())
            if doc.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} file")
            components = tuple(
                Component(
                    str(c["backend"]),
                    float(c["weight"]),
                    dict(c.get("options", {})),
                    _load_projection(path.parent, c["projection"]) if "projection" in c else None,
                )
                for c in doc["components"]
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"cannot read fusion {path}: {exc}") from None
        return cls(components, str(doc.get("fitted_on", "")), dict(doc.get("notes", {})))


def _projection_file(stem: str, index: int, backend: str) -> str:
    return f"{stem}.{index}-{backend}.npy"


def _load_projection(folder: Path, entry: Mapping) -> np.ndarray:
    matrix = np.load(folder / str(entry["file"]), allow_pickle=False).astype(np.float32)
    if list(matrix.shape) != list(entry["shape"]) or matrix.ndim != 2:
        raise ValueError(f"projection {entry['file']} has shape {list(matrix.shape)}")
    if projection_digest(matrix) != entry["sha256"]:
        raise ValueError(f"projection {entry['file']} does not match its recorded sha256")
    return matrix


def user_path(name: str) -> Path:
    """Where `openlfr fuse` stores a fusion the user fitted (it overrides a shipped one)."""
    return paths.data_dir() / "fusions" / f"{name}.json"


def resolve(choice: str | Path) -> Fusion:
    """A fusion by name (the user's fit in the data directory, else a shipped one) or by
    file path."""
    if isinstance(choice, str) and "/" not in choice:
        for candidate in (user_path(choice), SHIPPED_DIR / f"{choice}.json"):
            if candidate.is_file():
                return Fusion.load(candidate)
    if not Path(choice).is_file():
        names = sorted(p.stem for p in SHIPPED_DIR.glob("*.json"))
        raise ConfigError(f"no fusion {choice!r}: give a file or one of {', '.join(names)}")
    return Fusion.load(choice)


def project(vectors: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Unit templates (n, dim) -> their projections (n, k), re-normalised to unit length."""
    y = np.asarray(vectors, np.float32).reshape(-1, matrix.shape[1]) @ matrix.T
    return y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)


def projected_model_id(model_id: str, projection: np.ndarray | None) -> str:
    """A component's model id after its projection (the map's digest makes it unique)."""
    if projection is None:
        return model_id
    return f"{model_id}~p{projection.shape[0]}-{projection_digest(projection)[:8]}"


def fused_model_id(parts: Sequence[tuple[str, float]]) -> str:
    """`fused-<digest>` of the component model ids and their (normalised) weights."""
    blob = json.dumps([[m, round(float(w), 6)] for m, w in parts])
    return "fused-" + hashlib.sha256(blob.encode()).hexdigest()[:10]


class FusedEmbedder:
    """Several embedders as one: one chip per component (`chip_specs`), one template.

    `component_specs` (backend, options) lets evaluation code build each component in
    other processes and reuse each component's own embedding cache."""

    def __init__(
        self,
        components: Sequence[Embedder],
        weights: Sequence[float],
        component_specs: Sequence[tuple[str, Mapping]] | None = None,
        projections: Sequence[np.ndarray | None] | None = None,
    ) -> None:
        if len(components) != len(weights) or len(components) < 2:
            raise ConfigError("a fused embedder needs two or more components, one weight each")
        projections = list(projections) if projections else [None] * len(components)
        for c, p in zip(components, projections, strict=True):
            if p is not None and (p.ndim != 2 or p.shape[1] != c.dim):
                raise ConfigError(f"projection {p.shape} does not fit {c.model_id} ({c.dim}-d)")
        w = np.asarray(weights, dtype=np.float64)
        if (w < 0).any() or w.sum() <= 0:
            raise ConfigError(f"fusion weights must be non-negative and not all 0: {weights}")
        self.components = list(components)
        self.weights = w / w.sum()
        self.component_specs = list(component_specs) if component_specs else None
        self.projections = [None if p is None else np.asarray(p, np.float32) for p in projections]
        self.scales = np.sqrt(self.weights).astype(np.float32)
        self.dim = int(
            sum(
                c.dim if p is None else p.shape[0]
                for c, p in zip(self.components, self.projections, strict=True)
            )
        )
        self.chip_specs: tuple[ChipSpec, ...] = tuple(c.chip for c in self.components)
        self.chip = self.chip_specs[0]
        self.model_id = fused_model_id(
            [
                (projected_model_id(c.model_id, p), w)
                for c, p, w in zip(self.components, self.projections, self.weights, strict=True)
            ]
        )

    def combine(self, per_component: Sequence[np.ndarray]) -> np.ndarray:
        """Unit templates of each component, (n, dim_k) each -> (n, dim) fused templates."""
        parts = []
        for v, c, p, s in zip(
            per_component, self.components, self.projections, self.scales, strict=True
        ):
            v = np.asarray(v, dtype=np.float32).reshape(-1, c.dim)
            parts.append((v if p is None else project(v, p)) * s)
        return np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.float32)

    def embed_chip_sets(self, chip_sets: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
        """One list of chips per component (cut to its `chip_specs` entry), same faces."""
        if len(chip_sets) != len(self.components):
            raise ValueError(f"need {len(self.components)} chip lists, got {len(chip_sets)}")
        if len(chip_sets[0]) == 0:
            return np.zeros((0, self.dim), np.float32)
        return self.combine(
            [c.embed_chips(s) for c, s in zip(self.components, chip_sets, strict=True)]
        )

    def embed_chips(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        if len(set(self.chip_specs)) != 1:
            raise TypeError("fused components want different chips: use embed_chip_sets")
        return self.embed_chip_sets([chips] * len(self.components))

    def describe(self) -> str:
        return " + ".join(
            f"{w:.2f} x {projected_model_id(c.model_id, p)}"
            for c, p, w in zip(self.components, self.projections, self.weights, strict=True)
        )


def build_embedder(fusion: Fusion, **runtime) -> FusedEmbedder:
    """The components' embedders with `runtime` options (threads, device...) for each."""
    embedders, specs = [], []
    for c in fusion.components:
        options = {**c.options, **runtime}
        embedders.append(get_backend(c.backend).make_embedder(**options))
        specs.append((c.backend, dict(c.options)))
    return FusedEmbedder(
        embedders,
        [c.weight for c in fusion.components],
        specs,
        [c.projection for c in fusion.components],
    )


def _make_detector(fusion: str = "default", **options):
    # Every component is cut from the same detected face: the first component's detector.
    first = resolve(fusion).components[0]
    return get_backend(first.backend).make_detector(**{**first.options, **options})


def _make_embedder(fusion: str = "default", **options) -> FusedEmbedder:
    return build_embedder(resolve(fusion), **options)


register(
    Backend(
        name="fused",
        make_detector=_make_detector,
        make_embedder=_make_embedder,
        description="score-level fusion of embedded models (option fusion=NAME|FILE; "
        "shipped: default), weights fitted on a training split",
    )
)
