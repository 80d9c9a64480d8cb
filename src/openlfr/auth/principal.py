"""Who is calling: users, API tokens, and the principal a request acts as."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from openlfr.auth.errors import PermissionDenied, UserError
from openlfr.auth.roles import Role

# Lower-case names without ':' so they never collide with "token:…", "cli:…", "system:…"
# actors in the audit log.
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")


def check_username(name: str) -> str:
    name = (name or "").strip()
    if not _USERNAME.fullmatch(name):
        raise UserError(
            "a user name is 2-64 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_token_name(name: str) -> str:
    name = (name or "").strip()
    if not _TOKEN_NAME.fullmatch(name):
        raise UserError("a token name is 1-64 characters: letters, digits, space, '.', '_' or '-'")
    return name


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    roles: frozenset[Role]
    active: bool
    created_at: datetime
    created_by: str

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "roles": sorted(r.value for r in self.roles),
            "active": self.active,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


@dataclass(frozen=True)
class ApiToken:
    """An API token's public facts (its secret is shown once, at creation, and never kept)."""

    id: str
    name: str
    roles: frozenset[Role]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def actor(self) -> str:
        return f"token:{self.name}"

    def to_json(self) -> dict:
        def t(v: datetime | None) -> str | None:
            return None if v is None else v.isoformat()

        return {
            "id": self.id,
            "name": self.name,
            "roles": sorted(r.value for r in self.roles),
            "created_by": self.created_by,
            "created_at": t(self.created_at),
            "expires_at": t(self.expires_at),
            "last_used_at": t(self.last_used_at),
            "revoked_at": t(self.revoked_at),
        }


@dataclass(frozen=True)
class Principal:
    """The caller of one request. `name` is what the audit log records as the actor."""

    name: str
    roles: frozenset[Role]
    kind: str  # "session" | "token" | "local"
    user_id: str | None = None
    session_id: str | None = None

    def require(self, *roles: Role) -> None:
        if not self.roles & set(roles):
            need = " or ".join(r.value for r in roles)
            raise PermissionDenied(f"this needs the role {need}")
