"""Error responses: a styled page for people, a JSON problem for programs; never a stack trace."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from core.web import i18n
from core.web.middleware import REQUEST_ID_KEY

log = structlog.get_logger("kopilka.web")

TITLES = {
    400: "The request is not valid",
    401: "Please sign in",
    403: "Access denied",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Cannot process this",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


def wants_json(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith(("/api/", "/schema")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def problem(request: Request[Any, Any, Any], status: int, detail: str, extra: Any = None,
            headers: dict[str, str] | None = None) -> Response[Any]:
    request_id = request.scope.get(REQUEST_ID_KEY, "")
    if wants_json(request):
        body: dict[str, Any] = {"status_code": status, "detail": detail, "request_id": request_id}
        if extra:
            body["errors"] = extra
        return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)
    from core.web.templating import render

    if detail == _phrase(status):
        detail = ""  # litestar's English default ("Not Found"): the translated title says it already
    return render(  # type: ignore[return-value]
        request,
        "core/error.html",
        status_code=status,
        title=i18n.gettext(TITLES.get(status, "Error")),
        detail=detail,
        errors=extra if isinstance(extra, list) else None,
        status=status,
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException) and not wants_json(request):
        return Redirect(f"/login?next={quote(request.url.path)}")  # type: ignore[return-value]
    detail = exc.detail if exc.detail else TITLES.get(status, "Error")
    extra = exc.extra if isinstance(exc, ValidationException) else getattr(exc, "extra", None)
    if isinstance(exc, ValidationException) and isinstance(extra, list):
        extra = [_describe(e) for e in extra]
    return problem(request, status, detail, extra, headers=getattr(exc, "headers", None))


def _describe(error: Any) -> Any:
    """Keep what says what is wrong and where; drop litestar's internals."""
    if isinstance(error, dict):
        kept = {k: v for k, v in error.items() if k in ("message", "key", "source")}
        # msgspec reports a missing field at its parent object (key "data" for the body itself):
        # key the error by the field that is missing, so clients and forms can point at it.
        missing = _MISSING_FIELD.match(str(kept.get("message", "")))
        if missing and "key" in kept:
            parent = str(kept["key"])
            kept["key"] = missing[1] if parent == "data" else f"{parent}.{missing[1]}"
        return kept
    return error


_MISSING_FIELD = re.compile(r"^Object missing required field `([^`]+)`")


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("unhandled error", path=request.url.path, exc_info=exc)
    return problem(request, HTTP_500_INTERNAL_SERVER_ERROR, "An internal error occurred; it has been logged.")
