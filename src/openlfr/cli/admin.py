"""Administration: `openlfr audit verify`, `openlfr keys rotate`, `openlfr purge`."""

from __future__ import annotations

import getpass
import os

import typer

from openlfr.cli import app

audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
keys_app = typer.Typer(
    help="Encryption keys for images and templates at rest.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")

DB_OPTION = typer.Option(
    None,
    "--db",
    envvar="OPENLFR_DATABASE_URL",
    help="Database URL (default: SQLite in the data dir).",
)
ACTOR_OPTION = typer.Option(
    None, "--actor", help="Who is acting, for the audit log (default: cli:<user>)."
)


def _actor(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


def _open(db: str | None):
    from openlfr.store import Store

    return Store(db)


@audit_app.command("verify")
def audit_verify(db: str | None = DB_OPTION) -> None:
    """Re-compute the audit log's hash chain; name the first broken link (exit 1) if any."""
    store = _open(db)
    try:
        broken = store.audit_verify()
        if broken is not None:
            typer.secho(str(broken), err=True, fg=typer.colors.RED)
            raise typer.Exit(1)
        events = store.audit_events()
        typer.echo(f"audit log intact: {len(events)} events")
    finally:
        store.close()


@keys_app.command("rotate")
def keys_rotate(db: str | None = DB_OPTION, actor: str | None = ACTOR_OPTION) -> None:
    """Re-encrypt every stored image and template under a new key, in one transaction.

    With a key file, the file is updated. With OPENLFR_KEY, put the new key (base64, 32 bytes)
    in OPENLFR_NEW_KEY; afterwards set OPENLFR_KEY to it and restart every OpenLFR process.
    """
    from openlfr.errors import ConfigError
    from openlfr.store.crypto import decode_key

    new = None
    if os.environ.get("OPENLFR_KEY"):
        if not os.environ.get("OPENLFR_NEW_KEY"):
            raise ConfigError("the key comes from OPENLFR_KEY: put the new key in OPENLFR_NEW_KEY")
        new = decode_key(os.environ["OPENLFR_NEW_KEY"], "OPENLFR_NEW_KEY")
    store = _open(db)
    try:
        report = store.rotate_keys(_actor(actor), new)
    finally:
        store.close()
    typer.echo(f"re-encrypted {report.blobs} blobs: key {report.old_key_id} -> {report.new_key_id}")
    if new is not None:
        typer.echo("now set OPENLFR_KEY to the value of OPENLFR_NEW_KEY and restart OpenLFR")


@app.command("purge")
def purge(
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
    alert_media_days: float = typer.Option(
        None,
        help="Keep alert images this many days (default 31, or OPENLFR_RETAIN_ALERT_MEDIA_DAYS).",
    ),
    evidence_days: float = typer.Option(
        None, help="Keep alerts' links to people this many days (default 31)."
    ),
    snapshot_hours: float = typer.Option(
        None, help="Delete watchlist snapshots this many hours after close (default and max 24)."
    ),
) -> None:
    """Delete what the retention policy says is due; the counts are audited."""
    from openlfr.domain.retention import ENV_VARS, RetentionPolicy

    values: dict[str, object] = {k: os.environ[v] for k, v in ENV_VARS.items() if os.environ.get(v)}
    for key, value in (
        ("alert_media_days", alert_media_days),
        ("evidence_days", evidence_days),
        ("snapshot_hours", snapshot_hours),
    ):
        if value is not None:
            values[key] = value
    policy = RetentionPolicy.from_mapping(values)
    store = _open(db)
    try:
        report = store.purge(_actor(actor), policy)
    finally:
        store.close()
    for key, count in report.as_dict().items():
        typer.echo(f"{key.replace('_', ' ')}: {count}")
