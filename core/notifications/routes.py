"""The customer's notifications: a page and a JSON API; each user sees only their own."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import Redirect, Template

from core.access import identity_of, requires_login
from core.notifications.service import NotificationService
from core.web.i18n import current_locale
from core.web.i18n import gettext as _
from core.web.templating import render

SIGNED_IN = {"guards": [requires_login]}


def _service(request: Request[Any, Any, Any]) -> NotificationService:
    return request.app.state.platform.service(NotificationService)


def _before(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@get("/notifications", include_in_schema=False, **SIGNED_IN)
async def notifications_page(request: Request[Any, Any, Any]) -> Template:
    found = await _service(request).list_for(
        identity_of(request).user_id,  # type: ignore[arg-type]
        before=_before(request.query_params.get("before")),
        limit=20,
        locale=current_locale(),
    )
    return render(
        request,
        "notifications/list.html",
        notifications=found,
        next_before=found[-1].created_at.isoformat() if len(found) == 20 else None,
    )


@post("/notifications/{notification_id:uuid}/read", include_in_schema=False, **SIGNED_IN)
async def read_one(request: Request[Any, Any, Any], notification_id: FromPath[UUID]) -> Redirect:
    if not await _service(request).mark_read(identity_of(request).user_id, notification_id):  # type: ignore[arg-type]
        raise NotFoundException(_("you have no notification %(id)s", id=notification_id))
    return Redirect("/notifications", status_code=303)


@post("/notifications/read-all", include_in_schema=False, **SIGNED_IN)
async def read_all(request: Request[Any, Any, Any]) -> Redirect:
    await _service(request).mark_all_read(identity_of(request).user_id)  # type: ignore[arg-type]
    return Redirect("/notifications", status_code=303)


@get("/api/v1/notifications", tags=["notifications"], summary="My notifications, newest first", **SIGNED_IN)
async def api_list(
    request: Request[Any, Any, Any],
    before: FromQuery[dt.datetime | None] = None,
    unread: FromQuery[bool] = False,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    service = _service(request)
    user_id = identity_of(request).user_id
    found = await service.list_for(
        user_id,
        before=before,
        limit=limit,
        unread_only=unread,  # type: ignore[arg-type]
        locale=current_locale(),
    )
    return {
        "unread": await service.unread_count(user_id),  # type: ignore[arg-type]
        "notifications": [
            {
                "id": str(n.id),
                "kind": n.kind,
                "subject": n.subject,
                "text": n.text,
                "created_at": n.created_at.isoformat(),
                "read": not n.unread,
            }
            for n in found
        ],
        "next_before": found[-1].created_at.isoformat() if len(found) == limit else None,
    }


@post(
    "/api/v1/notifications/{notification_id:uuid}/read",
    tags=["notifications"],
    status_code=204,
    summary="Mark one of my notifications read",
    **SIGNED_IN,
)
async def api_read(request: Request[Any, Any, Any], notification_id: FromPath[UUID]) -> None:
    if not await _service(request).mark_read(identity_of(request).user_id, notification_id):  # type: ignore[arg-type]
        raise NotFoundException(_("you have no notification %(id)s", id=notification_id))


@post(
    "/api/v1/notifications/read-all",
    tags=["notifications"],
    summary="Mark all my notifications read",
    status_code=200,
    **SIGNED_IN,
)
async def api_read_all(request: Request[Any, Any, Any]) -> dict[str, int]:
    return {"marked": await _service(request).mark_all_read(identity_of(request).user_id)}  # type: ignore[arg-type]


ROUTES = [notifications_page, read_one, read_all, api_list, api_read, api_read_all]
