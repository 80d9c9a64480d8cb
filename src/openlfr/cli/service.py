"""The service from the command line: `openlfr deployment ...`, `openlfr alerts ...`,
`openlfr report record ...`. Thin calls into openlfr.store and openlfr.service.

Run on the installation's host by the owner of its data directory, the CLI acts as the
local administrator (audited as local-admin@<hostname>); `--as USER` acts as that user
(password from OPENLFR_PASSWORD) and is refused what the user's roles forbid.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager

import typer

from openlfr.cli import app
from openlfr.vision.backends import DEFAULT_BACKEND

deployment_app = typer.Typer(
    help="Plan, authorise, start, close and list deployments.", no_args_is_help=True
)
alerts_app = typer.Typer(help="List and adjudicate alerts.", no_args_is_help=True)
report_app = typer.Typer(help="Deployment records, computed from the stored data.",
                         no_args_is_help=True)  # fmt: skip
app.add_typer(deployment_app, name="deployment")
app.add_typer(alerts_app, name="alerts")
app.add_typer(report_app, name="report")

DB_OPTION = typer.Option(
    None, "--db", envvar="OPENLFR_DATABASE_URL",
    help="Database URL (default: SQLite in the data dir).",
)  # fmt: skip
AS_OPTION = typer.Option(
    None, "--as",
    help="Act as this user (password from OPENLFR_PASSWORD) instead of the local administrator.",
)  # fmt: skip
JSON_OPTION = typer.Option(False, "--json", help="Print as JSON.")


@contextmanager
def acting(db: str | None, as_user: str | None):
    """The open store and who acts (see the module doc)."""
    from openlfr.service.operations import local_admin, login_as
    from openlfr.store import Store

    store = Store(db)
    try:
        who = (
            login_as(store, as_user, os.environ.get("OPENLFR_PASSWORD"))
            if as_user
            else local_admin()
        )
        yield store, who
    finally:
        store.close()


def _roles(*names: str):
    from openlfr.auth.roles import Role

    return [Role(n) for n in names]


def _dump(payload) -> None:
    typer.echo(json.dumps(payload, indent=1))


def _table(columns: list[str], rows: list[list[str]]) -> None:
    from rich.table import Table

    from openlfr.cli.watchlist import console

    table = Table(title_justify="left")
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console().print(table)


# -- deployments ------------------------------------------------------------------------------
@deployment_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="A unique name to refer to it by."),
    location: str = typer.Option(..., "--location", help="Where the cameras are."),
    borough: str = typer.Option(..., "--borough", help="The borough (or district)."),
    use_case: str = typer.Option(..., "--use-case", help="Why: the use case, in words."),
    start: str = typer.Option(..., "--start", help="Planned start: ISO 8601, 'now' or +1h."),
    end: str = typer.Option(..., "--end", help="Planned end: ISO 8601 or +4h (after start)."),
    watchlist: str = typer.Option(..., "--watchlist", help="The watchlist (name or id)."),
    source: list[str] = typer.Option(
        ...,
        "--source",
        help="A camera: video file, rtsp:// or http(s):// URL, /dev/videoN. Repeat for more. "
        "Credentials in URLs are stored encrypted and shown redacted.",
    ),  # fmt: skip
    camera: list[str] = typer.Option(
        None, "--camera", help="Camera names, one per --source in order (default cam-1, ...)."
    ),
    threshold: float = typer.Option(
        None,
        "--threshold",
        help="Alert threshold in (0, 1] (default: the engine's false-match rate 1e-3 point).",
    ),
    db: str | None = DB_OPTION,
    as_user: str | None = AS_OPTION,
) -> None:
    """Plan a deployment (state planned); an authorising officer must then authorise it."""
    from openlfr.domain.deployments import Deployment
    from openlfr.domain.errors import DeploymentStateError, NotFoundError
    from openlfr.service.operations import parse_time, require

    names = list(camera or []) or [f"cam-{i}" for i in range(1, len(source) + 1)]
    if len(names) != len(source):
        raise DeploymentStateError(
            f"{len(names)} --camera names for {len(source)} --source options: give one each"
        )
    with acting(db, as_user) as (store, who):
        require(store, who, "plan a deployment", *_roles("operator"))
        try:
            watchlist_id = store.watchlists.by_name(watchlist)
        except NotFoundError:
            from openlfr.store.listing import Listing

            if watchlist not in {w.id for w in Listing(store).watchlists()}:
                raise
            watchlist_id = watchlist
        deployment = Deployment(
            location, borough, use_case, parse_time(start, "--start"), parse_time(end, "--end"),
            tuple(names), _default_threshold() if threshold is None else threshold,
            who.name, watchlist_id=watchlist_id, name=name,
        )  # fmt: skip
        did = store.deployments.create(deployment, who.name, dict(zip(names, source, strict=True)))
        shown = store.cameras.displays(did)
    typer.echo(f"created deployment {name} ({did}): planned, threshold {deployment.threshold}")
    for cam in names:
        typer.echo(f"  camera {cam}: {shown[cam]}")


@deployment_app.command("authorise")
def authorise(
    deployment: str = typer.Argument(..., help="The deployment (name or id)."),
    officer: str = typer.Option(
        None,
        "--officer",
        help="The authorising officer (required for the local administrator; with --as, "
        "the user is the officer).",
    ),  # fmt: skip
    db: str | None = DB_OPTION,
    as_user: str | None = AS_OPTION,
) -> None:
    """Record the authorising officer's approval (audited with the officer as actor)."""
    from openlfr.auth.errors import PermissionDenied
    from openlfr.errors import ConfigError
    from openlfr.service.operations import require

    with acting(db, as_user) as (store, who):
        require(store, who, "authorise a deployment", *_roles("authorising_officer"))
        if who.kind == "local":
            if not (officer or "").strip():
                raise ConfigError("name the authorising officer: --officer NAME")
        elif officer and officer != who.name:
            raise PermissionDenied(f"{who.name} may authorise only as themselves")
        officer = (officer or who.name).strip()
        did = store.deployments.resolve(deployment)
        if who.kind == "local":  # who typed it in, beside the officer's own event
            store.record_audit(
                who.name, "record_authorisation", "deployment", did,
                {"officer": officer, "via": "cli"},
            )  # fmt: skip
        d = store.deployments.authorise(did, officer)
    typer.echo(f"deployment {d.name or did}: authorised by {officer}")


