"""Converted models are cached under cache_dir()/models, keyed by the source's sha256."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from openlfr.convert import dlib_models
from openlfr.convert.cache import cached, models_dir, sha256_of
from openlfr.paths import cache_dir


def test_a_conversion_runs_once_per_source_content(tmp_path: Path) -> None:
    calls: list[bytes] = []

    def convert(data: bytes) -> bytes:
        calls.append(data)
        return data[::-1]

    source = tmp_path / "model.dat"
    source.write_bytes(b"abc")
    first = cached(source, "toy.c1", convert)
    assert first.parent == models_dir() and models_dir().is_relative_to(cache_dir())
    assert sha256_of(source)[:16] in first.name
    assert first.read_bytes() == b"cba"
    assert cached(source, "toy.c1", convert) == first
    assert len(calls) == 1
    source.write_bytes(b"abd")  # new content: a new conversion, under a new name
    second = cached(source, "toy.c1", convert)
    assert second != first and second.read_bytes() == b"dba" and len(calls) == 2
    assert not list(models_dir().glob("*.part"))


def test_a_failed_conversion_leaves_nothing_behind(tmp_path: Path) -> None:
    source = tmp_path / "model.dat"
    source.write_bytes(b"abc")

    def broken(data: bytes) -> bytes:
        raise ValueError("no")

    with pytest.raises(ValueError):
        cached(source, "toy.c1", broken)
    assert not models_dir().exists() or not any(models_dir().iterdir())


def test_the_dlib_resnet_converts_into_the_cache() -> None:
    path = dlib_models.resnet_onnx()
    assert path.parent == models_dir()
    assert path.name.startswith(dlib_models.RESNET_KIND)
    model = onnx.load(str(path))
    assert [i.name for i in model.graph.input] == ["chips"]
    assert [o.name for o in model.graph.output] == ["descriptors"]
    assert {n.op_type for n in model.graph.node} <= {
        "Cast", "Transpose", "Sub", "Mul", "Conv", "Relu", "Add", "Pad", "MaxPool",
        "AveragePool", "GlobalAveragePool", "Flatten", "MatMul", "Identity",
    }  # fmt: skip
    assert dlib_models.resnet_onnx() == path
