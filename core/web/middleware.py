"""Request ids, access logs and the request's locale."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar.types import ASGIApp, Receive, Scope, Send

from core.access import identity_of
from core.web import i18n

log = structlog.get_logger("kopilka.web")
REQUEST_ID_KEY = "kopilka.request_id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id (or keep a sane ``X-Request-ID``), log it, and return it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope[REQUEST_ID_KEY] = request_id  # type: ignore[literal-required]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=status["code"],
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            structlog.contextvars.unbind_contextvars("request_id")

    return middleware


def locale_middleware_factory(default_locale: str):
    def locale_middleware(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] not in ("http", "websocket"):
                await app(scope, receive, send)
                return
            token = i18n.set_locale(choose_locale(scope, default_locale))
            try:
                await app(scope, receive, send)
            finally:
                i18n._current_locale.reset(token)

        return middleware

    return locale_middleware


def choose_locale(scope: Scope, default: str) -> str:
    """The user's own choice, else the ``lang`` cookie, else Accept-Language, else ``default``."""
    identity = identity_of(scope)
    if identity.locale in i18n.LOCALES:
        return identity.locale
    headers = dict(scope.get("headers") or [])
    cookies = headers.get(b"cookie", b"").decode("latin-1")
    for part in cookies.split(";"):
        name, _sep, value = part.strip().partition("=")
        if name == "lang" and value in i18n.LOCALES:
            return value
    return i18n.negotiate(headers.get(b"accept-language", b"").decode("latin-1") or None, default)
