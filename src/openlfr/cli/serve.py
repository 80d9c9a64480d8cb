"""`openlfr init` (data directory, database, first administrator) and `openlfr serve`."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from openlfr.cli import app

DB_OPTION = typer.Option(
    None,
    "--db",
    envvar="OPENLFR_DATABASE_URL",
    help="Database URL (default: SQLite in the data dir).",
)


def _read_admin_password() -> str:
    """OPENLFR_ADMIN_PASSWORD, else a hidden prompt (asked twice). Never printed."""
    from openlfr.auth.passwords import check_password_policy
    from openlfr.errors import ConfigError

    env = os.environ.get("OPENLFR_ADMIN_PASSWORD")
    if env:
        return check_password_policy(env)
    if not os.isatty(0):
        raise ConfigError(
            "no administrator password: set OPENLFR_ADMIN_PASSWORD or run on a terminal"
        )
    return check_password_policy(
        typer.prompt("Password for the first administrator", hide_input=True,
                     confirmation_prompt=True)
    )  # fmt: skip


@app.command("init")
def init(
    db: str | None = DB_OPTION,
    admin: str = typer.Option("admin", "--admin", help="User name of the first administrator."),
) -> None:
    """Create the data directory, the database (migrated) and the first administrator.

    The password comes from OPENLFR_ADMIN_PASSWORD or a prompt, and is never printed.
    Running it again on an initialised installation changes nothing."""
    from openlfr import paths
    from openlfr.auth.principal import check_username
    from openlfr.auth.roles import Role
    from openlfr.store import Store

    data = paths.data_dir()
    data.mkdir(parents=True, exist_ok=True)
    os.chmod(data, 0o700)  # images, keys and the database live here
    check_username(admin)
    store = Store(db)  # creates the key file and applies the migrations
    try:
        if store.users.count():
            typer.echo(f"already initialised: {data} (database {store.safe_url}); no user added")
            return
        password = _read_admin_password()
        store.users.create(admin, password, [Role.ADMIN], actor="system:init")
        typer.echo(f"initialised {data}: database {store.safe_url}, administrator {admin!r}")
    finally:
        store.close()


def _log_pipelines() -> None:
    """Pipeline starts, stops and camera failures on stderr (credentials redacted)."""
    import logging

    from openlfr.live.redact import RedactingFilter

    logger = logging.getLogger("openlfr.service")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        handler.addFilter(RedactingFilter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="Port to listen on."),
    db: str | None = DB_OPTION,
    config: Path = typer.Option(
        None, "--config", help="A TOML file of API settings ([api] table; unknown keys refused)."
    ),
    purge_every: float = typer.Option(
        None, "--purge-every", min=0, help="Minutes between retention purges (0: never)."
    ),
    insecure_cookies: bool = typer.Option(
        False,
        "--insecure-cookies",
        help="Send session cookies over plain HTTP (development on loopback only).",
    ),
    pipelines: bool = typer.Option(
        True,
        "--pipelines/--no-pipelines",
        help="Run the live pipelines of live deployments in this process (the default).",
    ),
) -> None:
    """Run the API (OpenAPI at /docs), the alert stream, the retention schedule and the live
    pipelines of live deployments (their cameras' sources, at their thresholds) in one
    process."""
    import uvicorn

    from openlfr.api import ApiSettings, create_app
    from openlfr.store import Store

    settings = ApiSettings.from_toml(config) if config else ApiSettings()
    overrides = {}
    if purge_every is not None:
        overrides["purge_interval_minutes"] = purge_every
    if insecure_cookies:
        overrides["cookie_secure"] = False
    if overrides:
        settings = settings.model_copy(update=overrides)
    store = Store(db)
    try:
        supervisor = None
        if pipelines:
            from openlfr.live.pipeline import PipelineConfig
            from openlfr.service.supervisor import LiveSupervisor

            _log_pipelines()

            supervisor = LiveSupervisor(PipelineConfig(backend=settings.engine_backend))
        application = create_app(store, settings, supervisor=supervisor)
        typer.echo(
            f"OpenLFR on http://{host}:{port} (API docs at /docs); database {store.safe_url}"
        )
        uvicorn.run(application, host=host, port=port, log_level="info", access_log=False)
    finally:
        store.close()
