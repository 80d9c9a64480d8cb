"""Users, sessions, API tokens and login throttling, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from openlfr.auth import AuthError, LoginThrottled, PasswordPolicyError, Role, UserError
from openlfr.auth.throttle import ThrottlePolicy
from openlfr.domain.clock import utcnow
from openlfr.store.migrate import current_revision, head_revision

PW = "correct horse battery"


@pytest.fixture(autouse=True)
def _cheap_hashes():
    # argon2's production cost (64 MiB, 3 passes) takes ~0.5 s on a loaded CI core.
    from openlfr.auth import passwords

    passwords.set_cost(1, 1024)
    yield
    passwords.set_cost(3, 65536)


def test_migration_0002_adds_the_user_tables(store):
    assert current_revision(store.engine) == head_revision() >= "0002"
    with store.engine.connect() as conn:
        for table in ("users", "user_sessions", "api_tokens", "login_attempts"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0


def test_password_is_stored_as_argon2_hash_and_never_in_the_audit_log(store):
    user = store.users.create("alice", PW, [Role.OPERATOR], actor="admin")
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar()
    assert stored.startswith("$argon2id$") and PW not in stored
    store.users.login("alice", PW, ip="10.0.0.1")
    with pytest.raises(AuthError):
        store.users.login("alice", PW + "x", ip="10.0.0.1")
    events = store.audit_events()
    dump = repr([e.details for e in events])
    assert PW not in dump
    logins = [e for e in events if e.action == "login"]
    assert [e.details["result"] for e in logins] == ["ok", "bad password"]
    assert logins[0].actor == "alice" and logins[0].object_id == user.id
    assert store.audit_verify() is None


def test_bad_users_are_refused_with_nothing_written(store):
    with pytest.raises(PasswordPolicyError):
        store.users.create("bob", "short", [Role.OPERATOR], actor="admin")
    with pytest.raises(UserError, match="unknown role"):
        store.users.create("bob", PW, ["superuser"], actor="admin")
    for bad in ("", "Bob", "a", "x' OR 1=1 --", "../etc", "token:evil"):
        with pytest.raises(UserError):
            store.users.create(bad, PW, [Role.OPERATOR], actor="admin")
    assert store.users.count() == 0
    store.users.create("bob", PW, [Role.OPERATOR], actor="admin")
    with pytest.raises(UserError, match="already exists"):
        store.users.create("bob", PW, [Role.AUDITOR], actor="admin")
    assert store.users.count() == 1


def test_login_throttling_per_user_locks_even_the_right_password(store):
    store.users.create("carol", PW, [Role.OPERATOR], actor="admin")
    policy = ThrottlePolicy(user_failures=5, ip_failures=100)
    now = utcnow()
    for i in range(5):
        with pytest.raises(AuthError) as info:
            store.users.login("carol", "wrong password!", "10.0.0.2", policy, now=now)
        assert not isinstance(info.value, LoginThrottled), i
    with pytest.raises(LoginThrottled) as info:
        store.users.login("carol", PW, "10.0.0.3", policy, now=now + timedelta(minutes=1))
    assert 13 * 60 < info.value.retry_after <= 15 * 60 + 1
    # After the lock-out the right password works again, and resets the count.
    user, token = store.users.login(
        "carol", PW, "10.0.0.3", policy, now=now + timedelta(minutes=16)
    )
    assert user.username == "carol" and token
    with pytest.raises(AuthError) as info:
        store.users.login(
            "carol", "wrong password!", "10.0.0.2", policy, now=now + timedelta(minutes=17)
        )
    assert not isinstance(info.value, LoginThrottled)
    results = [e.details["result"] for e in store.audit_events() if e.action == "login"]
    assert results == ["bad password"] * 5 + ["throttled", "ok", "bad password"]


def test_login_throttling_per_address_covers_many_user_names(store):
    store.users.create("dave", PW, [Role.OPERATOR], actor="admin")
    policy = ThrottlePolicy(user_failures=100, ip_failures=4)
    now = utcnow()
    for name in ("x1", "x2", "x3", "x4"):
        with pytest.raises(AuthError):
            store.users.login(name, "nope nope nope", "192.0.2.9", policy, now=now)
    with pytest.raises(LoginThrottled, match="from this address"):
        store.users.login("dave", PW, "192.0.2.9", policy, now=now)
    # Another address is not affected.
    store.users.login("dave", PW, "192.0.2.10", policy, now=now)


def test_sessions_expire_when_idle_or_old_and_end_on_logout(store):
    store.users.create("erin", PW, [Role.AUDITOR], actor="admin")
    now = utcnow()
    user, token = store.users.login("erin", PW, "127.0.0.1", now=now)
    idle = timedelta(minutes=30)
    found, sid = store.users.session_user(token, idle, now=now + timedelta(minutes=10))
    assert found.id == user.id and found.roles == {Role.AUDITOR}
    with pytest.raises(AuthError, match="expired"):
        store.users.session_user(token, idle, now=now + timedelta(minutes=41))
    _, token2 = store.users.login("erin", PW, "127.0.0.1")
    _, sid2 = store.users.session_user(token2, idle)
    store.users.logout(sid2, "erin")
    with pytest.raises(AuthError, match="ended"):
        store.users.session_user(token2, idle)
    with pytest.raises(AuthError):
        store.users.session_user("not-a-token", idle)
    with store.engine.connect() as conn:
        hashes = conn.execute(text("SELECT token_hash FROM user_sessions")).scalars().all()
    assert token not in hashes and token2 not in hashes  # only digests are kept


def test_deactivating_a_user_ends_their_sessions_and_last_admin_is_kept(store):
    admin = store.users.create("root", PW, [Role.ADMIN], actor="init")
    op = store.users.create("frank", PW, [Role.OPERATOR], actor="root")
    _, token = store.users.login("frank", PW, "127.0.0.1")
    store.users.update(op.id, "root", active=False)
    with pytest.raises(AuthError, match="disabled|ended"):
        store.users.session_user(token, timedelta(minutes=30))
    with pytest.raises(AuthError):
        store.users.login("frank", PW, "127.0.0.1")
    with pytest.raises(UserError, match="last active administrator"):
        store.users.update(admin.id, "root", roles=[Role.AUDITOR])
    with pytest.raises(UserError, match="last active administrator"):
        store.users.update(admin.id, "root", active=False)
    updated = store.users.update(op.id, "root", roles=["operator", "auditor"], active=True)
    assert updated.roles == {Role.OPERATOR, Role.AUDITOR} and updated.active


def test_password_change_checks_the_current_one_and_ends_other_sessions(store):
    user = store.users.create("gina", PW, [Role.OPERATOR], actor="admin")
    _, t1 = store.users.login("gina", PW, "127.0.0.1")
    _, t2 = store.users.login("gina", PW, "127.0.0.1")
    _, keep = store.users.session_user(t2, timedelta(minutes=30))
    with pytest.raises(AuthError, match="current password"):
        store.users.set_password(user.id, "a new long password", "gina", current_password="x")
    store.users.set_password(
        user.id, "a new long password", "gina", current_password=PW, keep_session=keep
    )
    with pytest.raises(AuthError):
        store.users.session_user(t1, timedelta(minutes=30))
    store.users.session_user(t2, timedelta(minutes=30))
    store.users.login("gina", "a new long password", "127.0.0.1")


def test_api_tokens_are_hashed_expire_and_revoke(store):
    info, secret = store.users.create_token("camera-box", [Role.OPERATOR], actor="root")
    assert secret.startswith("olfr_") and len(secret) > 40
    assert store.users.token(secret).roles == {Role.OPERATOR}
    assert store.users.token(secret).actor == "token:camera-box"
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM api_tokens")).scalar()
    assert secret not in stored
    with pytest.raises(UserError, match="already exists"):
        store.users.create_token("camera-box", [Role.OPERATOR], actor="root")
    with pytest.raises(UserError, match="at least one role"):
        store.users.create_token("empty", [], actor="root")
    soon, secret2 = store.users.create_token(
        "short-lived", [Role.AUDITOR], actor="root", expires_at=utcnow() + timedelta(hours=1)
    )
    with pytest.raises(AuthError, match="expired"):
        store.users.token(secret2, now=utcnow() + timedelta(hours=2))
    store.users.revoke_token(info.id, "root")
    with pytest.raises(AuthError, match="revoked"):
        store.users.token(secret)
    assert [t.name for t in store.users.tokens()] == ["camera-box", "short-lived"]
