"""`openlfr watchlist ...`: enrol, list, show and delete stored watchlists."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from openlfr.cli import app
from openlfr.errors import WatchlistError
from openlfr.vision.backends import DEFAULT_BACKEND

watchlist_app = typer.Typer(
    help="Enrol and manage watchlists (stored in the data directory).", no_args_is_help=True
)
app.add_typer(watchlist_app, name="watchlist")


def console(stderr: bool = False) -> Console:
    # Wide enough that file names are not folded when stdout is not a terminal (CI, pipes).
    return Console(stderr=stderr, width=None if sys.stdout.isatty() else 160)


def make_engine(backend: str):
    from openlfr.vision.engine import FaceEngine

    return FaceEngine.from_backend(backend)


def verdict_table(report, title: str = "Enrolment") -> Table:
    """One row per image: person, file, verdict (and why), quality."""
    table = Table(title=title, title_justify="left")
    for col in ("person", "image", "verdict", "detail", "quality"):
        table.add_column(col, overflow="fold")
    for v in report.verdicts:
        style = "green" if v.verdict.enrolled else "red"
        table.add_row(
            v.subject,
            v.source,
            f"[{style}]{'enrolled' if v.verdict.enrolled else 'rejected: ' + v.verdict.value}",
            v.detail,
            "" if v.quality is None else f"{v.quality:.2f}",
        )
    return table


def print_report(report, out: Console) -> None:
    out.print(verdict_table(report))
    for s in report.skipped:
        out.print(f"[yellow]skipped[/] {s.label}: {s.reason}")
    counts = ", ".join(f"{n} {k}" for k, n in sorted(report.counts().items()))
    out.print(
        f"{len(report.enrolled_subjects)} of {len(report.subjects)} people enrolled "
        f"({counts or 'no images'})."
    )
    if report.not_enrolled:
        out.print(f"[red]not enrolled[/]: {', '.join(report.not_enrolled)}")


def run_enrolment(source: Path, backend: str, quiet: bool):
    """Read the source, judge every image (with a progress bar on a terminal)."""
    from rich.progress import Progress

    from openlfr.gallery.enrol import enrol, read_sources

    sources = read_sources(source)
    engine = make_engine(backend)
    err = Console(stderr=True)
    show = not quiet and err.is_terminal
    with Progress(console=err, transient=True, disable=not show) as bar:
        task = bar.add_task("enrolling", total=len(sources.images))
        return enrol(sources, engine, progress=lambda i, n, v: bar.update(task, completed=i))


@watchlist_app.command("enrol")
def enrol_cmd(
    source: Path = typer.Option(
        ...,
        "--from",
        help="A folder with one sub-folder of photos per person, or a CSV of name,image rows "
        "(image paths relative to the CSV).",
    ),
    name: str = typer.Option(..., "--watchlist", "-w", help="The watchlist's name."),
    replace: bool = typer.Option(False, "--replace", help="Replace a watchlist of that name."),
    as_json: bool = typer.Option(False, "--json", help="Print the verdicts as JSON."),
    backend: str = typer.Option(DEFAULT_BACKEND, "--backend", help="Face engine backend."),
    category: str = typer.Option(
        None,
        "--category",
        help="Database: every person's category (wanted_by_courts, wanted_for_offence, "
        "court_conditions, missing_or_vulnerable, risk_of_harm).",
    ),  # fmt: skip
    legal_basis: str = typer.Option(
        None, "--legal-basis", help="Database: the lawful basis for using these images."
    ),
    image_source: str = typer.Option(
        None,
        "--image-source",
        help="Database: where the images came from (default: each file's name).",
    ),  # fmt: skip
    expires: str = typer.Option(
        None, "--expires", help="Database: when the entries expire (ISO 8601 date, or 30d)."
    ),
    offence: str = typer.Option(
        None, "--offence", help="Database: the offence (category wanted_for_offence)."
    ),
    db: str = typer.Option(
        None,
        "--db",
        envvar="OPENLFR_DATABASE_URL",
        help="Database URL (default: SQLite in the data dir, when `openlfr init` made it).",
    ),  # fmt: skip
    as_user: str = typer.Option(
        None, "--as", help="Database: act as this user (password from OPENLFR_PASSWORD)."
    ),
) -> None:
    """Enrol a watchlist: every image is listed as enrolled or rejected (and why).

    Into the database when the installation has one (`openlfr init` was run, or --db /
    OPENLFR_DATABASE_URL): each person becomes a subject with --category, --legal-basis and
    --expires, their usable photos sealed reference images, all on the named watchlist
    (created when absent); likely duplicates of other subjects are flagged. Otherwise into
    the file store in the data directory: written whole or not at all, an existing one
    needs --replace.
    """
    from openlfr.gallery import watchlist as store

    if _database_in_use(db):
        _enrol_into_database(
            source, name, as_json, backend, db, as_user, replace,
            category, legal_basis, image_source, expires, offence,
        )  # fmt: skip
        return
    if not as_json:
        typer.echo(
            f"no database here: enrolling into the file store ({store.root()}); "
            "run `openlfr init` to use the database"
        )
    store.validate_name(name)
    if store.exists(name) and not replace:
        raise WatchlistError(f"watchlist {name!r} already exists; use --replace to enrol it anew")
    report = run_enrolment(source, backend, quiet=as_json)
    wl = store.Watchlist.from_report(name, report, source=str(source))
    if as_json:
        payload = {"watchlist": name, **report.to_json()}
        if wl.template_subjects:
            payload["path"] = str(store.save(wl, replace=replace))
        typer.echo(json.dumps(payload, indent=1))
        if not wl.template_subjects:
            store.save(wl, replace=replace)  # raises: nothing enrolled, nothing created
        return
    out = console()
    print_report(report, out)
    path = store.save(wl, replace=replace)
    out.print(f"watchlist [bold]{name}[/] saved: {path}")


def _database_in_use(db: str | None) -> bool:
    """True when the installation has a database: given, or made by `openlfr init`."""
    from openlfr import paths

    return bool(db) or (paths.data_dir() / "openlfr.db").is_file()


def _enrol_into_database(
    source: Path, name: str, as_json: bool, backend: str, db: str | None, as_user: str | None,
    replace: bool, category: str | None, legal_basis: str | None, image_source: str | None,
    expires: str | None, offence: str | None,
) -> None:  # fmt: skip
    from openlfr.api.settings import ApiSettings
    from openlfr.cli.service import acting
    from openlfr.errors import ConfigError
    from openlfr.gallery.enrol import enrol, read_sources
    from openlfr.service.enrolment import enrol_into_db
    from openlfr.service.operations import parse_time, require

    if replace:
        raise ConfigError(
            "--replace is for the file store; in the database, people are added to the "
            "watchlist (remove subjects through the API)"
        )
    missing = [
        flag
        for flag, value in (
            ("--category", category),
            ("--legal-basis", legal_basis),
            ("--expires", expires),
        )  # fmt: skip
        if not value
    ]
    if missing:
        raise ConfigError(
            "enrolling into the database needs "
            + ", ".join(missing)
            + " (every subject has a category, a legal basis and an expiry date)"
        )
    expires_at = parse_time(expires, "--expires")
    with acting(db, as_user) as (db_store, who):
        require(db_store, who, "enrol subjects", *_roles_wm())
        if not as_json:
            typer.echo(f"enrolling into the database ({db_store.safe_url}) as {who.name}")
        sources = read_sources(source)
        engine = make_engine(backend)
        report = enrol(sources, engine)
        if not report.enrolled_subjects:
            if not as_json:
                print_report(report, console())
            raise WatchlistError(f"no one could be enrolled from {source}; nothing was stored")
        settings = ApiSettings()
        result = enrol_into_db(
            db_store, sources, report, watchlist=name, category=category,
            legal_basis=legal_basis, expires_at=expires_at, actor=who.name,
            image_source=image_source, offence=offence,
            duplicate_threshold=settings.duplicate_threshold
            or settings.threshold_for(lambda: engine.model_id),
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps({**report.to_json(), **result.to_json()}, indent=1))
        return
    out = console()
    print_report(report, out)
    for s in result.subjects:
        out.print(f"subject [bold]{s.name}[/]: {s.subject_id} ({s.images} images)")
        for d in s.duplicates:
            out.print(
                f"  [yellow]likely duplicate[/] of {d['display_name']} ({d['subject_id']}), "
                f"score {d['score']:.3f}"
            )
    made = "created" if result.watchlist_created else "updated"
    out.print(
        f"watchlist [bold]{name}[/] {made} in the database: {len(result.subjects)} "
        f"subjects added ({result.watchlist_id})"
    )


def _roles_wm():
    from openlfr.auth.roles import Role

    return (Role.WATCHLIST_MANAGER,)


@watchlist_app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List the stored watchlists."""
    from openlfr.gallery import watchlist as store

    items = store.list_watchlists()
    if as_json:
        typer.echo(json.dumps([s.to_json() for s in items], indent=1))
        return
    if not items:
        typer.echo(f"no watchlists in {store.root()}")
        return
    table = Table(title_justify="left")
    for col in ("name", "people", "enrolled", "templates", "model", "created"):
        table.add_column(col)
    for s in items:
        table.add_row(
            s.name, str(s.subjects), str(s.enrolled), str(s.templates), s.model_id, s.created
        )
    console().print(table)


