"""What the command line does for administrators and scripts, as plain functions.

Who acts: on the installation's host, the owner of its data directory acts as the local
administrator (``local-admin@<hostname>`` in the audit log, every role); ``--as USER``
acts as a named user whose password is checked (and audited as a login) and who is
refused what their roles forbid, as the API would refuse them.
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

from openlfr.auth.errors import AuthError, PermissionDenied
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.domain.clock import as_utc, utcnow
from openlfr.domain.deployments import Deployment
from openlfr.store import Store

_ONE_MINUTE = timedelta(minutes=1)


def local_admin() -> Principal:
    """The local administrator: whoever runs the CLI as the data directory's owner."""
    return Principal(f"local-admin@{socket.gethostname()}"[:100], frozenset(Role), "local")


def login_as(store: Store, username: str, password: str | None) -> Principal:
    """A named user, after checking their password (the login is audited and throttled
    like a console login; the session it opens is closed at once)."""
    if not password:
        raise AuthError(f"--as {username}: set OPENLFR_PASSWORD to that user's password")
    user, token = store.users.login(username, password, ip="cli")
    _, session_id = store.users.session_user(token, idle=_ONE_MINUTE)
    store.users.logout(session_id, user.username)
    return Principal(user.username, user.roles, "cli", user.id)


def require(store: Store, who: Principal, action: str, *roles: Role) -> None:
    """Refuse (and audit the refusal) when `who` holds none of `roles`."""
    try:
        who.require(*roles)
    except PermissionDenied:
        store.record_audit(
            who.name, "refused", "cli", None,
            {"action": action, "needs": sorted(r.value for r in roles), "via": "cli"},
        )  # fmt: skip
        raise PermissionDenied(
            f"{who.name} may not {action}: it needs the role " + " or ".join(r.value for r in roles)
        ) from None


def start_deployment(
    store: Store, deployment_id: str, actor: str, now: datetime | None = None
) -> Deployment:
    """Go live as the API's start does: authorised, inside the window, with a watchlist
    snapshot (built now if there is none). A refused start writes nothing."""
    now = as_utc(now or utcnow())
    current = store.deployments.get(deployment_id)
    if current.snapshot_built_at is None:
        probe = Deployment(**{**current.__dict__, "snapshot_built_at": now})
        probe.go_live(now)  # raises the reason it cannot go live, before anything is written
        store.watchlists.build_snapshot(deployment_id, actor, now=now)
    return store.deployments.go_live(deployment_id, actor, now=now)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_time(text: str, what: str = "time", now: datetime | None = None) -> datetime:
    """An aware UTC time from ISO 8601 (a time without a zone is UTC), ``now``, or a
    relative ``+2h`` / ``-30m`` / ``90d`` (s, m, h, d, w)."""
    from openlfr.errors import ConfigError

    now = as_utc(now or utcnow())
    raw = (text or "").strip()
    if raw.lower() == "now":
        return now
    rel = raw[1:] if raw[:1] in "+-" else raw
    if rel[:-1].replace(".", "", 1).isdigit() and rel[-1:].lower() in _UNITS:
        seconds = float(rel[:-1]) * _UNITS[rel[-1].lower()]
        return now + timedelta(seconds=-seconds if raw.startswith("-") else seconds)
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"bad {what} {text!r}: use ISO 8601 (2026-05-01T10:00), 'now' or +2h / 30d"
        ) from None
    return as_utc(value)
