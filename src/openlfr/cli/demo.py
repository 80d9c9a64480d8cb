"""`openlfr demo`: a simulated camera, offline (what `make demo` runs). See `openlfr.demo`."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer

from openlfr.cli import app
from openlfr.vision.backends import DEFAULT_BACKEND

NOTE = (
    "Listed people are shown walking as altered renderings of their enrolment photo "
    "(mirrored, re-lit, rotated, JPEG re-encoded; then blurred, turned and shrunk by the "
    "simulator): their alerts show the pipeline working end to end, not how well it "
    "recognises a person across different photos (`openlfr demo --faces DIR` does that "
    "with an LFW-layout folder)."
)


def _describe(scene, out) -> None:
    t = scene.truth
    out.print(
        f"Scene: {len(t.passes)} people walk towards the camera in {t.duration_s:.0f} s of "
        f"{t.width}x{t.height} video at {t.fps:g} fps; {len(t.listed)} of them are listed."
    )
    for identity, how in scene.listed.items():
        out.print(f"  listed: [bold]{identity}[/] (shown as {how})")
    out.print(f"  not listed: {len(scene.passers_by)} passers-by")


def _figures_line(run) -> str:
    f = run.figures()
    missed = f" (missed: {', '.join(f['missed'])})" if f["missed"] else ""
    return (
        f"[bold]Figures[/]: faces seen {f['faces_seen']}; alerts {f['alerts']}: "
        f"true {f['true_alerts']}, false {f['false_alerts']}, "
        f"repeats {f['duplicate_alerts']}; listed people alerted "
        f"{f['alerted_passes']}/{f['listed_passes']}{missed}; "
        f"{f['frames_processed']} frames ({f['frames_dropped']} dropped), "
        f"{f['video_seconds']:.1f} s of video in {f['wall_seconds']:.1f} s."
    )


@app.command()
def demo(
    faces: Path = typer.Option(
        None,
        "--faces",
        help="An LFW-layout folder (one sub-folder per person) to build the scene from, "
        "instead of the photos that installed packages ship. Listed people are shown with "
        "one photo and enrolled from another.",
    ),
    people: int = typer.Option(12, "--people", min=1, help="With --faces: people in the scene."),
    listed: int = typer.Option(3, "--listed", min=1, help="With --faces: how many are listed."),
    seconds: float = typer.Option(40.0, "--seconds", help="Length of the scene's video."),
    seed: int = typer.Option(0, "--seed", help="The same seed gives the same scene."),
    realtime: bool = typer.Option(
        False,
        "--realtime",
        help="Play the video at its frame rate, as a camera would (default: as fast as possible).",
    ),
    keep: Path = typer.Option(
        None,
        "--keep",
        help="Write the scene (video, truth.json, watchlist) to this folder "
        "and keep it (default: a temporary folder, removed at the end).",
    ),  # fmt: skip
    backend: str = typer.Option(DEFAULT_BACKEND, "--backend", help="Face engine backend."),
) -> None:
    """Play a simulated camera against a small watchlist, offline, and score the alerts.

    Renders a short scene of people walking towards a camera, enrols the
    listed people's photos as a watchlist (in memory: nothing is written to
    the data directory), runs the live pipeline on the video as a camera with
    the calibrated default threshold, prints each alert as it is raised and
    ends with the figures: faces seen, alerts, true and false alerts against
    the scene's truth.

    By default only photos that installed packages ship are used:
    matplotlib's Grace Hopper and scikit-image's astronaut Eileen Collins are
    listed; its cameraman and a few of its small LFW face crops walk past.
    Listed people are shown as altered renderings of their enrolment photo.
    """
    from rich.progress import Progress

    from openlfr.cli.watchlist import console
    from openlfr.demo import build_demo_scene, enrol_watchlist, play
    from openlfr.live.pipeline import live_engine
    from openlfr.live.sinks import ConsoleSink

    out = console()
    source = (
        "faces from " + str(faces) if faces else "photos shipped with matplotlib and scikit-image"
    )
    out.rule(f"OpenLFR demo: a simulated camera, {source}")
    if faces is None:
        out.print(NOTE)
    engine = live_engine(backend)
    with tempfile.TemporaryDirectory(prefix="openlfr-demo-") as tmp:
        scene_dir = keep if keep is not None else Path(tmp) / "scene"
        with Progress(transient=True, console=out) as bar:
            task = bar.add_task("rendering the scene", total=None)
            scene = build_demo_scene(
                scene_dir, engine, faces=faces, people=people, listed=listed,
                seconds=seconds, seed=seed,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip
        _describe(scene, out)
        wl, threshold = enrol_watchlist(scene, backend)
        if wl.not_enrolled:
            out.print(f"[yellow]not enrolled[/]: {', '.join(wl.not_enrolled)}")
        fpir = "unknown" if threshold.expected_fpir is None else f"{threshold.expected_fpir:.1e}"
        out.print(
            f"Watchlist: {', '.join(wl.enrolled_subjects)} ({len(wl.template_subjects)} "
            f"templates, model {wl.model_id}); threshold {threshold.value:.4f} "
            f"({threshold.source}); expected FPIR per person pass {fpir}."
        )
        pace = "at its frame rate" if realtime else "as fast as possible"
        out.print(f"Playing {scene.truth.video} as camera 'demo', {pace}...")
        run = play(scene, wl, threshold, engine, sink=ConsoleSink(out), realtime=realtime)
    for o in run.score.outcomes:
        if o.kind != "true":
            out.print(f"  {o.kind} alert: {o.alert.subject} at {o.alert.alerted_s:.1f} s ({o.why})")
    out.print(_figures_line(run))
    if keep is not None:
        out.print(f"The scene is in {keep} (`openlfr evaluate video --scene {keep}` scores it).")
