"""`openlfr evaluate ...`: verification, open-set identification, demographic differentials."""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer

from openlfr.cli import app
from openlfr.errors import ConfigError
from openlfr.vision.backends import DEFAULT_BACKEND

evaluate_app = typer.Typer(
    help="Measure accuracy on labelled face sets (LFW, UTKFace or any <person>/<image> folder).",
    no_args_is_help=True,
)
app.add_typer(evaluate_app, name="evaluate")

FACES = typer.Option(..., "--faces", help="Folder of <person>/<image> (or a flat folder).")
BACKEND = typer.Option(DEFAULT_BACKEND, "--backend", help="Face engine backend.")
JSON_OUT = typer.Option(None, "--json", help="Write the results as JSON to this file.")
PLOT = typer.Option(None, "--plot", help="Write a plot (PNG) to this file.")
WORKERS = typer.Option(1, "--workers", min=1, help="Processes embedding images in parallel.")
LIMIT = typer.Option(None, "--limit", min=1, help="Quick subset (per fold / people / images).")
PROGRESS = typer.Option(True, "--progress/--no-progress", help="Show a progress bar.")
NORMALISER = typer.Option(
    "auto",
    "--normaliser",
    help="Template normaliser: auto (the one fitted for the model, if any), none, or a file.",
)


def _spec(backend: str, normaliser: str = "auto"):
    from openlfr.evaluation.cache import EngineSpec
    from openlfr.vision.backends import get_backend

    get_backend(backend)  # an unknown name is a one-line error before any work
    return EngineSpec(backend, normaliser=normaliser)


def _check_outputs(json_out: Path | None, plot: Path | None) -> None:
    # Fail before a 20-minute run, not after it.
    for path, what in ((json_out, "--json"), (plot, "--plot")):
        if path is not None and not Path(path).parent.resolve().is_dir():
            raise ConfigError(f"{what}: folder does not exist: {Path(path).parent}")


