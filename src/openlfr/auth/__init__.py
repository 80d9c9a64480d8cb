"""Users, roles and credentials: argon2 password hashes, login throttling, session and API
tokens. Plain Python; `openlfr.store.users` persists it and `openlfr.api.auth` enforces it."""

from openlfr.auth.errors import (
    AuthError,
    LoginThrottled,
    PasswordPolicyError,
    PermissionDenied,
    UserError,
)
from openlfr.auth.passwords import check_password_policy, hash_password, verify_password
from openlfr.auth.principal import ApiToken, Principal, User
from openlfr.auth.roles import Role, parse_roles
from openlfr.auth.throttle import ThrottlePolicy

__all__ = [
    "ApiToken",
    "AuthError",
    "LoginThrottled",
    "PasswordPolicyError",
    "PermissionDenied",
    "Principal",
    "Role",
    "ThrottlePolicy",
    "User",
    "UserError",
    "check_password_policy",
    "hash_password",
    "parse_roles",
    "verify_password",
]
