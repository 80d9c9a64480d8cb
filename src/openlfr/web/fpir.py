"""The expected false alert rate shown beside an alert: the model's calibration (from
`openlfr calibrate`) read at the deployment's threshold for a watchlist of this size."""

from __future__ import annotations

import functools

from sqlalchemy import select

from openlfr.errors import OpenLFRError
from openlfr.store import Store
from openlfr.store.models import ReferenceImageRow


@functools.lru_cache(maxsize=8)
def _calibration(model_id: str, _data_dir: str):
    from openlfr.gallery.calibration import load_calibration

    try:
        return load_calibration(model_id)
    except OpenLFRError:
        return None


def subject_model(store: Store, subject_id: str | None) -> str | None:
    """The model that made this subject's reference templates (None if none)."""
    if subject_id is None:
        return None
    with store.transaction() as s:
        return s.scalar(
            select(ReferenceImageRow.model_id)
            .where(ReferenceImageRow.subject_id == subject_id)
            .where(ReferenceImageRow.model_id.is_not(None))
            .limit(1)
        )


def describe(model_id: str | None, threshold: float, watchlist_size: int) -> str:
    """'1 in 6,000 searches (watchlist of 1,000)', or why there is no figure."""
    from openlfr import paths

    if model_id is None:
        return "unknown (no reference template)"
    cal = _calibration(model_id, str(paths.data_dir()))
    if cal is None:
        return f"not calibrated for {model_id} (run openlfr calibrate)"
    n = max(int(watchlist_size), 1)
    fpir = cal.expected_fpir(threshold, n)
    if fpir <= 0:
        return f"below measurement (watchlist of {n:,})"
    approx = " (extrapolated)" if cal.extrapolated(threshold) else ""
    return f"1 in {round(1 / fpir):,} searches{approx} (watchlist of {n:,})"
