"""Converted models in the user's cache directory, keyed by the source file's sha256.

A conversion runs once per source file and converter version; later processes find the
result by name. Files are written to a temporary name and renamed, so processes
converting at the same time never see a half-written model.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from openlfr.paths import cache_dir


def models_dir() -> Path:
    return cache_dir() / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached(source: Path, kind: str, convert: Callable[[bytes], bytes], suffix=".onnx") -> Path:
    """The cached conversion of `source` (converting it now if needed).

    `kind` names the converter and its version (e.g. "dlib-resnet-v1.c1"): bump it when the
    converter's output changes so that old conversions are not reused.
    """
    key = sha256_of(source)
    target = models_dir() / f"{kind}-{key[:16]}{suffix}"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    data = convert(source.read_bytes())
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
