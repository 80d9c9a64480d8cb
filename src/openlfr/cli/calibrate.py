"""`openlfr calibrate --faces DIR`: measure a model's non-mated scores, store the calibration."""

from __future__ import annotations

from pathlib import Path

import typer

from openlfr.cli import app
from openlfr.errors import ConfigError
from openlfr.vision.backends import DEFAULT_BACKEND


@app.command()
def calibrate(
    faces: Path = typer.Option(
        ..., "--faces", help="Folder of <person>/<image> photos, or a flat folder of one each."
    ),
    backend: str = typer.Option(DEFAULT_BACKEND, "--backend", help="Face engine backend."),
    max_images: int = typer.Option(
        None, "--max-images", min=2, help="Use at most this many images (spread over people)."
    ),
    out: Path = typer.Option(
        None, "--out", help="Write here instead of <data dir>/calibration/<model>.json."
    ),
    fit_normaliser: bool = typer.Option(
        False,
        "--fit-normaliser",
        help="First fit the model's template normaliser (centre + whiten) on these faces and "
        "store it; engines then use it (a new model id) and this calibration is for it.",
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="Processes embedding images."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Measure the non-mated score distribution of a model (every pair of faces of different
    people) and store it, so that any threshold maps to an expected FPIR and back."""
    from openlfr.evaluation.cache import EngineSpec
    from openlfr.evaluation.calibration_run import calibrate_folder
    from openlfr.gallery.calibration import summary_lines
    from openlfr.vision.backends import get_backend

    if out is not None and not Path(out).parent.resolve().is_dir():
        raise ConfigError(f"--out: folder does not exist: {Path(out).parent}")
    get_backend(backend)  # an unknown backend is a one-line error before any work
    run = calibrate_folder(
        faces,
        EngineSpec(backend),
        max_images=max_images,
        workers=workers,
        progress=progress,
        fit_normaliser=fit_normaliser,
    )
    typer.echo(f"{run.faces} faces used, {run.missed} images without a face")
    if run.normaliser is not None:
        typer.echo(f"normaliser for {run.normaliser.base_model_id}: {run.normaliser.save()}")
        typer.echo(f"calibration of the un-normalised model: {run.base_calibration.save()}")
    where = run.calibration.save(out)
    for line in summary_lines(run.calibration):
        typer.echo(line)
    typer.echo(f"\nwrote {where}")


def parse_model(item: str) -> tuple[str, dict]:
    """`faceres:flip=true:project=128` -> ("faceres", {"flip": True, "project": 128})."""
    backend, *pairs = item.split(":")
    options: dict = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--models: {pair!r} in {item!r} is not KEY=VALUE")
        options[key] = _option_value(raw)
    project = options.get("project")
    if "project" in options and (isinstance(project, bool) or not isinstance(project, int)):
        raise ConfigError(f"--models: project= takes a number of dimensions, not {project!r}")
    return backend.strip(), options


def _option_value(raw: str):
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


@app.command()
def fuse(
    models: str = typer.Option(
        ...,
        "--models",
        help="Backends to fuse, comma-separated, each with options after colons, and "
        "project=K to project it to K dimensions (e.g. dlib-onnx,faceres:flip=true:project=128).",
    ),
    faces: Path = typer.Option(..., "--faces", help="Training folder of <person>/<image>."),
    people: Path = typer.Option(
        None, "--people", help="Only these people (LFW people file or one name a line)."
    ),
    step: float = typer.Option(0.05, "--step", min=0.01, max=0.5, help="Weight grid step."),
    name: str = typer.Option("default", "--name", help="Store as this fusion name."),
    out: Path = typer.Option(None, "--out", help="Write here instead of the data directory."),
    workers: int = typer.Option(1, "--workers", min=1, help="Processes embedding images."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Fit score-fusion weights for several embedded models on a training split (open-set
    1:N: mean TPIR over FPIR 0.001 to 0.03) and store them; `--backend fused` then uses
    them (fusion NAME, default "default"). Fit on people you will not evaluate on."""
    from openlfr.evaluation.datasets import read_people_list
    from openlfr.evaluation.fusion_fit import fit_fusion
    from openlfr.vision.backends import get_backend
    from openlfr.vision.fused import Component, user_path

    components, project = [], {}
    for i, item in enumerate(m.strip() for m in models.split(",") if m.strip()):
        backend, options = parse_model(item)
        get_backend(backend)  # an unknown backend is a one-line error before any work
        if "project" in options:
            project[i] = options.pop("project")
        components.append(Component(backend, 1.0, options))
    if len(components) < 2:
        raise ConfigError("--models: name at least two backends to fuse")
    chosen = read_people_list(people) if people else None
    fit = fit_fusion(
        components,
        faces,
        people=chosen,
        project=project,
        step=step,
        fitted_on=f"{faces.name}/, people in {people.name}" if people else f"{faces.name}/",
        workers=workers,
        progress=progress,
        log=typer.echo,
    )
    typer.echo(
        f"{fit.people} people enrolled, {fit.searches['mated']} mated and "
        f"{fit.searches['nonmated']} non-mated searches"
    )
    for trial in sorted(fit.trials, key=lambda t: -t["criterion"])[:5]:
        weights = ", ".join(f"{w:.2f}" for w in trial["weights"])
        quoted = ", ".join(f"{k}: {v:.3f}" for k, v in trial["tpir"].items())
        typer.echo(
            f"  weights [{weights}]  criterion {trial['criterion']:.4f}  TPIR at FPIR {quoted}"
        )
    where = fit.fusion.save(out or user_path(name))
    typer.echo(f"wrote {where}")
