"""Shared fixtures. Tests needing the shared face data fail (not skip) in CI when it is missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from openlfr.paths import shared_faces_dir


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


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    # Never touch the user's real data or cache directories from a test.
    base = tmp_path_factory.mktemp("openlfr-home")
    monkeypatch.setenv("OPENLFR_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("OPENLFR_CACHE_DIR", str(base / "cache"))
