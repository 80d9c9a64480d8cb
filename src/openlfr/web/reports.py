"""Reports in the console: the register of deployments for a period (with downloads in
every format), the annual report, and each deployment's record as HTML or PDF."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from openlfr.api.context import AppContext, get_ctx
from openlfr.api.errors import ApiError
from openlfr.api.schemas import Id
from openlfr.api.security import requires
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.domain.clock import utcnow
from openlfr.reports import MEDIA, annual_report, record_document, register, register_document
from openlfr.reports import totals as sum_rows
from openlfr.reports.annual import AnnualReport
from openlfr.reports.document import to_html
from openlfr.reports.pdf import to_pdf
from openlfr.web.render import ConsoleRoute, page

router = APIRouter(prefix="/console/reports", route_class=ConsoleRoute, include_in_schema=False)
AO, OP, AUD = Role.AUTHORISING_OFFICER, Role.OPERATOR, Role.AUDITOR
Day = Annotated[date | None, Query()]
Format = Annotated[Literal["html", "pdf", "csv", "json"], Query()]


def _period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    end = date_to or utcnow().date()
    start = date_from or end - timedelta(days=365)
    if end < start:
        raise ApiError(422, "validation", "the period ends before it starts")
    return start, end


def _file(data: bytes, fmt: str, name: str) -> Response:
    headers = {"Cache-Control": "no-store"}
    if fmt != "html":
        headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return Response(data, media_type=MEDIA[fmt], headers=headers)


@router.get("")
def reports(
    request: Request,
    date_from: Day = None,
    date_to: Day = None,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(AO, AUD),
):
    start, end = _period(date_from, date_to)
    rows = register(ctx.store, start, end)
    return page(
        request, "reports.html", who, rows=rows, totals=sum_rows(rows), start=start, end=end,
        query=f"date_from={start}&date_to={end}",
    )  # fmt: skip


@router.get("/register")
def register_file(
    date_from: Day = None,
    date_to: Day = None,
    format: Format = "html",
    ctx: AppContext = Depends(get_ctx),
    _: Principal = requires(AO, AUD),
):
    start, end = _period(date_from, date_to)
    data = register_document(ctx.store, start, end, format)
    return _file(data, format, f"lfr-register-{start}-{end}")


@router.get("/annual")
def annual(
    date_from: Day = None,
    date_to: Day = None,
    format: Annotated[Literal["html", "pdf"], Query()] = "html",
    ctx: AppContext = Depends(get_ctx),
    _: Principal = requires(AO, AUD),
):
    start, end = _period(date_from, date_to)
    report: AnnualReport = annual_report(ctx.store, start, end)
    data = to_html(report.document).encode() if format == "html" else to_pdf(report.document)
    return _file(data, format, f"lfr-annual-report-{start}-{end}")


@router.get("/record/{deployment_id}")
def record(
    deployment_id: Id,
    format: Format = "html",
    ctx: AppContext = Depends(get_ctx),
    _: Principal = requires(AO, OP, AUD),
):
    data = record_document(ctx.store, deployment_id, format)
    return _file(data, format, f"deployment-record-{deployment_id[:8]}")
