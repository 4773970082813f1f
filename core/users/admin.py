"""User management for admins: find, view, edit, block, delete, grant roles; statistics.

Every change goes through ``Approvals.perform``: blocking happens at once, deleting and
granting roles wait for a second administrator (their permissions are sensitive). The
nesting rule holds everywhere: nobody changes an account that holds more than they do.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, delete, get, patch, post
from litestar.exceptions import HTTPException
from litestar.params import Body, FromPath, FromQuery, Parameter
from litestar.response import Redirect, Template

from core.access import identity_of, requires
from core.access.approvals import Approvals, Outcome
from core.access.audit import AuditFilter, AuditLog
from core.access.pii import mask
from core.access.roles import Roles
from core.users.api import user_view
from core.users.service import STATUSES, Users
from core.users.sessions import Sessions
from core.users.web import done_message, read_form, redirect
from core.web.templating import render

TAGS = ["admin: users"]
PAGE = 50


def _platform(request: Request[Any, Any, Any]):
    return request.app.state.platform


def _users(request: Request[Any, Any, Any]) -> Users:
    return _platform(request).service(Users)


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def _perform(
    request: Request[Any, Any, Any], action: str, payload: dict[str, Any], reason: str = ""
) -> Outcome:
    return (
        await _platform(request)
        .service(Approvals)
        .perform(identity_of(request), action, payload, reason=reason)
    )


# -- pages -----------------------------------------------------------------------------------------


@get("/admin/users", include_in_schema=False, guards=[requires("users.view")])
async def users_page(request: Request[Any, Any, Any]) -> Template:
    query = request.query_params
    status = query.get("status") if query.get("status") in STATUSES else None
    try:
        offset = max(0, int(query.get("offset", "0")))
    except ValueError:
        offset = 0
    found, total = await _users(request).search(
        q=query.get("q", ""),
        status=status,
        role=query.get("role") or None,
        since=_day(query.get("since")),
        until=_day(query.get("until")),
        offset=offset,
        limit=PAGE,
    )
    roles = await _platform(request).service(Roles).list()
    keep = {k: v for k, v in query.items() if k != "offset" and v}
    return render(
        request,
        "users/admin/users.html",
        users=found,
        total=total,
        offset=offset,
        page=PAGE,
        query=keep,
        statuses=STATUSES,
        roles=roles,
    )


@get("/admin/users/stats", include_in_schema=False, guards=[requires("users.view")])
async def stats_page(request: Request[Any, Any, Any]) -> Template:
    days = await _users(request).stats(30)
    peak = max([1] + [max(d.registrations, d.active) for d in days])
    return render(
        request,
        "users/admin/stats.html",
        days=days,
        peak=peak,
        total_registrations=sum(d.registrations for d in days),
    )


@get("/admin/users/{user_id:uuid}", include_in_schema=False, guards=[requires("users.view")])
async def user_page(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> Template:
    platform = _platform(request)
    user = await _users(request).get(user_id)
    roles = platform.service(Roles)
    held = await roles.roles_of(user_id)
    audit = await platform.service(AuditLog).search(AuditFilter(target=f"user:{user_id}"), limit=20)
    sessions = await platform.service(Sessions).list(user_id)
    return render(
        request,
        "users/admin/user.html",
        user=user,
        held=sorted(held),
        roles=await roles.list(),
        audit=audit,
        sessions=sessions,
        phone_masked=mask(user.phone),
        flash=done_message(request),
        error=request.query_params.get("error"),
        personal=None,
    )


@get(
    "/admin/users/{user_id:uuid}/personal",
    include_in_schema=False,
    guards=[requires("users.view", "users.pii.view")],
)
async def personal_page(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> Template:
    """Show the decrypted ITN and passport; each look is audited."""
    platform = _platform(request)
    users = _users(request)
    user = await users.get(user_id)
    personal = await users.personal_data(user_id, viewer=identity_of(request))
    roles = platform.service(Roles)
    return render(
        request,
        "users/admin/user.html",
        user=user,
        held=sorted(await roles.roles_of(user_id)),
        roles=await roles.list(),
        audit=[],
        sessions=[],
        phone=user.phone,
        phone_masked=user.phone,
        personal=personal,
        flash=None,
        error=None,
    )


def _after(
    user_id: UUID, outcome: Outcome | None = None, done: str = "saved", error: str | None = None
) -> Redirect:
    if error:
        return redirect(f"/admin/users/{user_id}", error=error)
    return redirect(f"/admin/users/{user_id}", done="pending" if outcome and outcome.pending else done)


@post("/admin/users/{user_id:uuid}/edit", include_in_schema=False, guards=[requires("users.edit")])
async def edit_submit(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> Redirect:
    form = await read_form(request)
    try:
        await _users(request).admin_update(
            user_id, by=identity_of(request), display_name=form.get("display_name"), locale=form.get("locale")
        )
    except HTTPException as exc:
        return _after(user_id, error=str(exc.detail))
    return _after(user_id)


async def _act(
    request: Request[Any, Any, Any], user_id: UUID, action: str, done: str, **payload: Any
) -> Redirect:
    form = await read_form(request)
    try:
        outcome = await _perform(
            request,
            action,
            {"user_id": str(user_id), **payload, **({"reason": form["reason"]} if "reason" in form else {})},
            reason=form.get("reason", ""),
        )
    except HTTPException as exc:
        return _after(user_id, error=str(exc.detail))
    return _after(user_id, outcome, done)


@post("/admin/users/{user_id:uuid}/block", include_in_schema=False, guards=[requires("users.block")])
async def block_submit(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> Redirect:
    return await _act(request, user_id, "users.block", "blocked")


@post("/admin/users/{user_id:uuid}/unblock", include_in_schema=False, guards=[requires("users.block")])
async def unblock_submit(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> Redirect:
    return await _act(request, user_id, "users.unblock", "unblocked")


@post("/admin/users/{user_id:uuid}/delete", include_in_schema=False, guards=[requires("users.delete")])
async def delete_submit(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> Redirect:
    return await _act(request, user_id, "users.delete", "deleted")


@post("/admin/users/{user_id:uuid}/roles", include_in_schema=False, guards=[requires("access.roles.assign")])
async def roles_submit(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> Redirect:
    form = await read_form(request)
    grant = form.get("grant") == "1"
    try:
        outcome = await _perform(
            request,
            "access.roles.assign",
            {"user_id": str(user_id), "role": form.get("role", ""), "grant": grant},
        )
    except HTTPException as exc:
        return _after(user_id, error=str(exc.detail))
    return _after(user_id, outcome, "role_granted" if grant else "role_revoked")


# -- JSON API -----------------------------------------------------------------------------------------------


class BlockBody(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class EditBody(msgspec.Struct):
    display_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    locale: Annotated[str, msgspec.Meta(pattern="^(ru|en|)$")] | None = None


class RoleBody(msgspec.Struct):
    role: Annotated[str, msgspec.Meta(max_length=64)]
    grant: bool = True


def _outcome(outcome: Outcome) -> Response[dict[str, Any]]:
    body = {
        "status": outcome.status,
        "approval_id": str(outcome.approval_id) if outcome.approval_id else None,
        "result": dict(outcome.result or {}),
    }
    return Response(body, status_code=202 if outcome.pending else 200)


@get("/api/v1/admin/users", tags=TAGS, summary="Find users", guards=[requires("users.view")])
async def api_users(
    request: Request[Any, Any, Any],
    q: Annotated[str, Parameter(max_length=200)] = "",
    status: Annotated[str | None, Parameter(pattern="^(pending|active|blocked|deleted)$")] = None,
    role: Annotated[str | None, Parameter(max_length=64)] = None,
    since: FromQuery[dt.date | None] = None,
    until: FromQuery[dt.date | None] = None,
    offset: Annotated[int, Parameter(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Parameter(ge=1, le=200)] = PAGE,
) -> dict[str, Any]:
    found, total = await _users(request).search(
        q=q, status=status, role=role, since=since, until=until, offset=offset, limit=limit
    )
    return {"total": total, "users": [user_view(u) for u in found]}


@get(
    "/api/v1/admin/users/stats",
    tags=TAGS,
    summary="Registrations and active users per day",
    guards=[requires("users.view")],
)
async def api_stats(
    request: Request[Any, Any, Any], days: Annotated[int, Parameter(ge=1, le=366)] = 30
) -> list[dict[str, Any]]:
    return [
        {"day": d.day.isoformat(), "registrations": d.registrations, "active": d.active}
        for d in await _users(request).stats(days)
    ]


@get(
    "/api/v1/admin/users/{user_id:uuid}",
    tags=TAGS,
    summary="One user, with roles",
    guards=[requires("users.view")],
)
async def api_user(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> dict[str, Any]:
    user = await _users(request).get(user_id)
    roles = await _platform(request).service(Roles).roles_of(user_id)
    return {
        "user": {**user_view(user), "phone": mask(user.phone)},
        "roles": sorted(roles),
        "blocked_reason": user.blocked_reason,
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
    }


@patch(
    "/api/v1/admin/users/{user_id:uuid}",
    tags=TAGS,
    summary="Change a user's name or language",
    guards=[requires("users.edit")],
)
async def api_edit(
    request: Request[Any, Any, Any], user_id: FromPath[UUID], data: Annotated[EditBody, Body()]
) -> dict[str, Any]:
    user = await _users(request).admin_update(
        user_id, by=identity_of(request), display_name=data.display_name, locale=data.locale
    )
    return {"user": user_view(user)}


@post(
    "/api/v1/admin/users/{user_id:uuid}/block",
    tags=TAGS,
    summary="Block a user (sessions end at once)",
    guards=[requires("users.block")],
)
async def api_block(
    request: Request[Any, Any, Any], user_id: FromPath[UUID], data: Annotated[BlockBody, Body()]
) -> Response[dict[str, Any]]:
    return _outcome(
        await _perform(
            request, "users.block", {"user_id": str(user_id), "reason": data.reason}, reason=data.reason
        )
    )


@post(
    "/api/v1/admin/users/{user_id:uuid}/unblock",
    tags=TAGS,
    summary="Unblock a user",
    guards=[requires("users.block")],
)
async def api_unblock(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> Response[dict[str, Any]]:
    return _outcome(await _perform(request, "users.unblock", {"user_id": str(user_id)}))


@delete(
    "/api/v1/admin/users/{user_id:uuid}",
    tags=TAGS,
    status_code=202,
    summary="Delete a user: personal data erased, ledger kept (needs a second admin's approval)",
    guards=[requires("users.delete")],
)
async def api_delete(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> Response[dict[str, Any]]:
    return _outcome(await _perform(request, "users.delete", {"user_id": str(user_id)}))


@post(
    "/api/v1/admin/users/{user_id:uuid}/roles",
    tags=TAGS,
    summary="Grant or revoke a role (needs a second admin's approval)",
    guards=[requires("access.roles.assign")],
)
async def api_roles(
    request: Request[Any, Any, Any], user_id: FromPath[UUID], data: Annotated[RoleBody, Body()]
) -> Response[dict[str, Any]]:
    return _outcome(
        await _perform(
            request, "access.roles.assign", {"user_id": str(user_id), "role": data.role, "grant": data.grant}
        )
    )


@get(
    "/api/v1/admin/users/{user_id:uuid}/personal-data",
    tags=TAGS,
    summary="A user's taxpayer number and passport, decrypted (audited)",
    guards=[requires("users.view", "users.pii.view")],
)
async def api_personal(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> dict[str, Any]:
    found = await _users(request).personal_data(user_id, viewer=identity_of(request))
    return {"itn": found.itn, "passport": found.passport}


ROUTES = [
    users_page,
    stats_page,
    user_page,
    personal_page,
    edit_submit,
    block_submit,
    unblock_submit,
    delete_submit,
    roles_submit,
    api_users,
    api_stats,
    api_user,
    api_edit,
    api_block,
    api_unblock,
    api_delete,
    api_roles,
    api_personal,
]
