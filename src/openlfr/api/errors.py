"""One error shape for every refusal: {"error": code, "message": one clear sentence}
(validation errors add "fields"). Typed errors from the packages map to status codes here;
refusals on routes that touch biometric data are audited."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from openlfr.auth.errors import AuthError, LoginThrottled, PermissionDenied, UserError
from openlfr.domain.errors import (
    AdjudicationError,
    DeploymentStateError,
    NotFoundError,
    SubjectError,
)
from openlfr.errors import (
    ConfigError,
    ImageError,
    NoFaceError,
    OpenLFRError,
    WatchlistError,
)

log = logging.getLogger("openlfr.api")

# (error class, status, code), most specific first.
_MAP: tuple[tuple[type[Exception], int, str], ...] = (
    (LoginThrottled, 429, "throttled"),
    (AuthError, 401, "unauthenticated"),
    (PermissionDenied, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (DeploymentStateError, 409, "conflict"),
    (AdjudicationError, 409, "conflict"),
    (SubjectError, 422, "invalid"),
    (UserError, 422, "invalid"),
    (WatchlistError, 422, "invalid"),
    (ImageError, 422, "bad_image"),
    (NoFaceError, 422, "no_face"),
    (ConfigError, 400, "bad_request"),
)


class ApiError(OpenLFRError):
    """A refusal raised by a route itself, with its status and code."""

    def __init__(self, status: int, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status, self.code, self.extra = status, code, extra


def error_body(code: str, message: str, **extra: object) -> dict:
    return {"error": code, "message": message, **extra}


def _audit_refusal(request: Request, status: int, code: str, message: str) -> None:
    """Refused actions on biometric data are audited (in their own transaction: the
    request's own one was rolled back)."""
    what = getattr(request.state, "biometric", None)
    if what is None or status >= 500:
        return
    principal = getattr(request.state, "principal", None)
    params = request.path_params
    object_id = next((str(v) for k, v in params.items() if k.endswith("id")), None)
    route = request.scope.get("route")
    try:
        request.app.state.ctx.store.record_audit(
            principal.name if principal is not None else "anonymous",
            "refused",
            what,
            None if object_id is None else object_id[:100],
            {
                "status": status,
                "error": code,
                "reason": message[:300],
                "method": request.method,
                "route": getattr(route, "path", "")[:200],
            },
        )
    except Exception:  # never let auditing a refusal turn a 4xx into a 500
        log.exception("could not audit a refused request")


def _respond(request: Request, status: int, code: str, message: str, **extra) -> JSONResponse:
    _audit_refusal(request, status, code, message)
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra.pop("retry_after"))
    return JSONResponse(error_body(code, message, **extra), status_code=status, headers=headers)


def _openlfr_error(request: Request, exc: OpenLFRError) -> JSONResponse:
    if isinstance(exc, ApiError):
        return _respond(request, exc.status, exc.code, str(exc), **exc.extra)
    for cls, status, code in _MAP:
        if isinstance(exc, cls):
            extra = {"retry_after": exc.retry_after} if isinstance(exc, LoginThrottled) else {}
            return _respond(request, status, code, str(exc), **extra)
    return _respond(request, 422, "invalid", str(exc))


def _field(err: dict) -> dict:
    loc = [str(p) for p in err.get("loc", ())]
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        where = f"{loc[0]} " + ".".join(loc[1:]) if len(loc) > 1 else loc[0]
    else:
        where = ".".join(loc)
    return {"field": where.strip(), "message": err.get("msg", "invalid")}


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return _respond(request, 400, "malformed_json", "the request body is not valid JSON")
    fields = [_field(e) for e in errors]
    first = fields[0] if fields else {"field": "request", "message": "invalid"}
    message = f"{first['field']}: {first['message']}"
    return _respond(request, 422, "validation", message, fields=fields[:20])


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such endpoint: {request.method} {request.url.path}"
    if exc.status_code == 405:
        message = f"method {request.method} is not allowed here"
    return _respond(request, exc.status_code, _HTTP_CODES.get(exc.status_code, "error"), message)


def _data_error(request: Request, exc: DataError) -> JSONResponse:
    # A value the database refuses (too long, out of range): the input's fault, not ours.
    return _respond(request, 422, "invalid", "a value is too long or out of range")


def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.exception("internal error on %s %s", request.method, request.url.path)
    return JSONResponse(error_body("internal", "internal error"), status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(OpenLFRError, _openlfr_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _internal)
