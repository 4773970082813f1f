"""The outbox's admin page and API."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template

from core.access import requires
from core.access.inputs import MAX_BIGINT
from core.web.templating import render


def _outbox(request: Request[Any, Any, Any]):
    return request.app.state.platform.registry("notification_channels").get("outbox")


@get("/admin/outbox", include_in_schema=False, guards=[requires("notify.outbox.view")])
async def outbox_page(request: Request[Any, Any, Any]) -> Template:
    address = (request.query_params.get("address") or "").strip() or None
    messages = await _outbox(request).messages(address=address, limit=100)
    return render(request, "outbox/messages.html", messages=messages, address=address or "")


@get(
    "/api/v1/admin/outbox/messages",
    tags=["admin: outbox"],
    summary="Messages kept by the development outbox",
    guards=[requires("notify.outbox.view")],
)
async def api_messages(
    request: Request[Any, Any, Any],
    address: Annotated[str | None, Parameter(max_length=320)] = None,
    before: Annotated[int | None, Parameter(ge=1, le=MAX_BIGINT)] = None,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    found = await _outbox(request).messages(address=address, before=before, limit=limit)
    return [
        {
            **asdict(m),
            "delivery_id": str(m.delivery_id),
            "created_at": m.created_at.isoformat(),
            "user_id": str(m.user_id) if m.user_id else None,
        }
        for m in found
    ]
