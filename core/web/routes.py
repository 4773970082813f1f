"""The core pages: home, language switch, health checks."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Redirect, Response

from core.access import requires
from core.web.i18n import LOCALES
from core.web.templating import render, visible


@get("/", include_in_schema=False, name="home")
async def home(request: Request[Any, Any, Any]) -> Any:
    offers = [item for item in visible(request.app.state.menus["site"], request) if item.description]
    return render(request, "core/home.html", offers=offers)


@get("/admin", include_in_schema=False, name="admin-home", guards=[requires("admin.access")])
async def admin_home(request: Request[Any, Any, Any]) -> Any:
    """The admin area's front page: the admin menu entries this user may open."""
    return render(request, "core/admin.html")


@get("/lang/{code:str}", include_in_schema=False, name="set-language")
async def set_language(request: Request[Any, Any, Any], code: FromPath[str]) -> Redirect:
    """Remember the chosen language in a cookie and go back."""
    target = request.query_params.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"  # never redirect off-site
    response = Redirect(target)
    if code in LOCALES:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


@get("/healthz", tags=["health"], summary="Liveness, with database reachability")
async def healthz(request: Request[Any, Any, Any]) -> dict[str, Any]:
    database = await request.app.state.platform.db.ping()
    return {"status": "ok", "database": "reachable" if database else "unreachable"}


@get("/readyz", tags=["health"], summary="Readiness: 503 until the database answers")
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    database = await request.app.state.platform.db.ping()
    body = {"status": "ready" if database else "not ready", "database": "reachable" if database else "unreachable"}
    return Response(body, status_code=200 if database else 503)
