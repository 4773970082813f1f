"""An emulator of Google's token endpoint and FCM HTTP v1, for one service account.

* ``POST /token`` (form ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``,
  ``assertion=<JWT>``): checks the RS256 signature against the account's public key and the
  claims (``iss`` = the account's e-mail, the messaging ``scope``, ``aud`` ending in ``/token``,
  ``exp`` after now and at most an hour after ``iat``); answers ``{"access_token",
  "expires_in": 3599, "token_type": "Bearer"}``, else 400 ``{"error": "invalid_grant"}``.
* ``POST /v1/projects/{project_id}/messages:send``: needs a live access token (401
  ``UNAUTHENTICATED`` otherwise; :meth:`FcmEmulator.expire_tokens` ends them) and the account's
  project (403 ``PERMISSION_DENIED``); checks ``message.token`` and that ``data`` values are
  strings (400 ``INVALID_ARGUMENT``); a token in ``unregistered`` gets 404 ``UNREGISTERED``.
  Answers ``{"name": "projects/<id>/messages/<n>"}`` and keeps the push.

Failure modes: see :mod:`plugins.notify.emulation` (``rejected`` answers 400 ``INVALID_ARGUMENT``).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath

from plugins.notify.emulation import Failure, MessagingEmulator
from plugins.notify.fcm.auth import GRANT_TYPE, SCOPE, ServiceAccount, sandbox_account, verified_claims

ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
STATUS_OF_CODE = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}


def fcm_error(status: int, error_code: str, message: str) -> Response[dict[str, Any]]:
    return Response({"error": {"code": status, "message": message, "status": STATUS_OF_CODE.get(status, error_code),
                               "details": [{"@type": ERROR_TYPE, "errorCode": error_code}]}}, status_code=status)


class FcmEmulator(MessagingEmulator):
    provider = "fcm"

    def __init__(self, account: ServiceAccount | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.account = account or sandbox_account()
        self.public_key = self.account.public_key_pem()
        self.access_tokens: dict[str, float] = {}  # token -> expiry (unix time)
        self.unregistered: set[str] = set()
        self.grants: list[dict[str, Any]] = []  # the verified JWT claims, for tests

    def expire_tokens(self) -> None:
        self.access_tokens.clear()

    async def token(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        form = await request.form()
        if form.get("grant_type") != GRANT_TYPE:
            return Response({"error": "unsupported_grant_type"}, status_code=400)
        try:
            claims = verified_claims(str(form.get("assertion") or ""), self.public_key)
        except ValueError as exc:
            return Response({"error": "invalid_grant", "error_description": str(exc)}, status_code=400)
        now = time.time()
        problems = [
            claims.get("iss") != self.account.client_email and "iss is not the service account",
            SCOPE not in str(claims.get("scope", "")).split() and "scope lacks firebase.messaging",
            not str(claims.get("aud", "")).endswith("/token") and "aud is not the token endpoint",
            not (isinstance(claims.get("exp"), int) and isinstance(claims.get("iat"), int)) and "iat/exp missing",
        ]
        if not any(problems) and not (claims["exp"] > now and claims["exp"] - claims["iat"] <= 3600):
            problems.append("the JWT has expired or lives longer than an hour")
        problems = [p for p in problems if p]
        if problems:
            return Response({"error": "invalid_grant", "error_description": "; ".join(problems)}, status_code=400)
        self.grants.append(claims)
        token = "ya29." + secrets.token_urlsafe(24)
        self.access_tokens[token] = now + 3599
        return Response({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    async def send(self, project_id: str, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        if self.access_tokens.get(token, 0) <= time.time():
            return fcm_error(401, "THIRD_PARTY_AUTH_ERROR", "Request had invalid authentication credentials.")
        if project_id != self.account.project_id:
            return fcm_error(403, "SENDER_ID_MISMATCH", f"the credentials are not for project {project_id}")
        try:
            body = await request.json()
        except Exception:
            body = None
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("token"), str) or not message["token"]:
            return fcm_error(400, "INVALID_ARGUMENT", "message.token is required")
        data = message.get("data") or {}
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            return fcm_error(400, "INVALID_ARGUMENT", "message.data values must be strings")
        if message["token"] in self.unregistered:
            return fcm_error(404, "UNREGISTERED", "Requested entity was not found.")
        if await self.injected_failure() is Failure.REJECTED:
            return fcm_error(400, "INVALID_ARGUMENT", "The message payload is not valid.")
        notification = message.get("notification") or {}
        kept = self.keep("push", message["token"], str(notification.get("body", "")),
                         subject=str(notification.get("title", "")), request=message)
        return Response({"name": f"projects/{project_id}/messages/{kept.id.rsplit('-', 1)[1]}"})

    def routes(self) -> list[Any]:
        emulator = self

        @post("/token", status_code=200)
        async def token(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
            return await emulator.token(request)

        @post("/v1/projects/{project_id:str}/messages:send", status_code=200)
        async def send(project_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
            return await emulator.send(project_id, request)

        return [token, send]
