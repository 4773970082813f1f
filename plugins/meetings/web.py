"""What the meetings pages and API share: one handler per action for a form post and a JSON call,
and rows turned into JSON."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from litestar import Request, Response, post
from litestar.response import Redirect

from core.access import identity_of
from core.projects import forms

#: ``fn(request, fields, uploads) -> (JSON body, the page to go to next)``.
ActionFn = Callable[[Request[Any, Any, Any], dict[str, Any], list[Any]], Awaitable[tuple[Any, str]]]
#: Columns never sent out (encrypted contacts, storage keys).
HIDDEN = frozenset({"contact_enc", "poa_key", "document_key", "file_key"})


def platform_of(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.platform


def service(request: Request[Any, Any, Any], kind: type) -> Any:
    return platform_of(request).service(kind)


def identity(request: Request[Any, Any, Any]) -> Any:
    return identity_of(request)


def path_id(request: Request[Any, Any, Any], name: str) -> UUID:
    return forms.uuid_of(request.path_params[name], name)


def action(page_path: str, api_path: str, fn: ActionFn, *, guards: Sequence[Any], summary: str,
           status_code: int = 200) -> Any:
    """A form post at ``page_path`` (answered with a redirect) and a JSON call at ``api_path``, one handler."""

    async def handler(request: Request[Any, Any, Any]) -> Response[Any]:
        fields, uploads = await forms.read_input(request)
        body, next_url = await fn(request, fields, uploads)
        if forms.is_api(request):
            return Response(body, status_code=status_code)
        return Redirect(next_url, status_code=303)

    handler.__name__ = fn.__name__.strip("_")
    return post([page_path, api_path], guards=list(guards), summary=summary, tags=["meetings"],
                name=f"meetings-{handler.__name__}", status_code=status_code)(handler)


def jsonable(value: Any) -> Any:
    """A row (or rows) as plain JSON: ids and times as strings, secrets left out."""
    if value is None or isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping) or hasattr(value, "items"):
        return {str(k): jsonable(v) for k, v in dict(value).items() if k not in HIDDEN}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return None
    return str(value)


def text_field(fields: Mapping[str, Any], name: str, default: str = "") -> str:
    value = fields.get(name, default)
    return value if isinstance(value, str) else str(value)
