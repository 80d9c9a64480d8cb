"""The audit view (auditor): filter and page through the log; the chain's status."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request

from openlfr.api.context import AppContext, get_ctx
from openlfr.api.security import requires
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.web.render import ConsoleRoute, page

router = APIRouter(prefix="/console/audit", route_class=ConsoleRoute, include_in_schema=False)
PAGE = 50
Filter = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")]


@router.get("")
def audit(
    request: Request,
    after_seq: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    action: Filter = None,
    actor: Filter = None,
    object_type: Filter = None,
    object_id: Filter = None,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(Role.AUDITOR),
):
    filters = {
        "action": action or None,
        "actor": actor or None,
        "object_type": object_type or None,
        "object_id": object_id or None,
    }
    events = ctx.listing.audit_page(after_seq, PAGE, **filters)
    kept = {k: v for k, v in filters.items() if v}
    next_url = None
    if len(events) == PAGE:
        next_url = "?" + urlencode({**kept, "after_seq": events[-1].seq})
    broken = ctx.store.audit_verify()
    return page(
        request, "audit.html", who, events=events, filters=filters, next_url=next_url,
        first_url="?" + urlencode(kept), after_seq=after_seq, broken=broken,
    )  # fmt: skip
