"""Who is asking (session cookie or API token), CSRF checks, and security headers.

For every request this middleware:

1. keeps an identity already in ``scope["kopilka.identity"]`` (the testing kit puts one
   there); otherwise resolves ``Authorization: Bearer kpt_...`` or the session cookie;
2. sets the request context the audit log and rate limits read (identity, client IP
   behind trusted proxies, request id);
3. checks the CSRF token of unsafe requests (see :func:`csrf_required`);
4. adds security headers (CSP, frame and referrer policies, no-store for personal pages).

CSRF rules. A request authenticated by the session cookie must carry the session's
token, as the ``csrf_token`` form field or the ``X-CSRF-Token`` header. Requests with an
API token need none (no ambient credential). Anonymous requests to ``/api/`` need none
(provider callbacks; JSON cannot be posted cross-site without CORS), and neither do
anonymous requests to routes that require sign-in (they get 401). Other anonymous form
posts (sign-in, registration) carry a signed double-submit token from a cookie, which
stops login CSRF; anonymous requests of a content type another site cannot send without a
CORS preflight (JSON) need none. A route can opt out with ``opt={"csrf_exempt": True}``; routes with
``opt={"json_only": True}`` refuse other content types with 415. A route with
``opt={"foreign_credentials": True}`` (a sandbox's provider emulator) reads its own
``Authorization`` header: a bearer key sent there is not taken for one of our API tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

from litestar import Request
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
)
from litestar.types import ASGIApp, Receive, Scope, Send

from core.access import ANONYMOUS, SCOPE_KEY, is_auth_guard
from core.access import context as request_context
from core.access.keys import platform_key
from core.users.sessions import Resolved, Sessions
from core.web import i18n
from core.web.i18n import gettext as _
from core.web.middleware import REQUEST_ID_KEY

if TYPE_CHECKING:
    from core.platform import Platform

CSRF_SCOPE_KEY = "kopilka.csrf_token"
UNREAD_SCOPE_KEY = "kopilka.unread"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = b"x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: Content types a page on another site can post without a CORS preflight ("" when none is given).
CORS_SIMPLE_TYPES = frozenset({"", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class CsrfRejected(PermissionDeniedException):
    def __init__(self) -> None:
        super().__init__(
            _("the form's security token is missing or out of date: reload the page and try again")
        )


class CookieNames:
    def __init__(self, secure: bool) -> None:
        # The __Host- prefix pins a cookie to this host, path / and HTTPS.
        prefix = "__Host-" if secure else ""
        self.secure = secure
        self.session = f"{prefix}kopilka_session"
        self.csrf = f"{prefix}kopilka_csrf"

    def header(self, name: str, value: str, *, max_age: int | None = None) -> bytes:
        parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts).encode("latin-1")


def cookie_names(platform: Platform) -> CookieNames:
    return CookieNames(platform.core.web.secure_cookies)


def _cookies(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in scope.get("headers") or []:
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is the client's problem, not a 500
                continue
            found.update({key: morsel.value for key, morsel in jar.items()})
    return found


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value.decode("latin-1")
    return ""


class AnonymousCsrf:
    """Signed double-submit tokens for visitors who have no session yet."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def new(self) -> str:
        nonce = secrets.token_urlsafe(24)
        return f"{nonce}.{self._sign(nonce)}"

    def valid(self, token: str | None) -> bool:
        if not token or token.count(".") != 1 or len(token) > 100:
            return False
        nonce, signature = token.split(".")
        return hmac.compare_digest(signature, self._sign(nonce))

    def _sign(self, nonce: str) -> str:
        return hmac.new(self.key, nonce.encode(), hashlib.sha256).hexdigest()[:32]


