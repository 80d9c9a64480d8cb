"""Score-level fusion of several embedded models, presented as one embedder.

Each component model embeds its own chip of the same detected face. The fused template is
the concatenation of the components' unit templates, each scaled by sqrt(weight), with
the weights summing to 1: the cosine of two fused templates is then exactly the weighted
sum of the components' cosines. Score-level fusion thus needs nothing new downstream:
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
    """One embedded model in a fusion: its backend, the backend's options, its weight."""

    backend: str
    weight: float
    options: Mapping = field(default_factory=dict)


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

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "components": [
                {"backend": c.backend, "weight": c.weight, "options": dict(c.options)}
                for c in self.components
            ],
            "fitted_on": self.fitted_on,
            "notes": dict(self.notes),
        }

    def save(self, path: str | Path) -> Path:
        return paths.write_json(path, self.to_dict(), indent=1)

    @classmethod
    def load(cls, path: str | Path) -> Fusion:
        path = Path(path)
        try:
            doc = json.loads(path.read_text())
            if doc.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} file")
            components = tuple(
                Component(str(c["backend"]), float(c["weight"]), dict(c.get("options", {})))
                for c in doc["components"]
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"cannot read fusion {path}: {exc}") from None
        return cls(components, str(doc.get("fitted_on", "")), dict(doc.get("notes", {})))


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
    ) -> None:
        if len(components) != len(weights) or len(components) < 2:
            raise ConfigError("a fused embedder needs two or more components, one weight each")
        w = np.asarray(weights, dtype=np.float64)
        if (w < 0).any() or w.sum() <= 0:
            raise ConfigError(f"fusion weights must be non-negative and not all 0: {weights}")
        self.components = list(components)
        self.weights = w / w.sum()
        self.component_specs = list(component_specs) if component_specs else None
        self.scales = np.sqrt(self.weights).astype(np.float32)
        self.dim = int(sum(c.dim for c in self.components))
        self.chip_specs: tuple[ChipSpec, ...] = tuple(c.chip for c in self.components)
        self.chip = self.chip_specs[0]
        self.model_id = fused_model_id(
            [(c.model_id, w) for c, w in zip(self.components, self.weights, strict=True)]
        )

    def combine(self, per_component: Sequence[np.ndarray]) -> np.ndarray:
        """Unit templates of each component, (n, dim_k) each -> (n, dim) fused templates."""
        parts = [
            np.asarray(v, dtype=np.float32).reshape(-1, c.dim) * s
            for v, c, s in zip(per_component, self.components, self.scales, strict=True)
        ]
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
            f"{w:.2f} x {c.model_id}" for c, w in zip(self.components, self.weights, strict=True)
        )


def build_embedder(fusion: Fusion, **runtime) -> FusedEmbedder:
    """The components' embedders with `runtime` options (threads, device...) for each."""
    embedders, specs = [], []
    for c in fusion.components:
        options = {**c.options, **runtime}
        embedders.append(get_backend(c.backend).make_embedder(**options))
        specs.append((c.backend, dict(c.options)))
    return FusedEmbedder(embedders, [c.weight for c in fusion.components], specs)


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
