"""Password hashing with argon2id (argon2-cffi's defaults: RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from openlfr.auth.errors import PasswordPolicyError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 takes any length; a cap keeps a login request from costing much

_hasher = PasswordHasher()


def set_cost(time_cost: int | None = None, memory_cost_kib: int | None = None) -> None:
    """Change the cost of new hashes (tests use a cheap one; existing hashes keep theirs and
    are upgraded on the next successful login)."""
    global _hasher
    _hasher = PasswordHasher(
        time_cost=time_cost or _hasher.time_cost,
        memory_cost=memory_cost_kib or _hasher.memory_cost,
        parallelism=_hasher.parallelism,
    )
    _dummy.clear()


# Verified against when the user does not exist, so that unknown and known names take the
# same time (no user enumeration by timing).
_dummy: list[str] = []


def _dummy_hash() -> str:
    if not _dummy:
        _dummy.append(_hasher.hash("openlfr-no-such-user-dummy-password"))
    return _dummy[0]


def check_password_policy(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"a password may have at most {MAX_LENGTH} characters")
    if len(set(password)) < 4:
        raise PasswordPolicyError("a password needs more than three distinct characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password_policy(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing hash still costs one verification."""
    if not isinstance(password, str) or len(password) > MAX_LENGTH:
        password = ""
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
