"""`openlfr demo`: the interim demo (what `make demo` runs). See `openlfr.demo`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from openlfr.cli import app
from openlfr.gallery.identify import DEFAULT_TARGET_FPIR
from openlfr.vision.backends import DEFAULT_BACKEND

_STYLE = {
    "true match": "green",
    "unknown (correct)": "green",
    "no face found (correct)": "green",
    "missed": "yellow",
    "false match": "red",
    "false match (wrong person)": "red",
}


def demo_table(title: str, rows) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("probe", "how", "on the list as", "result", "similarity", "outcome"):
        table.add_column(col, overflow="fold")
    for r in rows:
        style = _STYLE.get(r.outcome, "")
        result = r.result or ("unknown" if r.found_face else "no face found")
        if r.similarity is not None:
            sim = f"{r.similarity:.3f}"
        elif r.nearest is not None:  # how close the nearest listed person came
            sim = f"({r.nearest[0]} {r.nearest[1]:.3f})"
        else:
            sim = ""
        table.add_row(
            r.probe,
            r.how,
            r.truth or "-",
            result,
            sim,
            f"[{style}]{r.outcome}[/]" if style else r.outcome,
        )
    return table


def print_demo(result, out) -> None:
    from openlfr.cli.watchlist import print_report

    out.rule(result.title)
    if result.note:
        out.print(result.note)
    print_report(result.report, out)
    t = result.threshold
    out.print(
        f"threshold {t.value:.3f} ({t.source}); for an unknown face, the similarity column "
        "shows in brackets the nearest listed person, below the threshold."
    )
    out.print(demo_table("Identification", result.rows))
    for title, rows in result.sections:
        out.print(demo_table(title, rows))
    f = result.figures()
    out.print(
        f"[bold]Figures[/]: true matches {f['true matches']}/{f['listed probes']} listed probes; "
        f"missed {f['missed']}; correct unknowns {f['correct unknowns']}/{f['unlisted faces']} "
        f"unlisted faces; false matches {f['false matches']}; photos with no face found "
        f"{f['photos with no face']}."
    )


@app.command()
def demo(
    faces: Path = typer.Option(
        None,
        "--faces",
        help="An LFW-layout folder (one sub-folder per person) to use instead of the photos "
        "that installed packages ship.",
    ),
    people: int = typer.Option(5, "--people", help="With --faces: how many people to enrol."),
    probes: int = typer.Option(2, "--probes", help="With --faces: other photos per person."),
    seed: int = typer.Option(0, "--seed", help="With --faces: which people are picked."),
    threshold: float = typer.Option(None, "--threshold", "-t", help="Similarity threshold."),
    target_fpir: float = typer.Option(
        DEFAULT_TARGET_FPIR, "--target-fpir", help="FPIR the threshold is chosen for."
    ),
    backend: str = typer.Option(DEFAULT_BACKEND, "--backend", help="Face engine backend."),
) -> None:
    """Enrol a small watchlist and identify the faces in still photos (offline).

    Nothing is written to the data directory.

    By default only photos that installed packages ship are used (matplotlib's Grace
    Hopper, scikit-image's astronaut Eileen Collins, its small LFW crops and two photos with
    no face). Listed people are shown as altered renderings of their enrolment photo.
    """
    from openlfr.cli.watchlist import console, make_engine
    from openlfr.demo import run_lfw_demo, run_shipped_demo

    engine = make_engine(backend)
    if faces is None:
        result = run_shipped_demo(engine, threshold, target_fpir)
    else:
        result = run_lfw_demo(engine, faces, people, probes, seed, threshold, target_fpir)
    print_demo(result, console())