@watchlist_app.command("show")
def show_cmd(
    name: str = typer.Argument(..., help="The watchlist's name."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Show one watchlist: its people and the verdict of every enrolment image."""
    from openlfr.gallery import watchlist as store

    wl = store.load(name)
    if as_json:
        typer.echo(json.dumps(wl.manifest(), indent=1))
        return
    out = console()
    out.print(
        f"[bold]{wl.name}[/]: {len(wl.enrolled_subjects)} of {len(wl.subjects)} people enrolled, "
        f"{len(wl.template_subjects)} templates, model {wl.model_id}, created {wl.created}"
    )
    table = Table(title="Enrolment images", title_justify="left")
    for col in ("person", "image", "verdict", "detail", "sha256"):
        table.add_column(col, overflow="fold")
    for i in wl.images:
        verdict = "enrolled" if i["enrolled"] else f"rejected: {i['verdict']}"
        table.add_row(
            i["subject"], i["source"], verdict, i.get("detail", ""), (i.get("sha256") or "")[:12]
        )
    out.print(table)
    if wl.not_enrolled:
        out.print(f"[red]not enrolled[/]: {', '.join(wl.not_enrolled)}")


@watchlist_app.command("delete")
def delete_cmd(
    name: str = typer.Argument(..., help="The watchlist's name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a stored watchlist and its templates."""
    from openlfr.gallery import watchlist as store

    if not store.path_of(name).exists():  # a clear error for an unknown name before asking
        raise WatchlistError(f"no watchlist named {name!r}")
    if not yes and not typer.confirm(f"delete watchlist {name!r} and its templates?"):
        raise typer.Exit(1)
    store.delete(name)
    typer.echo(f"deleted watchlist {name}")
