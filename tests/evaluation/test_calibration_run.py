"""`openlfr calibrate --fit-normaliser` on a flat folder, and the cache under a normaliser."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from openlfr import paths
from openlfr.cli import _register, app
from openlfr.evaluation.cache import EngineSpec, embed_images, primary_face
from openlfr.gallery import calibration
from openlfr.gallery.calibration import load_calibration
from openlfr.vision import normaliser as nm
from openlfr.vision.engine import FaceEngine


def _flat_folder(shared_data: Path, tmp_path: Path, n: int = 30) -> Path:
    out = tmp_path / "flat"
    out.mkdir()
    people = sorted(p for p in (shared_data / "lfw").iterdir() if p.is_dir())[:n]
    for person in people:
        first = sorted(person.iterdir())[0]
        shutil.copy(first, out / first.name)
    return out


def test_fit_normaliser_then_engines_and_cache_use_it(shared_data, tmp_path, monkeypatch):
    monkeypatch.setattr(nm, "MIN_FIT", 20)
    folder = _flat_folder(shared_data, tmp_path)
    _register()
    result = CliRunner().invoke(
        app, ["calibrate", "--faces", str(folder), "--fit-normaliser", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    base_id = FaceEngine.from_backend(normaliser="none").model_id  # the fused default
    norm = nm.Normaliser.load(nm.default_path(base_id))
    assert norm.n_fit >= 25
    # Both calibrations are stored: the normalised model's and the base model's.
    assert load_calibration(norm.model_id).model_id == norm.model_id
    assert calibration.default_path(base_id).is_file()
    # Engines now make normalised templates; the cache keeps the base model's only.
    assert FaceEngine.from_backend().model_id == norm.model_id
    results = embed_images(EngineSpec(), sorted(folder.iterdir())[:5], progress=False)
    face = primary_face(results[0])
    assert face.template.model_id == norm.model_id and face.template.vector.shape == (norm.dim,)
    # (a fused model's templates come from its component models' caches)
    cached = {p.name for p in (paths.cache_dir() / "embeddings").iterdir()}
    assert cached == {"dlib-resnet-v1_flip", "faceres-v1_flip"}
