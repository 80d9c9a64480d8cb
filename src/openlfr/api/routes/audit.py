"""The audit log: read it page by page, and verify its hash chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from openlfr.api.context import AppContext, get_ctx
from openlfr.api.security import requires
from openlfr.api.views import audit_json
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role

router = APIRouter(prefix="/api/audit", tags=["audit"])
Filter = Annotated[str | None, Query(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]


@router.get("")
def list_events(
    after_seq: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    action: Filter = None,
    actor: Filter = None,
    object_type: Filter = None,
    object_id: Filter = None,
    ctx: AppContext = Depends(get_ctx),
    _: Principal = requires(Role.AUDITOR),
) -> dict:
    """Events after `after_seq`, oldest first; pass `next_after_seq` to get the next page."""
    events = ctx.listing.audit_page(after_seq, limit, action, actor, object_type, object_id)
    return {
        "events": [audit_json(e) for e in events],
        "next_after_seq": events[-1].seq if len(events) == limit else None,
    }


@router.get("/verify")
def verify(ctx: AppContext = Depends(get_ctx), _: Principal = requires(Role.AUDITOR)) -> dict:
    """Re-compute the whole chain; names the first broken link, if any."""
    broken = ctx.store.audit_verify()
    if broken is None:
        return {"intact": True, "broken_at": None, "reason": None}
    return {"intact": False, "broken_at": broken.seq, "reason": broken.reason}