class _EchoingSink:
    """The service's alert sink, printing one line per stored alert."""

    def __init__(self, inner, store) -> None:
        self.inner, self.store = inner, store

    def alert(self, event) -> str:
        alert_id = self.inner.alert(event)
        name = self.store.subjects.get(event.subject_id).display_name
        typer.echo(
            f"ALERT {event.at:%H:%M:%S} camera {event.camera}: {name} "
            f"score {event.score:.3f} (alert {alert_id})"
        )
        return alert_id

    def faces_seen(self, deployment_id: str, camera: str, count: int) -> None:
        self.inner.faces_seen(deployment_id, camera, count)


@deployment_app.command("start")
def start(
    deployment: str = typer.Argument(..., help="The deployment (name or id)."),
    until_sources_end: bool = typer.Option(
        False,
        "--until-sources-end",
        help="Also run the live pipeline on its cameras here, in the foreground, until every "
        "source ends (or Ctrl-C). Without it, a running `openlfr serve` runs the pipelines.",
    ),  # fmt: skip
    as_fast_as_possible: bool = typer.Option(
        False,
        "--as-fast-as-possible",
        help="With --until-sources-end: process video files as fast as possible instead of "
        "at their frame rate.",
    ),  # fmt: skip
    workers: int = typer.Option(2, "--workers", help="Detection processes per camera."),
    backend: str = typer.Option(DEFAULT_BACKEND, "--backend", help="Face engine backend."),
    db: str | None = DB_OPTION,
    as_user: str | None = AS_OPTION,
) -> None:
    """Go live: authorised, inside its window, with a watchlist snapshot (built now)."""
    from types import SimpleNamespace

    from openlfr.domain.deployments import DeploymentState
    from openlfr.service.operations import require, start_deployment

    with acting(db, as_user) as (store, who):
        require(store, who, "start a deployment", *_roles("operator"))
        did = store.deployments.resolve(deployment)
        d = store.deployments.get(did)
        if d.state is DeploymentState.LIVE and until_sources_end:
            typer.echo(f"deployment {d.name or did} is already live")
        else:
            d = start_deployment(store, did, who.name)
            typer.echo(f"deployment {d.name or did}: live since {d.live_at:%Y-%m-%d %H:%M:%S} UTC")
        if not until_sources_end:
            return
        from openlfr.api.broker import AlertBroker
        from openlfr.api.context import AlertSink
        from openlfr.api.metrics import Metrics
        from openlfr.live.pipeline import PipelineConfig
        from openlfr.service.supervisor import LiveSupervisor

        metrics = Metrics()
        sink = _EchoingSink(AlertSink(store, AlertBroker(), metrics), store)
        supervisor = LiveSupervisor(
            PipelineConfig(workers=workers, backend=backend).check(),
            realtime=not as_fast_as_possible,
            poll_seconds=0,
        )
        supervisor.attach(SimpleNamespace(store=store, sink=sink, metrics=metrics))
        supervisor.deployment_changed(did)
        try:
            while not supervisor.wait(did, timeout=1.0):
                pass
        except KeyboardInterrupt:
            typer.echo("interrupted: stopping the pipelines")
        finally:
            stats = supervisor.camera_stats(did)
            supervisor.stop()
        for cam, s in stats.items():
            if s is None:
                continue
            line = (
                f"camera {cam}: {s.state}, {s.frames_processed} frames, "
                f"{s.faces_seen} faces seen, {s.alerts} alerts"
            )
            typer.echo(line + (f"; error: {s.error}" if s.error else ""))
        rec = store.deployments.record(did)
        typer.echo(
            f"deployment {d.name or did} is still live: {rec.faces_seen} faces seen, "
            f"{rec.alerts} alerts; close it with `openlfr deployment close {d.name or did}`"
        )


