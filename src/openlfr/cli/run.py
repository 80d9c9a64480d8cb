"""`openlfr run --source ... --watchlist DIR`: the live pipeline on cameras or footage."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import typer

from openlfr.cli import app
from openlfr.vision.backends import DEFAULT_BACKEND


class _StatusLine:
    """A sink that keeps each camera's latest counters and renders one status line."""

    def __init__(self, live=None) -> None:
        self.live = live
        self.stats: dict = {}
        self._lock = threading.Lock()

    def render(self):
        from rich.text import Text

        with self._lock:
            cams = list(self.stats.values())
        if not cams:
            return Text("starting...")
        parts = []
        for c in cams:
            parts.append(
                f"{c.camera}: {c.state}, {c.fps:.1f} fps, {c.frames_processed} frames "
                f"({c.frames_dropped} dropped), {c.faces_seen} faces seen, {c.tracks} tracks, "
                f"{c.alerts} alerts"
            )
        return Text(" | ".join(parts))

    def on_alert(self, event) -> None:
        pass

    def on_status(self, stats) -> None:
        with self._lock:
            self.stats[stats.camera] = stats
        if self.live is not None:
            self.live.update(self.render())

    def close(self) -> None:
        pass


def _summary_table(summary):
    from rich.table import Table

    table = Table(title="Summary", title_justify="left")
    cols = ("camera", "state", "frames", "dropped", "fps", "video s", "wall s", "faces seen",
            "tracks", "alerts", "error")  # fmt: skip
    for col in cols:
        table.add_column(col, overflow="fold")
    for c in summary.cameras:
        table.add_row(
            c.camera, c.state, str(c.frames_processed), str(c.frames_dropped), f"{c.fps:.1f}",
            f"{c.video_seconds:.1f}", f"{c.wall_seconds:.1f}", str(c.faces_seen), str(c.tracks),
            str(c.alerts), c.error or "",
        )  # fmt: skip
    return table


def _parse_roi(text: str | None):
    if not text:
        return None
    from openlfr.errors import ConfigError

    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise ConfigError(f"--roi must be X1,Y1,X2,Y2 in pixels, not {text!r}")
    return values


