"""A deployment's frozen watchlist snapshot, in the shape the live pipeline takes.

`openlfr.live.pipeline.Pipeline` reads a watchlist's ``name``, ``model_id``,
``template_subjects``, ``enrolled_subjects`` and ``index()``: the same interface as
`openlfr.gallery.watchlist.Watchlist`, built here from the store's decrypted snapshot
entries, held in memory only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from openlfr.errors import WatchlistError
from openlfr.store.watchlists import SnapshotEntry


@dataclass
class SnapshotWatchlist:
    """The templates of one model from a snapshot. Subjects deleted since the snapshot was
    built (their id is gone) are left out: a deleted person must not alert."""

    name: str
    model_id: str
    dim: int
    templates: np.ndarray  # (n, dim) float32
    template_subjects: list[str]

    @classmethod
    def from_entries(
        cls, name: str, entries: Iterable[SnapshotEntry], model_id: str | None = None
    ) -> SnapshotWatchlist:
        usable = [e for e in entries if e.subject_id is not None]
        models = sorted({e.model_id for e in usable})
        if model_id is None:
            if len(models) > 1:
                raise WatchlistError(
                    f"the snapshot mixes models ({', '.join(models)}); name the one to use"
                )
            model_id = models[0] if models else ""
        chosen = [e for e in usable if e.model_id == model_id]
        if not chosen:
            raise WatchlistError(
                f"the watchlist snapshot has no template for model {model_id!r}"
                + (f" (it has {', '.join(models)})" if models else "")
            )
        templates = np.stack([np.asarray(e.vector, dtype=np.float32) for e in chosen])
        return cls(
            name=name,
            model_id=model_id,
            dim=int(templates.shape[1]),
            templates=templates,
            template_subjects=[str(e.subject_id) for e in chosen],
        )

    @property
    def subjects(self) -> list[str]:
        return list(dict.fromkeys(self.template_subjects))

    @property
    def enrolled_subjects(self) -> list[str]:
        return self.subjects

    def items(self) -> list[tuple[str, np.ndarray]]:
        owners = np.asarray(self.template_subjects)
        return [(s, self.templates[owners == s]) for s in self.subjects]

    def index(self, kind: str = "auto"):
        """A 1:N index over the snapshot (max fusion over a subject's templates)."""
        from openlfr.gallery.index import build_index

        return build_index(self.model_id, self.dim, self.items(), kind=kind)


def models_in(entries: Sequence[SnapshotEntry]) -> list[str]:
    return sorted({e.model_id for e in entries if e.subject_id is not None})
