"""Shared pieces of crowdinvesting's pages and API: one handler per action for both."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, post
from litestar.response import Redirect

from core.projects import forms

#: ``fn(request, fields) -> (JSON body, where a page goes next[, status code])``.
ActionFn = Callable[[Request[Any, Any, Any], dict[str, Any]], Awaitable[tuple[Any, ...]]]


def dual_post(page_path: str, api_path: str, fn: ActionFn, *, guards: Sequence[Any], summary: str, tags: list[str],
              status_code: int = 200):
    """A form post at ``page_path`` (answered with a redirect) and a JSON call at ``api_path``, one handler."""

    async def handler(request: Request[Any, Any, Any]) -> Response[Any]:
        fields, _uploads = await forms.read_input(request)
        body, next_url, *status = await fn(request, fields)
        if forms.is_api(request):
            return Response(body, status_code=status[0] if status else status_code)
        return Redirect(next_url, status_code=303)

    handler.__name__ = fn.__name__.strip("_")
    return post([page_path, api_path], guards=list(guards), summary=summary, tags=tags, name=handler.__name__,
                status_code=status_code)(handler)


def done(path: str, message: str, **params: str) -> str:
    query = "&".join(f"{k}={quote(v)}" for k, v in {"done": message, **params}.items())
    return f"{path}?{query}"


def platform_of(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.platform