@app.command()
def run(
    source: list[str] = typer.Option(
        ...,
        "--source",
        "-s",
        help="A video file, rtsp:// or http:// URL, or /dev/videoN. Repeat for several cameras.",
    ),
    watchlist: str = typer.Option(
        ...,
        "--watchlist",
        "-w",
        help="A folder (one sub-folder of photos per person, enrolled in memory) or the name "
        "of a stored watchlist.",
    ),
    threshold: float = typer.Option(
        None, "--threshold", "-t", help="Similarity threshold in [0, 1] (overrides FPIR)."
    ),
    target_fpir: float = typer.Option(
        None,
        "--target-fpir",
        help="Expected false-positive identification rate per person pass (default 1e-4); "
        "the threshold comes from the model's calibration for this watchlist's size.",
    ),
    alerts_out: Path = typer.Option(
        None, "--alerts-out", help="Append each alert as a JSON line to this file."
    ),
    summary_out: Path = typer.Option(
        None, "--summary-out", help="Write the final counters as JSON to this file."
    ),
    include_images: bool = typer.Option(
        False,
        "--alert-images",
        help="Put the probe crop and evidence frame (base64 JPEG) in the alerts JSONL.",
    ),
    as_fast_as_possible: bool = typer.Option(
        False,
        "--as-fast-as-possible",
        help="Process every frame of a file as fast as possible (retrospective search of "
        "footage). The default plays files at their frame rate, like a camera.",
    ),
    realtime: bool = typer.Option(
        False, "--realtime", help="Play files at their frame rate (the default)."
    ),
    detect_every: int = typer.Option(3, "--detect-every", help="Detect on every k-th frame."),
    min_face: int = typer.Option(
        None, "--min-face", help="Smallest face width in pixels to look for (default: auto)."
    ),
    roi: str = typer.Option(None, "--roi", help="Region of interest X1,Y1,X2,Y2 (pixels)."),
    workers: int = typer.Option(2, "--workers", help="Detection processes for one camera."),
    cooldown: float = typer.Option(
        30.0, "--cooldown", help="Seconds before the same person re-alerts on the same camera."
    ),
    search_unusable: bool = typer.Option(
        False,
        "--search-unusable",
        help="Also search faces the quality check flags (too small, blurred...): finds more, "
        "at more false alerts.",
    ),
    fusion: str = typer.Option("max", "--fusion", help="How a track fuses its shots: max|mean."),
    backend: str = typer.Option(DEFAULT_BACKEND, "--backend", help="Face engine backend."),
    detector: str = typer.Option(
        "blazeface",
        "--detector",
        help="Region detector: blazeface (default), hog+mmod (HOG, dlib's CNN in track "
        "windows), hog or mmod.",
    ),
) -> None:
    """Run the live pipeline: alert when a listed person passes a camera.

    Runs until every source ends, or Ctrl-C. One alert per person pass; faces that match
    no one leave nothing behind but counts. Exits 1 when no source could ever be opened.
    """
    from rich.live import Live

    from openlfr.cli.identify import load_or_enrol
    from openlfr.cli.watchlist import console, print_report
    from openlfr.errors import ConfigError, WatchlistError
    from openlfr.live.decision import choose_threshold
    from openlfr.live.pipeline import PipelineConfig
    from openlfr.live.runner import run_cameras
    from openlfr.live.sinks import ConsoleSink, JsonlSink, MultiSink

    if realtime and as_fast_as_possible:
        raise ConfigError("choose one of --realtime and --as-fast-as-possible")
    config = PipelineConfig(
        detect_every=detect_every,
        min_face=min_face,
        roi=_parse_roi(roi),
        workers=workers,
        cooldown_s=cooldown,
        search_unusable=search_unusable,
        fusion=fusion,
        backend=backend,
        detector=detector,
    ).check()
    out = console()
    wl, report = load_or_enrol(watchlist, backend, quiet=True)
    if not wl.template_subjects:
        if report is not None:
            print_report(report, out)
        raise WatchlistError(f"no one could be enrolled from {watchlist}")
    if report is not None and report.not_enrolled:
        out.print(f"[yellow]not enrolled[/]: {', '.join(report.not_enrolled)}")
    chosen = choose_threshold(wl.model_id, len(wl.template_subjects), threshold, target_fpir)
    fpir = "unknown" if chosen.expected_fpir is None else f"{chosen.expected_fpir:.1e}"
    out.print(
        f"watchlist {watchlist}: {len(wl.enrolled_subjects)} people, "
        f"{len(wl.template_subjects)} templates, model {wl.model_id}; "
        f"threshold {chosen.value:.4f} ({chosen.source}); expected FPIR per person pass {fpir}"
    )
    sinks = [ConsoleSink(out)]
    jsonl = JsonlSink(alerts_out, include_images) if alerts_out else None
    if jsonl:
        sinks.append(jsonl)
    status = _StatusLine()
    sinks.append(status)
    sink = MultiSink(sinks)
    stop = threading.Event()
    try:
        with Live(status.render(), console=out, refresh_per_second=4, transient=True) as live:
            status.live = live
            summary = run_cameras(
                source, wl, chosen, sink=sink, config=config,
                realtime=not as_fast_as_possible, stop=stop,
            )  # fmt: skip
    finally:
        sink.close()
    out.print(_summary_table(summary))
    totals = summary.to_json()
    out.print(
        f"{totals['faces_seen']} faces seen, {totals['tracks']} tracks, {totals['alerts']} "
        f"alerts; {totals['frames_processed']} frames ({totals['frames_dropped']} dropped), "
        f"{totals['video_seconds']:.1f} s of video in {totals['wall_seconds']:.1f} s"
        + (" (interrupted)" if summary.interrupted else "")
    )
    if summary_out:
        summary_out.parent.mkdir(parents=True, exist_ok=True)
        summary_out.write_text(json.dumps(totals, indent=1) + "\n")
    for c in summary.cameras:
        if c.error:
            typer.secho(f"camera {c.camera}: {c.error}", err=True, fg=typer.colors.RED)
    if not summary.any_opened:
        raise typer.Exit(1)
