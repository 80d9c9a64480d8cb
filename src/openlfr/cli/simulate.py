"""`openlfr simulate` (a scene of people walking towards a camera) and `openlfr evaluate
video` (the live pipeline scored on such a scene)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from openlfr.cli import app
from openlfr.cli.evaluate import evaluate_app
from openlfr.errors import ConfigError


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--size must be WIDTHxHEIGHT, like 960x540, not {text!r}") from None
    return w, h


@app.command()
def simulate(
    faces: Path = typer.Option(
        ..., "--faces", help="An LFW-layout folder: one sub-folder of photos per person."
    ),
    out: Path = typer.Option(
        ..., "--out", help="Scene folder to write (new, empty, or a previous scene)."
    ),
    people: int = typer.Option(300, "--people", min=1, help="People walking past, one pass each."),
    listed: int = typer.Option(
        30, "--listed", min=0, help="How many of them are on the watchlist."
    ),
    minutes: float = typer.Option(5.0, "--minutes", help="Length of the video."),
    seed: int = typer.Option(0, "--seed", help="The same seed gives the same scene."),
    size: str = typer.Option(
        "960x540", "--size", help="Video size, WIDTHxHEIGHT (face sizes scale with the height)."
    ),
    fps: int = typer.Option(25, "--fps", help="Frames per second."),
    enrol_images: int = typer.Option(
        1, "--enrol-images", min=1, help="Photos per listed person in the watchlist folder."
    ),
) -> None:
    """Render a scene: an MP4 of people walking towards a camera, its ground truth
    (truth.json: who is where in which frame, who is listed) and a watchlist folder
    with *other* photos of the listed people.

    Faces grow from about 30 to 150 pixels as people approach, with motion
    blur, light changes, slight head turns, partial occlusion and several
    people at once.
    """
    from rich.progress import Progress

    from openlfr.simulate import SceneConfig, simulate_folder

    width, height = _size(size)
    config = SceneConfig.sized(width, height, minutes=minutes, seed=seed, fps=fps)
    config.validate()
    with Progress(transient=True) as bar:
        task = bar.add_task("rendering", total=config.frames)
        truth = simulate_folder(
            faces,
            out,
            people=people,
            listed=listed,
            enrol_images=enrol_images,
            config=config,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    busiest = _busiest(truth)
    typer.echo(
        f"wrote {out}: {len(truth.passes)} people ({len(truth.listed)} listed), "
        f"{truth.frames} frames ({truth.duration_s:.0f} s, {truth.width}x{truth.height}), "
        f"up to {busiest} faces in a frame"
    )


def _busiest(truth) -> int:
    counts = [0] * (truth.frames + 1)
    for p in truth.passes:
        counts[p.first_frame] += 1
        counts[p.last_frame + 1] -= 1
    best = run = 0
    for c in counts:
        run += c
        best = max(best, run)
    return best


@evaluate_app.command("video")
def video_cmd(
    scene: Path = typer.Option(..., "--scene", help="A scene folder from `openlfr simulate`."),
    threshold: float = typer.Option(
        None, "--threshold", "-t", help="Similarity threshold (default: from the calibration)."
    ),
    target_fpir: float = typer.Option(
        None, "--target-fpir", help="Expected FPIR per person pass the threshold is chosen for."
    ),
    realtime: bool = typer.Option(
        False, "--realtime", help="Play the video at its frame rate, as a camera would."
    ),
    alerts: Path = typer.Option(
        None,
        "--alerts",
        help="Score an earlier `openlfr run --alerts-out` file instead of running the "
        "pipeline (needs --faces-seen).",
    ),
    faces_seen: int = typer.Option(
        None, "--faces-seen", min=0, help="With --alerts: the run's faces seen."
    ),
    detector: str = typer.Option(
        "blazeface", "--detector", help="Region detector: blazeface, hog+mmod, hog or mmod."
    ),
    json_out: Path = typer.Option(None, "--json", help="Write the results as JSON to this file."),
) -> None:
    """Run the live pipeline on a simulated scene and score it against the ground truth:
    per-pass TPIR, false alerts (and per 1,000 faces seen), alert latency p50/p95."""
    from openlfr.evaluation.video import evaluate_scene, read_alerts_jsonl, score_alerts
    from openlfr.live.pipeline import PipelineConfig
    from openlfr.simulate import load_truth

    if json_out is not None and not Path(json_out).parent.resolve().is_dir():
        raise ConfigError(f"--json: folder does not exist: {Path(json_out).parent}")
    if alerts is not None:
        if faces_seen is None:
            raise ConfigError("--alerts needs --faces-seen (from the run's summary)")
        result = score_alerts(load_truth(scene), read_alerts_jsonl(alerts), faces_seen).to_json()
    else:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("pipeline", total=None)
            result = evaluate_scene(
                scene,
                threshold=threshold,
                target_fpir=target_fpir,
                realtime=realtime,
                config=PipelineConfig(detector=detector).check(),
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    _print(result)
    if json_out is not None:
        Path(json_out).write_text(json.dumps(result, indent=2) + "\n")
        typer.echo(f"wrote {json_out}")


def _print(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    def f(x, spec: str = ".3f") -> str:
        return "n/a" if x is None else format(x, spec)

    table = Table(title="Live pipeline on the scene", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("per-pass TPIR", f"{f(r['tpir'])} ({r['alerted_passes']}/{r['listed_passes']} listed)"),
        ("false alerts", str(r["false_alerts"])),
        ("faces seen", str(r["faces_seen"])),
        ("false alerts per 1,000 faces", f(r["false_alerts_per_1000"], ".2f")),
        ("duplicate alerts", str(r["duplicate_alerts"])),
        (
            "latency p50 / p95 (s), from a recognisable face",
            f"{f(r['latency_p50'], '.2f')} / {f(r['latency_p95'], '.2f')}",
        ),
        (
            "... from entering the view",
            f"{f(r.get('latency_from_entry_p50'), '.2f')} / "
            f"{f(r.get('latency_from_entry_p95'), '.2f')}",
        ),
    ]
    if "threshold" in r:
        fpir = r.get("expected_fpir")
        rows.append(("threshold", f"{r['threshold']:.4f} (expected FPIR {f(fpir, '.1e')})"))
        rows.append(("video / wall seconds", f"{r['video_seconds']:.0f} / {r['wall_seconds']:.0f}"))
    for row in rows:
        table.add_row(*row)
    Console().print(table)
