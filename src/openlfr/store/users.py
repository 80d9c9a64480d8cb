"""Users, console sessions and API tokens. Every change and every login is audited.

users = store.users
uid = users.create("alice", "a long password", {Role.OPERATOR}, actor="admin")
user, token = users.login("alice", "a long password", ip="10.0.0.5")   # or AuthError
user, session_id = users.session_user(token, idle=timedelta(minutes=30))
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openlfr.auth.errors import AuthError, LoginThrottled, UserError
from openlfr.auth.passwords import hash_password, needs_rehash, verify_password
from openlfr.auth.principal import ApiToken, User, check_token_name, check_username
from openlfr.auth.roles import Role, parse_roles
from openlfr.auth.throttle import ThrottlePolicy
from openlfr.domain.audit import Action
from openlfr.domain.clock import as_utc, utcnow
from openlfr.domain.errors import NotFoundError
from openlfr.store import audit
from openlfr.store.base import Repository
from openlfr.store.models import new_id
from openlfr.store.user_models import ApiTokenRow, LoginAttemptRow, UserRow, UserSessionRow

TOKEN_PREFIX = "olfr_"
SESSION_MAX = timedelta(hours=12)
_TOUCH_EVERY = timedelta(seconds=60)  # how stale last_seen may get before it is rewritten


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        roles=parse_roles(row.roles),
        active=bool(row.active),
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
    )


def _token(row: ApiTokenRow) -> ApiToken:
    def t(v: datetime | None) -> datetime | None:
        return None if v is None else as_utc(v)

    return ApiToken(
        id=row.id,
        name=row.name,
        roles=parse_roles(row.roles),
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        expires_at=t(row.expires_at),
        last_used_at=t(row.last_used_at),
        revoked_at=t(row.revoked_at),
    )


def _role_names(roles: Iterable[str | Role]) -> list[str]:
    return sorted(r.value for r in parse_roles(roles))


class UserRepo(Repository):
    # -- users -------------------------------------------------------------------------------
    def create(
        self,
        username: str,
        password: str,
        roles: Iterable[str | Role],
        actor: str,
        display_name: str | None = None,
    ) -> User:
        username = check_username(username)
        names = _role_names(roles)
        pw_hash = hash_password(password)  # raises PasswordPolicyError before anything is written
        now = utcnow()
        try:
            with self.db.transaction() as s:
                row = UserRow(
                    id=new_id(),
                    username=username,
                    display_name=(display_name or "").strip()[:200] or username,
                    roles=names,
                    password_hash=pw_hash,
                    active=True,
                    created_at=now,
                    created_by=actor,
                    password_changed_at=now,
                )
                s.add(row)
                s.flush()
                audit.append(
                    s, actor, Action.CREATE, "user", row.id, {"username": username, "roles": names}
                )
                return _user(row)
        except IntegrityError:
            raise UserError(f"a user named {username!r} already exists") from None

    def count(self) -> int:
        with self.db.transaction() as s:
            return int(s.scalar(select(func.count()).select_from(UserRow)) or 0)

    def get(self, user_id: str) -> User:
        with self.db.transaction() as s:
            return _user(self._get(s, UserRow, user_id, "user"))

    def by_username(self, username: str) -> User:
        with self.db.transaction() as s:
            row = s.scalar(select(UserRow).where(UserRow.username == username))
            if row is None:
                raise NotFoundError(f"no user named {username!r}")
            return _user(row)

    def list(self) -> list[User]:
        with self.db.transaction() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]

    def _other_active_admins(self, s: Session, user_id: str) -> int:
        rows = s.scalars(select(UserRow).where(UserRow.active.is_(True), UserRow.id != user_id))
        return sum(Role.ADMIN.value in r.roles for r in rows)

    def update(
        self,
        user_id: str,
        actor: str,
        roles: Iterable[str | Role] | None = None,
        active: bool | None = None,
        display_name: str | None = None,
    ) -> User:
        """Change roles, active flag or display name. Deactivating ends the user's sessions;
        the last active administrator cannot be demoted or deactivated."""
        with self.db.transaction() as s:
            row = self._get(s, UserRow, user_id, "user")
            changes: dict[str, object] = {}
            new_roles = row.roles if roles is None else _role_names(roles)
            new_active = row.active if active is None else bool(active)
            loses_admin = (
                Role.ADMIN.value in row.roles
                and row.active
                and (Role.ADMIN.value not in new_roles or not new_active)
            )
            if loses_admin and self._other_active_admins(s, user_id) == 0:
                raise UserError("cannot remove the last active administrator")
            if roles is not None and new_roles != sorted(row.roles):
                changes["roles"] = {"from": sorted(row.roles), "to": new_roles}
                row.roles = new_roles
            if active is not None and new_active != row.active:
                changes["active"] = new_active
                row.active = new_active
                if not new_active:
                    self._revoke_sessions(s, user_id)
            if display_name is not None and display_name.strip()[:200] != row.display_name:
                row.display_name = display_name.strip()[:200] or row.username
                changes["display_name"] = row.display_name
            if changes:
                audit.append(s, actor, Action.UPDATE, "user", user_id, changes)
            return _user(row)

    def set_password(
        self,
        user_id: str,
        new_password: str,
        actor: str,
        current_password: str | None = None,
        keep_session: str | None = None,
    ) -> None:
        """Set a password (checking the current one when the user changes their own); every
        other session of the user ends."""
        pw_hash = hash_password(new_password)
        with self.db.transaction() as s:
            row = self._get(s, UserRow, user_id, "user")
            if current_password is not None and not verify_password(
                row.password_hash, current_password
            ):
                raise AuthError("the current password is wrong")
            row.password_hash = pw_hash
            row.password_changed_at = utcnow()
            self._revoke_sessions(s, user_id, keep=keep_session)
            audit.append(s, actor, Action.UPDATE, "user", user_id, {"password_changed": True})

    # -- logins and sessions -----------------------------------------------------------------
    def _failures(
        self, s: Session, now: datetime, policy: ThrottlePolicy, username: str, ip: str
    ) -> tuple[list[datetime], list[datetime]]:
        since = now - policy.window
        last_ok = s.scalar(
            select(func.max(LoginAttemptRow.at)).where(
                LoginAttemptRow.username == username, LoginAttemptRow.success.is_(True)
            )
        )
        user_since = max(since, as_utc(last_ok)) if last_ok is not None else since
        user = s.scalars(
            select(LoginAttemptRow.at).where(
                LoginAttemptRow.username == username,
                LoginAttemptRow.success.is_(False),
                LoginAttemptRow.at > user_since,
            )
        ).all()
        by_ip = s.scalars(
            select(LoginAttemptRow.at).where(
                LoginAttemptRow.ip == ip,
                LoginAttemptRow.success.is_(False),
                LoginAttemptRow.at > since,
            )
        ).all()
        return [as_utc(t) for t in user], [as_utc(t) for t in by_ip]

    def login(
        self,
        username: str,
        password: str,
        ip: str,
        policy: ThrottlePolicy | None = None,
        session_max: timedelta = SESSION_MAX,
        now: datetime | None = None,
    ) -> tuple[User, str]:
        """Check the password (throttled) and open a session; returns the user and the session
        token (shown to the client once, stored only as a digest). Audited either way."""
        policy = policy or ThrottlePolicy()
        now = as_utc(now or utcnow())
        name = (username or "").strip()[:100]
        ip = (ip or "unknown")[:64]
        failure: AuthError | None = None
        with self.db.transaction() as s:
            user_failures, ip_failures = self._failures(s, now, policy, name, ip)
            row = s.scalar(select(UserRow).where(UserRow.username == name))
            actor = row.username if row is not None else "anonymous"
            try:
                policy.check(now, user_failures, ip_failures)
            except LoginThrottled as exc:
                # Not counted as a failure: an attacker cannot extend the lock forever.
                audit.append(
                    s, actor, Action.LOGIN, "user", row.id if row else None,
                    {"username": name, "ip": ip, "result": "throttled"}, at=now,
                )  # fmt: skip
                failure = exc
            else:
                ok = verify_password(row.password_hash if row else None, password)
                if ok and not row.active:
                    result = "inactive"
                else:
                    result = "ok" if ok else ("bad password" if row else "unknown user")
                s.add(LoginAttemptRow(username=name, ip=ip, at=now, success=result == "ok"))
                audit.append(
                    s, actor, Action.LOGIN, "user", row.id if row else None,
                    {"username": name, "ip": ip, "result": result}, at=now,
                )  # fmt: skip
                if result != "ok":
                    failure = AuthError("wrong user name or password")
                else:
                    if needs_rehash(row.password_hash):
                        row.password_hash = hash_password(password)
                    token = secrets.token_urlsafe(32)
                    # Drop this user's dead sessions as new ones are made (keeps the table small).
                    s.execute(
                        delete(UserSessionRow).where(
                            UserSessionRow.user_id == row.id, UserSessionRow.expires_at <= now
                        )
                    )
                    s.add(
                        UserSessionRow(
                            id=new_id(),
                            token_hash=digest(token),
                            user_id=row.id,
                            created_at=now,
                            last_seen_at=now,
                            expires_at=now + session_max,
                            ip=ip,
                        )
                    )
                    return _user(row), token
        # Raised after the commit: the failed attempt and its audit event are kept.
        assert failure is not None
        raise failure

    def session_user(
        self, token: str, idle: timedelta, now: datetime | None = None
    ) -> tuple[User, str]:
        """The user of a live session, and the session id; AuthError when it is unknown,
        ended, expired or idle too long."""
        now = as_utc(now or utcnow())
        if not token or len(token) > 200:
            raise AuthError("not logged in")
        with self.db.transaction() as s:
            sess = s.scalar(
                select(UserSessionRow).where(UserSessionRow.token_hash == digest(token))
            )
            if sess is None:
                raise AuthError("not logged in (unknown session); log in again")
            if sess.revoked_at is not None:
                raise AuthError("this session has ended; log in again")
            if as_utc(sess.expires_at) <= now or as_utc(sess.last_seen_at) + idle <= now:
                raise AuthError("the session has expired; log in again")
            row = s.get(UserRow, sess.user_id)
            if row is None or not row.active:
                raise AuthError("this account is disabled")
            if now - as_utc(sess.last_seen_at) >= _TOUCH_EVERY:
                sess.last_seen_at = now
            return _user(row), sess.id

    def logout(self, session_id: str, actor: str) -> None:
        with self.db.transaction() as s:
            sess = s.get(UserSessionRow, session_id)
            if sess is not None and sess.revoked_at is None:
                sess.revoked_at = utcnow()
                audit.append(s, actor, "logout", "user", sess.user_id, {})

    def _revoke_sessions(self, s: Session, user_id: str, keep: str | None = None) -> None:
        for sess in s.scalars(
            select(UserSessionRow).where(
                UserSessionRow.user_id == user_id, UserSessionRow.revoked_at.is_(None)
            )
        ):
            if sess.id != keep:
                sess.revoked_at = utcnow()

    # -- API tokens ----------------------------------------------------------------------------
    def create_token(
        self,
        name: str,
        roles: Iterable[str | Role],
        actor: str,
        expires_at: datetime | None = None,
    ) -> tuple[ApiToken, str]:
        """A bearer token for a machine; returns its facts and its secret (shown once)."""
        name = check_token_name(name)
        names = _role_names(roles)
        if not names:
            raise UserError("a token needs at least one role")
        now = utcnow()
        if expires_at is not None and as_utc(expires_at) <= now:
            raise UserError("a token's expiry must be in the future")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            with self.db.transaction() as s:
                row = ApiTokenRow(
                    id=new_id(),
                    name=name,
                    token_hash=digest(secret),
                    roles=names,
                    created_by=actor,
                    created_at=now,
                    expires_at=None if expires_at is None else as_utc(expires_at),
                )
                s.add(row)
                s.flush()
                audit.append(
                    s, actor, Action.CREATE, "api_token", row.id, {"name": name, "roles": names}
                )
                return _token(row), secret
        except IntegrityError:
            raise UserError(f"a token named {name!r} already exists") from None

    def token(self, secret: str, now: datetime | None = None) -> ApiToken:
        """The live token with this secret; AuthError when unknown, revoked or expired."""
        now = as_utc(now or utcnow())
        if not secret or len(secret) > 200:
            raise AuthError("invalid API token")
        with self.db.transaction() as s:
            row = s.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest(secret)))
            if row is None or row.revoked_at is not None:
                raise AuthError("invalid or revoked API token")
            if row.expires_at is not None and as_utc(row.expires_at) <= now:
                raise AuthError("this API token has expired")
            if row.last_used_at is None or now - as_utc(row.last_used_at) >= _TOUCH_EVERY:
                row.last_used_at = now
            return _token(row)

    def tokens(self) -> list[ApiToken]:
        with self.db.transaction() as s:
            return [_token(r) for r in s.scalars(select(ApiTokenRow).order_by(ApiTokenRow.name))]

    def revoke_token(self, token_id: str, actor: str) -> ApiToken:
        with self.db.transaction() as s:
            row = self._get(s, ApiTokenRow, token_id, "API token")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                audit.append(s, actor, Action.DELETE, "api_token", token_id, {"name": row.name})
            return _token(row)
