"""`openlfr identify IMAGE... --watchlist DIR|NAME`: 1:N search of the faces in still images."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from openlfr.cli import app
from openlfr.gallery.identify import DEFAULT_TARGET_FPIR, DEFAULT_TOP_K
from openlfr.vision.backends import DEFAULT_BACKEND


def load_or_enrol(spec: str, backend: str, quiet: bool):
    """A folder path is enrolled on the fly (not stored); anything else is a stored name."""
    from openlfr.cli.watchlist import run_enrolment
    from openlfr.gallery import watchlist as store

    path = Path(spec).expanduser()
    if path.is_dir() or path.suffix.lower() == ".csv":
        report = run_enrolment(path, backend, quiet=quiet)
        return store.Watchlist.from_report("on-the-fly", report, source=str(path)), report
    return store.load(spec), None


def result_table(results, title: str = "Identification") -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("image", "face", "box (x1,y1,x2,y2)", "quality", "result", "similarity", "also"):
        table.add_column(col, overflow="fold")
    for r in results:
        if r.error:
            table.add_row(r.image, "", "", "", f"[red]error: {r.error}", "", "")
            continue
        if not r.faces:
            table.add_row(r.image, "-", "", "", "[yellow]no face found", "", "")
        for i, f in enumerate(r.faces, start=1):
            q = "" if f.quality is None else f"{f.quality:.2f}"
            if f.reasons:
                q += f" ({', '.join(f.reasons)})"
            box = ",".join(f"{x:.0f}" for x in f.box)
            if f.subject is None:
                result, sim = "[yellow]unknown", ""
            else:
                result, sim = f"[green]{f.subject}", f"{f.similarity:.3f}"
            also = ", ".join(f"{c.subject} {c.similarity:.3f}" for c in f.candidates[1:])
            table.add_row(r.image, str(i), box, q, result, sim, also)
    return table


@app.command()
def identify(
    images: list[Path] = typer.Argument(..., help="Still images to search."),
    watchlist: str = typer.Option(
        ...,
        "--watchlist",
        "-w",
        help="A folder (one sub-folder of photos per person, enrolled on the fly, not stored) "
        "or the name of a stored watchlist.",
    ),
    threshold: float = typer.Option(
        None, "--threshold", "-t", help="Similarity threshold in [0, 1] (overrides FPIR)."
    ),
    target_fpir: float = typer.Option(
        DEFAULT_TARGET_FPIR,
        "--target-fpir",
        help="Wanted false-positive identification rate; the threshold comes from the "
        "model's calibration for this watchlist's size (a per-model fallback without one).",
    ),
    top_k: int = typer.Option(DEFAULT_TOP_K, "--top-k", help="Candidates shown per face."),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
    backend: str = typer.Option(DEFAULT_BACKEND, "--backend", help="Face engine backend."),
) -> None:
    """Find every face in each image and search it against a watchlist (1:N).

    Each face gets the listed people at or above the threshold, best first, or "unknown".
    Exits 1 when an image could not be read (the others are still searched).
    """
    from openlfr.cli.watchlist import console, make_engine, print_report
    from openlfr.gallery.identify import Identifier, resolve_threshold

    wl, report = load_or_enrol(watchlist, backend, quiet=as_json)
    if not wl.template_subjects:
        if report is not None and not as_json:
            print_report(report, console())
        from openlfr.errors import WatchlistError

        raise WatchlistError(f"no one could be enrolled from {watchlist}")
    chosen = resolve_threshold(wl.model_id, len(wl.template_subjects), threshold, target_fpir)
    identifier = Identifier(wl, chosen, top_k=top_k)
    engine = make_engine(backend)
    results = identifier.identify_files(engine, images)
    if as_json:
        payload = {
            "watchlist": wl.name if report is None else watchlist,
            "model_id": wl.model_id,
            "subjects": len(wl.enrolled_subjects),
            "templates": len(wl.template_subjects),
            "threshold": chosen.value,
            "threshold_source": chosen.source,
            "expected_fpir": chosen.expected_fpir,
            "enrolment": None if report is None else report.to_json(),
            "images": [r.to_json() for r in results],
        }
        typer.echo(json.dumps(payload, indent=1))
    else:
        out = console()
        if report is not None:
            print_report(report, out)
        out.print(
            f"watchlist {wl.name if report is None else watchlist}: "
            f"{len(wl.enrolled_subjects)} people, {len(wl.template_subjects)} templates, "
            f"model {wl.model_id}; threshold {chosen.value:.3f} ({chosen.source})"
        )
        out.print(result_table(results))
    if any(r.error for r in results):
        raise typer.Exit(1)
