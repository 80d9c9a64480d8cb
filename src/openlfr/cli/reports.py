"""Transparency reports: `openlfr report register`, `report annual`, `report foi`,
`report equitability`.

They join the `report` command group (which also holds `report record`), whichever module
made it first."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path

import typer

from openlfr.cli import app

DB_OPTION = typer.Option(
    None, "--db", envvar="OPENLFR_DATABASE_URL",
    help="Database URL (default: SQLite in the data dir).",
)  # fmt: skip
FROM_OPTION = typer.Option(..., "--from", help="First day of the period (YYYY-MM-DD).")
TO_OPTION = typer.Option(..., "--to", help="Last day of the period (YYYY-MM-DD), inclusive.")


def _report_app() -> typer.Typer:
    for group in app.registered_groups:
        if group.name == "report":
            return group.typer_instance
    sub = typer.Typer(help="Deployment records and transparency reports.", no_args_is_help=True)
    app.add_typer(sub, name="report")
    return sub


report_app = _report_app()


def _day(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        from openlfr.errors import ConfigError

        raise ConfigError(f"{what}: {text!r} is not a date (YYYY-MM-DD)") from None


def _audit(store, what: str, details: dict) -> None:
    # Releasing records is an act worth recording: who produced which pack, for which period.
    store.record_audit(f"cli:{getpass.getuser()}", "report", what, None, details)


@report_app.command("register")
def register_cmd(
    date_from: str = typer.Option(None, "--from", help="First day (YYYY-MM-DD); default: all."),
    date_to: str = typer.Option(None, "--to", help="Last day (YYYY-MM-DD), inclusive."),
    fmt: str = typer.Option("html", "--format", help="html, pdf, csv or json."),
    out: Path = typer.Option(..., "--out", help="The file to write."),
    db: str | None = DB_OPTION,
) -> None:
    """The register of all deployments that went live in the period, in the Met's columns,
    with totals."""
    from openlfr.errors import ConfigError
    from openlfr.reports import FORMATS, register_document
    from openlfr.store import Store

    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    start, end = _day(date_from, "--from"), _day(date_to, "--to")
    store = Store(db)
    try:
        data = register_document(store, start, end, fmt)
        _audit(store, "register", {"from": date_from, "to": date_to, "format": fmt})
    finally:
        store.close()
    out.write_bytes(data)
    typer.echo(f"wrote {out}")


@report_app.command("annual")
def annual_cmd(
    date_from: str = FROM_OPTION,
    date_to: str = TO_OPTION,
    out: Path = typer.Option(..., "--out", help="Directory for the report files."),
    db: str | None = DB_OPTION,
) -> None:
    """The annual report of a period: totals, every deployment's record and charts (HTML,
    PDF, JSON, CSV and the charts as PNG)."""
    from openlfr.reports import annual_report
    from openlfr.store import Store

    start, end = _day(date_from, "--from"), _day(date_to, "--to")
    store = Store(db)
    try:
        report = annual_report(store, start, end)
        files = report.write(out)
        _audit(store, "annual_report", {"from": date_from, "to": date_to})
    finally:
        store.close()
    t = report.totals
    typer.echo(
        f"{t.deployments} deployments, {t.faces_seen:,} faces seen, {t.alerts} alerts "
        f"({t.false_alerts} false), {t.arrests} arrests"
    )
    for f in files:
        typer.echo(f"wrote {f}")


@report_app.command("foi")
def foi_cmd(
    date_from: str = FROM_OPTION,
    date_to: str = TO_OPTION,
    profile: str = typer.Option(
        "default",
        "--profile",
        help="Redaction profile: a shipped name (default, full) or a .toml file.",
    ),
    out: Path = typer.Option(..., "--out", help="Directory for the disclosure pack."),
    contracts: Path = typer.Option(
        None, "--contracts", help="A TOML file of [[contract]] entries to include."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """An FOI disclosure pack: the records of the period with the redaction profile applied
    (withheld fields read 'Withheld - s31(1)' in documents and are absent from CSV/JSON),
    a cover note listing what was withheld under which section, and a SHA-256 manifest."""
    from openlfr.reports import load_contracts, load_profile, write_pack
    from openlfr.store import Store

    start, end = _day(date_from, "--from"), _day(date_to, "--to")
    chosen = load_profile(profile)
    contract_rows = load_contracts(contracts) if contracts else None
    store = Store(db)
    try:
        files = write_pack(store, start, end, chosen, out, contract_rows)
        _audit(
            store, "foi_pack",
            {"from": date_from, "to": date_to, "profile": chosen.name,
             "withheld": [f"{w.field}:{w.section}" for w in chosen.withhold]},
        )  # fmt: skip
    finally:
        store.close()
    for f in files:
        typer.echo(f"wrote {f}")


@report_app.command("equitability")
def equitability_cmd(
    demographics: list[Path] = typer.Option(
        ..., "--demographics", help="JSON of `openlfr evaluate demographics --json` (repeat)."
    ),
    identification: Path | None = typer.Option(
        None, "--identification", help="JSON of `openlfr evaluate identification --json`."
    ),
    det: list[Path] = typer.Option(
        [], "--det", help="A DET curve image (PNG, e.g. from --plot) to include (repeat)."
    ),
    threshold: float | None = typer.Option(
        None,
        "--threshold",
        help="The deployment threshold: checks the demographics files were measured at it.",
    ),
    out: Path = typer.Option(..., "--out", help="Directory for the report files."),
) -> None:
    """The equitability report: FPIR and FNIR by demographic group with 95% intervals at the
    threshold, the max/min ratio, charts and DET curves (HTML, PDF, JSON, PNG), from the
    evaluation commands' JSON files."""
    from openlfr.reports.equitability import equitability_report, load_evaluation, load_png

    report = equitability_report(
        [load_evaluation(p, "demographics") for p in demographics],
        load_evaluation(identification, "identification") if identification else None,
        [(p.name, load_png(p)) for p in det],
        threshold,
    )
    for f in report.write(out):
        typer.echo(f"wrote {f}")
