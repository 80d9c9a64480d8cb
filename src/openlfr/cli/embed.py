"""`openlfr embed`: faces, quality and templates of images, written as JSON."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import typer

from openlfr.cli import app
from openlfr.errors import ConfigError, ImageError
from openlfr.vision.backends import DEFAULT_BACKEND


@app.command()
def embed(
    images: list[Path] = typer.Argument(
        ..., help="Image files (JPEG, PNG, WebP or BMP).", show_default=False
    ),
    json_path: Path = typer.Option(
        ..., "--json", help="Write the results to this file ('-' for standard output)."
    ),
    backend: str = typer.Option(
        DEFAULT_BACKEND,
        "--backend",
        help="Face engine backend: fused (default), dlib-onnx, faceres, mobileface, dlib or onnx.",
    ),
    models: Path = typer.Option(
        None, "--models", help="Model directory, for backends that load model files (onnx)."
    ),
    max_side: int = typer.Option(
        4096, "--max-side", min=64, help="Scale larger images down to this many pixels."
    ),
) -> None:
    """Find the faces in each image and write their boxes, quality and templates as JSON.

    An image that cannot be read is listed with its error; the others are still done.
    The output holds biometric templates: treat the file as personal data.
    """
    from openlfr.vision.engine import FaceEngine
    from openlfr.vision.image import load_image

    to_stdout = str(json_path) == "-"
    if not to_stdout and not json_path.parent.is_dir():
        raise ConfigError(f"cannot write {json_path}: folder {json_path.parent} does not exist")
    engine = FaceEngine.from_backend(backend, models=models)

    results = []
    for path in images:
        try:
            image = load_image(path, max_side=max_side)
        except ImageError as exc:
            results.append({"image": str(path), "error": str(exc), "faces": []})
            continue
        faces = engine.analyse(image)
        results.append(
            {
                "image": str(path),
                "error": None,
                "width": int(image.shape[1]),
                "height": int(image.shape[0]),
                "faces": [face_record(f) for f in faces],
            }
        )

    document = {"backend": backend, "model_id": engine.model_id, "images": results}
    if to_stdout:
        json.dump(document, sys.stdout)
        sys.stdout.write("\n")
    else:
        _write_atomically(json_path, document)
    n_faces = sum(len(r["faces"]) for r in results)
    n_bad = sum(1 for r in results if r["error"])
    summary = f"{len(results)} images, {n_faces} faces, {n_bad} unreadable"
    typer.echo(summary if to_stdout else f"{summary} -> {json_path}", err=to_stdout)
    for r in results:
        if r["error"]:
            typer.echo(f"  {r['error']}", err=True)


def face_record(face) -> dict:
    """A Face as plain JSON types."""
    q = face.quality
    t = face.template
    return {
        "box": [round(float(v), 2) for v in face.box],
        "score": round(float(face.score), 4),
        "scheme": face.scheme,
        "landmarks": None if face.landmarks is None else face.landmarks.round(2).tolist(),
        "quality": None
        if q is None
        else {
            "score": round(q.score, 4),
            "reasons": list(q.reasons),
            "eye_distance": round(q.eye_distance, 2),
            "sharpness": round(q.sharpness, 2),
            "yaw": round(q.yaw, 4),
            "brightness": round(q.brightness, 2),
        },
        "template": None
        if t is None
        else {"model_id": t.model_id, "vector": [float(x) for x in t.vector]},
    }


def _write_atomically(path: Path, document: dict) -> None:
    # Never leave a half-written file behind: write beside it, then rename over it.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(document, out)
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
