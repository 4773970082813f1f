"""Admin pages and API of ``core.access``: the admin home, roles, approvals and the audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import Body, FromPath, FromQuery, Parameter
from litestar.response import Redirect, Stream, Template

from core.access import identity_of, requires
from core.access.approvals import Approvals
from core.access.audit import AuditFilter, AuditLog
from core.access.inputs import MAX_BIGINT
from core.access.permissions import PermissionRegistry
from core.access.roles import SUPERADMIN, Roles
from core.web.i18n import gettext as _
from core.web.templating import render


def _platform(request: Request[Any, Any, Any]):
    return request.app.state.platform


def _back(path: str, done: str | None = None, error: str | None = None) -> Redirect:
    from urllib.parse import urlencode

    query = urlencode({k: v for k, v in (("done", done), ("error", error)) if v})
    return Redirect(f"{path}?{query}" if query else path, status_code=303)


def _date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.UTC)
    except ValueError:
        return None


# -- roles ---------------------------------------------------------------------------------------


@get("/admin/access/roles", include_in_schema=False, guards=[requires("access.roles.view")])
async def roles_page(request: Request[Any, Any, Any]) -> Template:
    platform = _platform(request)
    return render(
        request,
        "access/roles.html",
        roles=await platform.service(Roles).list(),
        permissions=list(platform.service(PermissionRegistry)),
        done=request.query_params.get("done"),
    )


@get("/admin/access/roles/{code:str}", include_in_schema=False, guards=[requires("access.roles.view")])
async def role_page(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    platform = _platform(request)
    role = await platform.service(Roles).get(code)
    holders = await platform.db.fetch(
        """SELECT u.id, u.email, u.display_name FROM access_user_roles r JOIN users_users u ON u.id = r.user_id
           WHERE r.role_code = $1 ORDER BY r.granted_at DESC LIMIT 200""",
        code,
    )
    return render(
        request,
        "access/role.html",
        role=role,
        permissions=list(platform.service(PermissionRegistry)),
        holders=holders,
        editable=role.code != SUPERADMIN and identity_of(request).can("access.roles.manage"),
        done=request.query_params.get("done"),
        error=request.query_params.get("error"),
    )


async def _role_change(request: Request[Any, Any, Any], payload: dict[str, Any], back: str) -> Redirect:
    form = await request.form()
    try:
        outcome = (
            await _platform(request)
            .service(Approvals)
            .perform(identity_of(request), "access.roles.manage", payload, reason=str(form.get("reason", "")))
        )
    except HTTPException as exc:
        return _back(back, error=str(exc.detail))
    return _back(back, done="pending" if outcome.pending else "saved")


@post("/admin/access/roles/{code:str}", include_in_schema=False, guards=[requires("access.roles.manage")])
async def role_submit(request: Request[Any, Any, Any], code: FromPath[str]) -> Redirect:
    form = await request.form()
    permissions = [p for p in form.getall("permission", []) if isinstance(p, str)]
    return await _role_change(
        request, {"role": code, "permissions": sorted(permissions)}, f"/admin/access/roles/{code}"
    )


@post("/admin/access/roles", include_in_schema=False, guards=[requires("access.roles.manage")])
async def role_create(request: Request[Any, Any, Any]) -> Redirect:
    form = await request.form()
    permissions = [p for p in form.getall("permission", []) if isinstance(p, str)]
    code = str(form.get("code", "")).strip()
    payload = {
        "role": code,
        "create": True,
        "name": str(form.get("name", "")),
        "permissions": sorted(permissions),
        "description": str(form.get("description", "")),
    }
    return await _role_change(request, payload, "/admin/access/roles")


# -- approvals ----------------------------------------------------------------------------------------


@get("/admin/access/approvals", include_in_schema=False, guards=[requires("access.approvals.view")])
async def approvals_page(request: Request[Any, Any, Any]) -> Template:
    status = request.query_params.get("status", "pending")
    if status not in ("pending", "executed", "failed", "rejected", "cancelled", "expired", "all"):
        status = "pending"
    approvals = _platform(request).service(Approvals)
    found = await approvals.list(status=None if status == "all" else status, limit=100)
    return render(
        request,
        "access/approvals.html",
        approvals=found,
        status=status,
        done=request.query_params.get("done"),
        error=request.query_params.get("error"),
    )


async def _decide(request: Request[Any, Any, Any], approval_id: UUID, decision: str) -> Redirect:
    form = await request.form()
    approvals = _platform(request).service(Approvals)
    identity = identity_of(request)
    note = str(form.get("note", ""))
    try:
        if decision == "approve":
            outcome = await approvals.approve(identity, approval_id, note)
        elif decision == "reject":
            outcome = await approvals.reject(identity, approval_id, note)
        else:
            outcome = await approvals.cancel(identity, approval_id)
    except HTTPException as exc:
        return _back("/admin/access/approvals", error=str(exc.detail))
    if outcome.status == "failed":
        return _back("/admin/access/approvals", error=outcome.error)
    return _back("/admin/access/approvals", done=outcome.status)


@post(
    "/admin/access/approvals/{approval_id:uuid}/approve",
    include_in_schema=False,
    guards=[requires("admin.access")],
)
async def approve_submit(request: Request[Any, Any, Any], approval_id: FromPath[UUID]) -> Redirect:
    return await _decide(request, approval_id, "approve")


@post(
    "/admin/access/approvals/{approval_id:uuid}/reject",
    include_in_schema=False,
    guards=[requires("admin.access")],
)
async def reject_submit(request: Request[Any, Any, Any], approval_id: FromPath[UUID]) -> Redirect:
    return await _decide(request, approval_id, "reject")


@post(
    "/admin/access/approvals/{approval_id:uuid}/cancel",
    include_in_schema=False,
    guards=[requires("admin.access")],
)
async def cancel_submit(request: Request[Any, Any, Any], approval_id: FromPath[UUID]) -> Redirect:
    return await _decide(request, approval_id, "cancel")


# -- the audit log --------------------------------------------------------------------------------------


def _audit_filter(request: Request[Any, Any, Any]) -> AuditFilter:
    query = request.query_params
    actor = query.get("actor") or None
    try:
        actor_id = UUID(actor) if actor else None
    except ValueError:
        actor_id = None
    return AuditFilter(
        actor_id=actor_id,
        action=query.get("action") or None,
        target=query.get("target") or None,
        since=_date(query.get("since")),
        until=_date(query.get("until")),
    )


@get("/admin/audit", include_in_schema=False, guards=[requires("audit.view")])
async def audit_page(request: Request[Any, Any, Any]) -> Template:
    filters = _audit_filter(request)
    try:
        before = min(int(request.query_params.get("before", "")), MAX_BIGINT) or None
    except ValueError:
        before = None
    entries = await _platform(request).service(AuditLog).search(filters, before_id=before, limit=50)
    query = {k: v for k, v in request.query_params.items() if k != "before" and v}
    return render(
        request,
        "access/audit.html",
        entries=entries,
        query=query,
        next_before=entries[-1].id if len(entries) == 50 else None,
    )


@get("/admin/audit/export.csv", include_in_schema=False, guards=[requires("audit.view", "audit.export")])
async def audit_export(request: Request[Any, Any, Any]) -> Stream:
    filters = _audit_filter(request)
    log = _platform(request).service(AuditLog)
    await log.record(action="audit.exported", details={k: v for k, v in request.query_params.items() if v})
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return Stream(
        log.export_csv(filters),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )


# -- JSON API ------------------------------------------------------------------------------------------------


class DecisionBody(msgspec.Struct):
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


@get(
    "/api/v1/admin/access/roles",
    tags=["admin: access"],
    summary="Roles and their permissions",
    guards=[requires("access.roles.view")],
)
async def api_roles(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    roles = await _platform(request).service(Roles).list()
    return [
        {
            "code": r.code,
            "name": r.name,
            "description": r.description,
            "builtin": r.builtin,
            "permissions": sorted(r.permissions),
        }
        for r in roles
    ]


@get(
    "/api/v1/admin/access/permissions",
    tags=["admin: access"],
    summary="Every declared permission",
    guards=[requires("access.roles.view")],
)
async def api_permissions(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [asdict(p) for p in _platform(request).service(PermissionRegistry)]


@get(
    "/api/v1/admin/access/approvals",
    tags=["admin: access"],
    summary="Approval requests",
    guards=[requires("access.approvals.view")],
)
async def api_approvals(
    request: Request[Any, Any, Any],
    status: Annotated[
        str, Parameter(pattern="^(pending|executed|failed|rejected|cancelled|expired|all)$")
    ] = "pending",
) -> list[dict[str, Any]]:
    found = await _platform(request).service(Approvals).list(status=None if status == "all" else status)
    return [asdict(a) for a in found]


@post(
    "/api/v1/admin/access/approvals/{approval_id:uuid}/{decision:str}",
    tags=["admin: access"],
    summary="Approve, reject or cancel a request",
    guards=[requires("admin.access")],
    status_code=200,
)
async def api_decide(
    request: Request[Any, Any, Any],
    approval_id: FromPath[UUID],
    decision: FromPath[str],
    data: Annotated[DecisionBody, Body()],
) -> dict[str, Any]:
    approvals = _platform(request).service(Approvals)
    identity = identity_of(request)
    if decision == "approve":
        outcome = await approvals.approve(identity, approval_id, data.note)
    elif decision == "reject":
        outcome = await approvals.reject(identity, approval_id, data.note)
    elif decision == "cancel":
        outcome = await approvals.cancel(identity, approval_id)
    else:
        raise NotFoundException(_("the decision must be approve, reject or cancel"))
    return {
        "status": outcome.status,
        "approval_id": str(approval_id),
        "result": outcome.result,
        "error": outcome.error,
    }


@get(
    "/api/v1/admin/audit",
    tags=["admin: access"],
    summary="Search the audit log (newest first)",
    guards=[requires("audit.view")],
)
async def api_audit(
    request: Request[Any, Any, Any],
    action: Annotated[str | None, Parameter(max_length=200)] = None,
    target: Annotated[str | None, Parameter(max_length=300)] = None,
    actor_id: FromQuery[UUID | None] = None,
    since: FromQuery[dt.date | None] = None,
    until: FromQuery[dt.date | None] = None,
    before: Annotated[int | None, Parameter(ge=1, le=MAX_BIGINT)] = None,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    filters = AuditFilter(
        actor_id=actor_id,
        action=action,
        target=target,
        since=_date(since.isoformat()) if since else None,
        until=_date(until.isoformat()) if until else None,
    )
    entries = await _platform(request).service(AuditLog).search(filters, before_id=before, limit=limit)
    return {
        "entries": [asdict(e) for e in entries],
        "next_before": entries[-1].id if len(entries) == limit else None,
    }


ROUTES = [
    roles_page,
    role_page,
    role_submit,
    role_create,
    approvals_page,
    approve_submit,
    reject_submit,
    cancel_submit,
    audit_page,
    audit_export,
    api_roles,
    api_permissions,
    api_approvals,
    api_decide,
    api_audit,
]