@deployment_app.command("close")
def close(
    deployment: str = typer.Argument(..., help="The deployment (name or id)."),
    db: str | None = DB_OPTION,
    as_user: str | None = AS_OPTION,
) -> None:
    """End a live deployment; its watchlist snapshot is deleted within 24 hours."""
    from openlfr.service.operations import require

    with acting(db, as_user) as (store, who):
        require(store, who, "close a deployment", *_roles("operator"))
        did = store.deployments.resolve(deployment)
        d = store.deployments.close(did, who.name)
    typer.echo(
        f"deployment {d.name or did}: closed; watchlist snapshot deleted by "
        f"{d.snapshot_delete_by:%Y-%m-%d %H:%M} UTC"
    )


@deployment_app.command("list")
def list_deployments(
    state: str = typer.Option(None, "--state", help="Only deployments in this state."),
    as_json: bool = JSON_OPTION,
    db: str | None = DB_OPTION,
    as_user: str | None = AS_OPTION,
) -> None:
    """List deployments (camera sources shown redacted)."""
    from openlfr.api.views import deployment_json
    from openlfr.domain.deployments import DeploymentState
    from openlfr.errors import ConfigError
    from openlfr.service.operations import require

    try:
        wanted = DeploymentState(state) if state else None
    except ValueError:
        allowed = ", ".join(s.value for s in DeploymentState)
        raise ConfigError(f"unknown state {state!r}; use one of {allowed}") from None
    with acting(db, as_user) as (store, who):
        require(store, who, "list deployments",
                *_roles("authorising_officer", "operator", "auditor"))  # fmt: skip
        items = [
            deployment_json(d, store.cameras.displays(d.id)) for d in store.deployments.find(wanted)
        ]
    if as_json:
        _dump(items)
        return
    if not items:
        typer.echo("no deployments")
        return
    _table(
        ["name", "id", "state", "location", "start", "end", "threshold", "cameras"],
        [
            [d["name"] or "", d["id"], d["state"], f"{d['location']} ({d['borough']})",
             d["start"][:16], d["end"][:16], f"{d['threshold']:g}",
             ", ".join(f"{c}: {d['sources'].get(c, '-')}" for c in d["cameras"])]
            for d in items
        ],
    )  # fmt: skip


