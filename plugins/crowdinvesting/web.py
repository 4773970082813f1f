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


#: What a page may say after an action. Only these: a ``done`` a link carries is shown only if it is one of
#: them, so nobody can put their own words in the site's voice with a crafted link.
MESSAGES = frozenset({
    "Investment made", "Certificate bought", "Certificate invested", "Referral recorded", "Declaration saved",
    "Welcome! Your first investment earns the referral bonus", "Terms saved", "This income was already distributed",
    "Waiting for a second admin's approval", "Income distributed", "Investor status saved", "Refunds made",
})


def done(path: str, message: str) -> str:
    """Where a page goes after an action, saying ``message`` (one of :data:`MESSAGES`)."""
    if message not in MESSAGES:
        raise ValueError(f"not a known message: {message!r}")
    return f"{path}?done={quote(message)}"


def done_message(request: Request[Any, Any, Any]) -> str | None:
    """The message a page shows, if the link carries a known one."""
    message = request.query_params.get("done")
    return message if message in MESSAGES else None


def platform_of(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.platform
