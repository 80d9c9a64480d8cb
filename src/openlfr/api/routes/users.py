"""User and API token administration (administrators only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from openlfr.api.context import AppContext, get_ctx
from openlfr.api.schemas import Id, PasswordResetIn, TokenIn, UserIn, UserPatch
from openlfr.api.security import requires
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role

router = APIRouter(prefix="/api", tags=["users"])
ADMIN = requires(Role.ADMIN)


@router.get("/users")
def list_users(ctx: AppContext = Depends(get_ctx), _: Principal = ADMIN) -> dict:
    return {"users": [u.to_json() for u in ctx.store.users.list()]}


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(body: UserIn, ctx: AppContext = Depends(get_ctx), who: Principal = ADMIN) -> dict:
    user = ctx.store.users.create(
        body.username, body.password, body.roles, who.name, body.display_name
    )
    return user.to_json()


@router.get("/users/{user_id}")
def get_user(user_id: Id, ctx: AppContext = Depends(get_ctx), _: Principal = ADMIN) -> dict:
    return ctx.store.users.get(user_id).to_json()


@router.patch("/users/{user_id}")
def update_user(
    user_id: Id, body: UserPatch, ctx: AppContext = Depends(get_ctx), who: Principal = ADMIN
) -> dict:
    """Change roles, display name or the active flag (deactivating ends their sessions)."""
    user = ctx.store.users.update(
        user_id, who.name, roles=body.roles, active=body.active, display_name=body.display_name
    )
    return user.to_json()


@router.post("/users/{user_id}/password")
def reset_password(
    user_id: Id, body: PasswordResetIn, ctx: AppContext = Depends(get_ctx), who: Principal = ADMIN
) -> dict:
    ctx.store.users.set_password(user_id, body.new_password, who.name)
    return {"changed": True}


@router.get("/tokens")
def list_tokens(ctx: AppContext = Depends(get_ctx), _: Principal = ADMIN) -> dict:
    return {"tokens": [t.to_json() for t in ctx.store.users.tokens()]}


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenIn, ctx: AppContext = Depends(get_ctx), who: Principal = ADMIN) -> dict:
    """A bearer token for a machine. The secret is in this response only; store it now."""
    info, secret = ctx.store.users.create_token(body.name, body.roles, who.name, body.expires_at)
    return {**info.to_json(), "token": secret}


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: Id, ctx: AppContext = Depends(get_ctx), who: Principal = ADMIN) -> dict:
    return ctx.store.users.revoke_token(token_id, who.name).to_json()