# -- alerts -----------------------------------------------------------------------------------
@alerts_app.command("list")
def list_alerts(
    deployment: str = typer.Option(None, "--deployment", help="Only this deployment's."),
    unadjudicated: bool = typer.Option(
        False, "--unadjudicated", help="Only alerts still waiting for a decision."
    ),
    limit: int = typer.Option(100, "--limit", min=1, max=10000, help="At most this many."),
    as_json: bool = JSON_OPTION,
    db: str | None = DB_OPTION,
    as_user: str | None = AS_OPTION,
) -> None:
    """List alerts, newest first (facts only: no image)."""
    from openlfr.api.views import alert_json
    from openlfr.service.operations import require
    from openlfr.store.listing import Listing

    with acting(db, as_user) as (store, who):
        require(store, who, "list alerts",
                *_roles("operator", "authorising_officer", "auditor"))  # fmt: skip
        did = store.deployments.resolve(deployment) if deployment else None
        views = Listing(store).alerts(did, True if unadjudicated else None, limit, 0)
        items = [alert_json(v) for v in views]
    if as_json:
        _dump(items)
        return
    if not items:
        typer.echo("no alerts")
        return
    _table(
        ["id", "at", "camera", "subject", "category", "score", "verdict", "outcome"],
        [
            [a["id"], a["at"][:19], a["camera"], a["subject_name"] or "(deleted)",
             a["subject_category"] or "", f"{a['score']:.3f}", a["verdict"] or "-",
             a["outcome"] or "-"]
            for a in items
        ],
    )  # fmt: skip


@alerts_app.command("adjudicate")
def adjudicate(
    alert_id: str = typer.Argument(..., help="The alert's id."),
    match: bool = typer.Option(
        None,
        "--match/--no-match",
        help="--match: a true alert (the person is the listed subject); --no-match: false.",
    ),  # fmt: skip
    outcome: str = typer.Option(
        None,
        "--outcome",
        help="not_engaged, engaged_no_further_action, engaged_arrested or engaged_other_disposal.",
    ),  # fmt: skip
    override_reason: str = typer.Option(
        None, "--override-reason", help="Why an earlier decision is changed (both are kept)."
    ),
    db: str | None = DB_OPTION,
    as_user: str | None = AS_OPTION,
) -> None:
    """Record the operator's decision on an alert (and its outcome)."""
    from openlfr.domain.alerts import Outcome, Verdict
    from openlfr.errors import ConfigError
    from openlfr.service.operations import require
    from openlfr.store.listing import Listing

    if match is None and outcome is None:
        raise ConfigError("say --match or --no-match (and/or --outcome)")
    if outcome is not None:
        try:
            outcome = Outcome(outcome)
        except ValueError:
            allowed = ", ".join(o.value for o in Outcome)
            raise ConfigError(f"unknown outcome {outcome!r}; use one of {allowed}") from None
    with acting(db, as_user) as (store, who):
        require(store, who, "adjudicate an alert", *_roles("operator"))
        if match is not None:
            verdict = Verdict.TRUE_ALERT if match else Verdict.FALSE_ALERT
            store.alerts.adjudicate(alert_id, verdict, who.name, override_reason)
        if outcome is not None:
            reason = override_reason if match is None else None
            store.alerts.set_outcome(alert_id, outcome, who.name, reason)
        view = Listing(store).alert(alert_id)
    a = view.alert
    typer.echo(
        f"alert {alert_id}: {a.verdict.value if a.verdict else 'not adjudicated'}"
        + (f", outcome {a.outcome.value}" if a.outcome else "")
        + f" (by {who.name})"
    )


# -- records ----------------------------------------------------------------------------------
@report_app.command("record")
def record(
    deployment: str = typer.Argument(..., help="The deployment (name or id)."),
    fmt: str = typer.Option("json", "--format", help="json, csv or html."),
    out: str = typer.Option(None, "--out", help="Write to this file instead of stdout."),
    db: str | None = DB_OPTION,
    as_user: str | None = AS_OPTION,
) -> None:
    """The deployment record (date, place, watchlist size, threshold, faces seen, alerts,
    true and false alerts, false alert rate, engagements, arrests), computed from the data."""
    from pathlib import Path

    from openlfr.service.operations import require
    from openlfr.service.records import FORMATS, render

    if fmt not in FORMATS:
        from openlfr.errors import ConfigError

        raise ConfigError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    with acting(db, as_user) as (store, who):
        require(store, who, "read a deployment record",
                *_roles("authorising_officer", "operator", "auditor"))  # fmt: skip
        text = render(store.deployments.record(store.deployments.resolve(deployment)), fmt)
    if out:
        Path(out).write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text, nl=False)


def _default_threshold() -> float:
    from openlfr.api.settings import ApiSettings
    from openlfr.vision.engine import FaceEngine

    settings = ApiSettings()
    return settings.threshold_for(
        lambda: FaceEngine.from_backend(settings.engine_backend, cnn_fallback=False).model_id
    )
