"""The five roles. There is no superuser: each route names the roles that may call it, and
a user may hold several roles (separation of duties is the administrator's choice)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from openlfr.auth.errors import UserError


class Role(StrEnum):
    ADMIN = "admin"  # users, API tokens, service settings; no biometric data
    AUTHORISING_OFFICER = "authorising_officer"  # authorises deployments, sets thresholds
    WATCHLIST_MANAGER = "watchlist_manager"  # subjects, reference images, watchlists
    OPERATOR = "operator"  # plans and runs deployments, adjudicates alerts
    AUDITOR = "auditor"  # reads the audit log, records and metrics


def parse_roles(values: Iterable[str | Role]) -> frozenset[Role]:
    """Roles from names; unknown names are an error, an empty set is allowed (no access)."""
    out = set()
    for value in values:
        try:
            out.add(Role(value))
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise UserError(f"unknown role {value!r}; allowed: {allowed}") from None
    return frozenset(out)
