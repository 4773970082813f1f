"""Small helpers the users plugin's pages share: forms, errors, redirects, messages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect

from core.web.i18n import gettext as _

#: Messages a redirect can ask the next page to show (``?done=<key>``); fixed texts only,
#: so a link cannot make the site say something it did not.
DONE = {
    "registered": "Your account is confirmed. Sign in to continue.",
    "password_reset": "Your password is changed. Sign in with the new one.",
    "signed_out": "You are signed out.",
    "profile": "Your profile is saved.",
    "personal": "Your personal data is saved.",
    "password": "Your password is changed. Your other sessions have ended.",
    "contact": "Your contact details are changed.",
    "session_revoked": "The session has ended.",
    "token_revoked": "The token is revoked.",
    "blocked": "The account is blocked.",
    "unblocked": "The account is unblocked.",
    "saved": "Saved.",
    "pending": "Sent for approval: another administrator must approve it.",
    "role_granted": "The role is granted.",
    "role_revoked": "The role is revoked.",
    "deleted": "The account is deleted; its personal data is gone.",
}


def done_message(request: Request[Any, Any, Any]) -> str | None:
    key = request.query_params.get("done")
    return _(DONE[key]) if key in DONE else None


def redirect(path: str, **query: Any) -> Redirect:
    params = {k: v for k, v in query.items() if v not in (None, "")}
    return Redirect(f"{path}?{urlencode(params)}" if params else path, status_code=303)


def safe_next(value: str | None, default: str = "/account") -> str:
    """Only a path on this site: never ``//evil.example`` or ``https://...``."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or "\n" in value
        or "\r" in value
    ):
        return default
    return value


async def read_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def describe(exc: HTTPException) -> tuple[str, dict[str, str]]:
    """A general message and per-field messages from an exception, for re-showing a form."""
    fields: dict[str, str] = {}
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        for item in exc.extra:
            if isinstance(item, dict) and item.get("key"):
                fields[str(item["key"])] = str(item.get("message", ""))
    message = str(exc.detail or "")
    if fields and ":" in message:
        message = ""
    return message, fields