def session_middleware_factory(platform: Platform):
    """The ``middleware`` hook's contribution of ``core.users``."""
    names = cookie_names(platform)
    anonymous_csrf = AnonymousCsrf(platform_key(platform, "users.csrf"))
    trusted = platform.core.web.trusted_proxies

    def session_middleware(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] not in ("http", "websocket"):
                await app(scope, receive, send)
                return
            sessions = platform.service(Sessions)
            cookies = _cookies(scope)
            set_cookies: list[bytes] = []
            resolved: Resolved | None = None
            preset = scope.get(SCOPE_KEY)  # type: ignore[call-overload]
            if preset is not None:
                identity = preset
            else:
                authorization = _header(scope, b"authorization")
                if authorization[:7].lower() == "bearer " and not _foreign_credentials(scope):
                    resolved = await sessions.resolve_token(authorization[7:].strip())
                    if resolved is None:
                        raise NotAuthorizedException(_("the API token is unknown, revoked or expired"))
                elif cookies.get(names.session):
                    resolved = await sessions.resolve(cookies[names.session])
                    if resolved is None:  # over or revoked: forget it
                        set_cookies.append(names.header(names.session, "", max_age=0))
                identity = resolved.identity if resolved else ANONYMOUS
                scope[SCOPE_KEY] = identity  # type: ignore[literal-required]
            if resolved is not None and resolved.csrf_token:
                csrf_token = resolved.csrf_token
            else:
                csrf_token = cookies.get(names.csrf, "")
                if not anonymous_csrf.valid(csrf_token):
                    csrf_token = anonymous_csrf.new()
                    set_cookies.append(names.header(names.csrf, csrf_token))
            scope[CSRF_SCOPE_KEY] = csrf_token  # type: ignore[literal-required]
            scope[UNREAD_SCOPE_KEY] = resolved.unread if resolved else 0  # type: ignore[literal-required]
            # The locale middleware ran before anyone was signed in: the user's own choice wins now.
            locale_token = i18n.set_locale(identity.locale) if identity.locale in i18n.LOCALES else None
            token = request_context.set_current(
                request_context.RequestInfo(
                    identity=identity,
                    ip=request_context.client_ip(scope, trusted),
                    request_id=scope.get(REQUEST_ID_KEY),  # type: ignore[call-overload]
                    user_agent=_header(scope, b"user-agent")[:300] or None,
                    actor=identity.actor if identity.is_authenticated else "anonymous",
                )
            )
            try:
                if scope["type"] == "http":
                    await _check_csrf(
                        scope,
                        receive,
                        preset is not None,
                        identity.via,
                        csrf_token,
                        cookies.get(names.csrf),
                        anonymous_csrf,
                    )
                await app(
                    scope,
                    receive,
                    _with_headers(send, scope, set_cookies, identity.is_authenticated, names.secure),
                )
            finally:
                request_context.reset(token)
                if locale_token is not None:
                    i18n._current_locale.reset(locale_token)

        return middleware

    return session_middleware


def _foreign_credentials(scope: Scope) -> bool:
    """A route with ``opt={"foreign_credentials": True}`` (a sandbox's provider emulator) checks
    another system's ``Authorization`` header itself: it is not one of our API tokens."""
    handler = scope.get("route_handler")  # type: ignore[call-overload]
    return bool((getattr(handler, "opt", None) or {}).get("foreign_credentials"))


def csrf_required(scope: Scope, via: str, preset: bool) -> bool:
    """Whether this unsafe request must prove it comes from our own pages."""
    handler = scope.get("route_handler")  # type: ignore[call-overload]
    opt = getattr(handler, "opt", {}) or {}
    if preset or via == "token" or opt.get("csrf_exempt"):
        return False
    if via == "session":
        return True
    if scope["path"].startswith("/api/"):
        return False
    content_type = _header(scope, b"content-type").split(";")[0].strip().lower()
    if content_type not in CORS_SIMPLE_TYPES:
        return False  # a browser cannot send it cross-site without a CORS preflight, which we never allow
    guards = handler.resolve_guards() if handler is not None else []
    return not any(is_auth_guard(guard) for guard in guards)


async def _check_csrf(
    scope: Scope,
    receive: Receive,
    preset: bool,
    via: str,
    expected: str,
    anonymous_cookie: str | None,
    anonymous_csrf: AnonymousCsrf,
) -> None:
    if scope["method"] in SAFE_METHODS:
        return
    handler = scope.get("route_handler")  # type: ignore[call-overload]
    content_type = _header(scope, b"content-type").split(";")[0].strip().lower()
    if getattr(handler, "opt", {}).get("json_only") and content_type != "application/json":
        raise ClientException(_("send this request as application/json"), status_code=415)
    if not csrf_required(scope, via, preset):
        return
    if via != "session" and not (anonymous_csrf.valid(anonymous_cookie) and anonymous_cookie == expected):
        raise CsrfRejected()
    given = _header(scope, CSRF_HEADER)
    if not given and content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await Request(scope, receive).form()
        except HTTPException:  # a body that is not the form it claims to be carries no token either
            form = {}
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else ""
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfRejected()


def _with_headers(send: Send, scope: Scope, set_cookies: list[bytes], personal: bool, secure: bool) -> Send:
    api = scope["path"].startswith(("/api/", "/schema"))

    async def wrapped(message: Any) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            present = {name.lower() for name, _v in headers}
            content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
            extra = [
                (b"x-content-type-options", b"nosniff"),
                (b"x-frame-options", b"DENY"),
                (b"referrer-policy", b"same-origin"),
                (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
            ]
            if content_type.startswith(b"text/html") and not api:
                extra.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
            if (personal or api) and b"cache-control" not in present:
                extra.append((b"cache-control", b"no-store"))
            if secure:
                extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
            headers += [(n, v) for n, v in extra if n not in present]
            headers += [(b"set-cookie", c) for c in set_cookies]
            message = {**message, "headers": headers}
        await send(message)

    return wrapped