def _clean(value):
    """JSON without NaN/inf (other tools read it): those become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _write_json(path: Path | None, data: dict) -> None:
    if path is not None:
        Path(path).write_text(json.dumps(_clean(data), indent=2) + "\n")
        typer.echo(f"wrote {path}")


def _fmt(x, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def _print_table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for h in header:
        table.add_column(h)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


@evaluate_app.command("verification")
def verification_cmd(
    faces: Path = FACES,
    pairs: Path = typer.Option(..., "--pairs", help="LFW pairs.txt (10 folds)."),
    backend: str = BACKEND,
    normaliser: str = NORMALISER,
    json_out: Path | None = JSON_OUT,
    plot: Path | None = PLOT,
    workers: int = WORKERS,
    limit: int | None = LIMIT,
    progress: bool = PROGRESS,
) -> None:
    """1:1 verification, LFW 10-fold protocol: mean accuracy and its std over the folds."""
    from openlfr.evaluation.runs import run_verification

    _check_outputs(json_out, plot)
    result, data = run_verification(
        _spec(backend, normaliser), faces, pairs, workers=workers, limit=limit, progress=progress
    )
    _print_table(
        f"Verification ({data['model']})",
        [
            ("accuracy", _fmt(data["accuracy"])),
            ("std (folds)", _fmt(data["std"])),
            ("threshold (mean)", _fmt(data["threshold"])),
            ("pairs", str(data["pairs"])),
            ("pairs without a face", str(data["failed_pairs"])),
            ("missed detections (images)", str(data["missed_detections"])),
            ("fallback faces (no detection)", str(data["fallback_faces"])),
        ],
        ("measure", "value"),
    )
    _write_json(json_out, data)
    if plot is not None:
        from openlfr.evaluation.plots import det_plot

        det_plot(
            plot,
            result.fmr,
            result.fnmr,
            title=f"Verification DET, {data['model']}",
            xlabel="FMR (false match rate)",
            ylabel="FNMR (false non-match rate)",
        )
        typer.echo(f"wrote {plot}")


@evaluate_app.command("identification")
def identification_cmd(
    faces: Path = FACES,
    backend: str = BACKEND,
    normaliser: str = NORMALISER,
    json_out: Path | None = JSON_OUT,
    plot: Path | None = PLOT,
    workers: int = WORKERS,
    limit: int | None = LIMIT,
    people: Path | None = typer.Option(
        None,
        "--people",
        help="Only these people (LFW people file such as peopleDevTest.txt, or a name a line).",
    ),
    progress: bool = PROGRESS,
) -> None:
    """Open-set 1:N (NIST style): TPIR/FNIR at FPIR 0.1, 0.01, 0.001, 0.0001.

    Gallery: the first image of each person with two or more; mated searches: their other images; non-mated: people with one image. Missed faces count as misses.
    """  # noqa: E501  (one paragraph: the help text rewraps it)
    from openlfr.evaluation.datasets import read_people_list
    from openlfr.evaluation.runs import run_identification

    _check_outputs(json_out, plot)
    result, data = run_identification(
        _spec(backend, normaliser),
        faces,
        workers=workers,
        limit=limit,
        progress=progress,
        people=read_people_list(people) if people else None,
    )
    rows = [
        (
            f"FPIR {level}",
            _fmt(data["tpir"][level]),
            _fmt(data["fnir"][level]),
            _fmt(data["threshold"][level]),
        )
        for level in data["tpir"]
    ]
    rows.append(("rank-1 (closed set)", _fmt(data["rank1"]), "", ""))
    _print_table(
        f"Open-set identification ({data['model']}): N={data['n_gallery']}, "
        f"{data['n_mated']} mated, {data['n_nonmated']} non-mated searches, "
        f"{data['missed_detections']} missed detections",
        rows,
        ("operating point", "TPIR", "FNIR", "threshold"),
    )
    _write_json(json_out, data)
    if plot is not None:
        from openlfr.evaluation.plots import det_plot

        marks = {
            f"FPIR {k}": (v["fpir"] or 1e-9, v["fnir"])
            for k, v in result.levels.items()
            if v is not None
        }
        det_plot(
            plot,
            result.det_fpir,
            result.det_fnir,
            title=f"Open-set DET, N={data['n_gallery']}, {data['model']}",
            marks=marks,
        )
        typer.echo(f"wrote {plot}")


@evaluate_app.command("demographics")
def demographics_cmd(
    faces: Path = FACES,
    labels: Path = typer.Option(..., "--labels", help="CSV with an 'image' column and groups."),
    group_by: str = typer.Option(..., "--group-by", help="The CSV column to group by."),
    threshold: float | None = typer.Option(
        None, "--threshold", help="Score threshold (default: the one giving FPIR 0.01 overall)."
    ),
    watchlist: Path | None = typer.Option(
        None,
        "--watchlist",
        help="Enrol this folder instead (first image per person). Default: the "
        "identification gallery, or for a flat folder a held-out half of its images.",
    ),
    watchlist_size: int = typer.Option(
        1000, "--watchlist-size", min=1, help="At most this many enrolled from --watchlist."
    ),
    backend: str = BACKEND,
    normaliser: str = NORMALISER,
    json_out: Path | None = JSON_OUT,
    plot: Path | None = PLOT,
    workers: int = WORKERS,
    limit: int | None = LIMIT,
    progress: bool = PROGRESS,
) -> None:
    """FPIR per group (FNIR too where identities exist) at one threshold.

    With Wilson 95% intervals and the highest/lowest ratio; non-mated searches run against one watchlist.
    """  # noqa: E501  (one paragraph: the help text rewraps it)
    from openlfr.evaluation.runs import run_demographics

    _check_outputs(json_out, plot)
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ConfigError("--threshold must be between 0 and 1")
    if watchlist is not None and not Path(watchlist).is_dir():
        raise ConfigError(f"--watchlist is not a folder: {watchlist}")
    result, data = run_demographics(
        _spec(backend, normaliser),
        faces,
        labels,
        group_by,
        threshold=threshold,
        watchlist=watchlist,
        watchlist_size=watchlist_size,
        workers=workers,
        limit=limit,
        progress=progress,
    )
    rows = []
    for name, g in data["groups"].items():
        ci = f"[{_fmt(g['ci_low'])}, {_fmt(g['ci_high'])}]"
        fnir = _fmt(g.get("fnir")) if "fnir" in g else ""
        rows.append((name, str(g["n"]), _fmt(g["fpir"]), ci, fnir))
    _print_table(
        f"FPIR by {group_by} at threshold {_fmt(data['threshold'])} "
        f"({data['threshold_source']}); watchlist: {data['watchlist']}; "
        f"max/min ratio {_fmt(data['ratio'], 2)}",
        rows,
        ("group", "searches", "FPIR", "95% CI", "FNIR"),
    )
    _write_json(json_out, data)
    if plot is not None:
        from openlfr.evaluation.plots import group_rate_plot

        group_rate_plot(
            plot,
            {n: (g["fpir"], g["ci_low"], g["ci_high"]) for n, g in data["groups"].items()},
            title=f"FPIR by {group_by} at threshold {data['threshold']:.3f}",
        )
        typer.echo(f"wrote {plot}")
