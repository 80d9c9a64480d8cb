"""The `openlfr` command: one Typer app; every command is a thin call into the packages."""

from __future__ import annotations

import sys

import typer

from openlfr.errors import OpenLFRError

app = typer.Typer(
    name="openlfr",
    help="OpenLFR: open, accountable Live Facial Recognition.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    data_dir: str = typer.Option(
        None, "--data-dir", envvar="OPENLFR_DATA_DIR", help="The installation's data directory."
    ),
) -> None:
    """OpenLFR: open, accountable Live Facial Recognition."""
    if data_dir:
        import os

        os.environ["OPENLFR_DATA_DIR"] = data_dir


def _register() -> None:
    # Each area owns one module of commands; importing it adds them to `app`.
    import importlib

    modules = (
        "embed",
        "watchlist",
        "calibrate",
        "evaluate",
        "identify",
        "demo",
        "admin",
        "run",
        "serve",
        "simulate",
        "service",
        "reports",  # after "service" where that is registered: joins its `report` group
    )
    for module in modules:
        try:
            importlib.import_module(f"openlfr.cli.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"openlfr.cli.{module}":
                raise


def main() -> None:
    _register()
    try:
        app()
    except OpenLFRError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.secho("interrupted", err=True)
        sys.exit(130)


@app.command()
def version() -> None:
    """Print the OpenLFR version."""
    from openlfr import __version__

    typer.echo(__version__)
