"""Typed errors of authentication and authorisation (the API maps them to 401/403/429/422)."""

from __future__ import annotations

from openlfr.errors import OpenLFRError


class AuthError(OpenLFRError):
    """Not authenticated: no credentials, wrong credentials, or an expired session (401)."""


class PermissionDenied(OpenLFRError):
    """Authenticated, but none of the caller's roles may do this (403)."""


class LoginThrottled(AuthError):
    """Too many failed logins for this user or from this address (429)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class UserError(OpenLFRError):
    """A bad user record: invalid name, unknown role, duplicate user (422/409)."""


class PasswordPolicyError(UserError):
    """A password too weak to accept."""
