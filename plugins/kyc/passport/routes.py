"""Admin: the imports of the list of invalid passports, and starting one now."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core.access import identity_of, requires
from core.access.audit import AuditLog
from core.jobs.runtime import Jobs
from core.web.templating import render
from plugins.kyc.passport.invalid_list import InvalidPassports

GUARD = {"guards": [requires("admin.access", "kyc.passport.manage")]}
TASK = "kyc.passport.import_list"


def _import_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "source": row["source"],
        "status": row["status"],
        "started_at": row["started_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
        "rows": row["rows"],
        "skipped": row["skipped"],
        "bytes": row["bytes"],
        "error": row["error"],
    }


@get("/admin/kyc/passport-list", include_in_schema=False, **GUARD)
async def list_page(request: Request[Any, Any, Any]) -> Template:
    invalid = request.app.state.platform.service(InvalidPassports)
    return render(request, "kyc/passport_list.html", state=await invalid.state(), imports=await invalid.imports(),
                  queued=request.query_params.get("done") == "queued")


async def _queue(request: Request[Any, Any, Any]) -> None:
    platform = request.app.state.platform
    async with platform.db.transaction():
        await platform.service(AuditLog).record(action="kyc.passport.import_requested", actor=identity_of(request))
        await platform.service(Jobs).kick(TASK)


@post("/admin/kyc/passport-list/import", include_in_schema=False, **GUARD)
async def import_now(request: Request[Any, Any, Any]) -> Redirect:
    await _queue(request)
    return Redirect("/admin/kyc/passport-list?done=queued", status_code=303)


@get("/api/v1/admin/kyc/passport-list", tags=["kyc"], summary="Imports of the list of invalid passports", **GUARD)
async def api_list(request: Request[Any, Any, Any]) -> dict[str, Any]:
    invalid = request.app.state.platform.service(InvalidPassports)
    state = await invalid.state()
    return {
        "loaded": state.loaded,
        "imported_at": state.imported_at.isoformat() if state.imported_at else None,
        "rows": state.rows,
        "imports": [_import_view(r) for r in await invalid.imports()],
    }


@post("/api/v1/admin/kyc/passport-list/import", tags=["kyc"], summary="Download the list now (queued)",
      status_code=202, **GUARD)
async def api_import(request: Request[Any, Any, Any]) -> dict[str, str]:
    await _queue(request)
    return {"status": "queued", "task": TASK}


ROUTES = [list_page, import_now, api_list, api_import]
