"""`openlfr calibrate --faces DIR`: measure a model's non-mated scores, store the calibration."""

from __future__ import annotations

from pathlib import Path

import typer

from openlfr.cli import app
from openlfr.errors import CalibrationError, ConfigError
from openlfr.vision.backends import DEFAULT_BACKEND


@app.command()
def calibrate(
    faces: Path = typer.Option(..., "--faces", help="Folder of <person>/<image> photos."),
    backend: str = typer.Option(DEFAULT_BACKEND, "--backend", help="Face engine backend."),
    max_images: int = typer.Option(
        None, "--max-images", min=2, help="Use at most this many images (spread over people)."
    ),
    out: Path = typer.Option(
        None, "--out", help="Write here instead of <data dir>/calibration/<model>.json."
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="Processes embedding images."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Measure the non-mated score distribution of a model (every pair of faces of different
    people) and store it, so that any threshold maps to an expected FPIR and back."""
    from openlfr.evaluation.cache import EngineSpec, embed_images, primary_face
    from openlfr.evaluation.datasets import scan_people, spread
    from openlfr.gallery.calibration import calibrate_from_templates, summary_lines
    from openlfr.vision.backends import get_backend

    if out is not None and not Path(out).parent.resolve().is_dir():
        raise ConfigError(f"--out: folder does not exist: {Path(out).parent}")
    get_backend(backend)  # an unknown backend is a one-line error before any work
    people = scan_people(faces)
    paths = [(name, p) for name, imgs in people.items() for p in imgs]
    if max_images:
        paths = spread(paths, max_images)
    if len({name for name, _ in paths}) < 2:
        raise CalibrationError(f"{faces}: calibration needs photos of at least two people")
    spec = EngineSpec(backend)
    results = embed_images(spec, [p for _, p in paths], workers=workers, progress=progress)
    groups: dict[str, list] = {}
    model_id = None
    for (name, _), result in zip(paths, results, strict=True):
        face = primary_face(result)
        if face is not None and face.template is not None:
            groups.setdefault(name, []).append(face.template)
            model_id = face.template.model_id
    if model_id is None:
        raise CalibrationError(f"no face found in the photos under {faces}")
    cal = calibrate_from_templates(model_id, groups, source=str(faces))
    where = cal.save(out)
    for line in summary_lines(cal):
        typer.echo(line)
    typer.echo(f"\nwrote {where}")
