"""An emulator of eSputnik's message API: ``POST /v1/message/sms`` and ``POST /v1/message/email``.

Checks HTTP Basic auth (401 otherwise) and the bodies: SMS ``from``, ``text`` and
``phoneNumbers`` (digits); e-mail ``from``, ``subject``, ``htmlText`` or ``plainText`` and
``emails`` (400 ``{"message": ...}`` otherwise). Answers ``{"id", "results": {"locator",
"status": "OK", "requestId"}}`` and keeps the message; ``GET /v1/message/{sms|email}/status?ids=``
answers ``DELIVERED`` for what it kept. Failure modes: see :mod:`plugins.notify.emulation`
(``rejected`` answers with the result status ``ERROR``).
"""

from __future__ import annotations

import base64
import re
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromQuery

from plugins.notify.emulation import Failure, MessagingEmulator

SANDBOX_USER = "kopilka"
SANDBOX_KEY = "esputnik-sandbox-key"
_DIGITS = re.compile(r"^\d{10,15}$")


def _bad(status: int, text: str) -> Response[dict[str, Any]]:
    return Response({"message": text}, status_code=status)


class EsputnikEmulator(MessagingEmulator):
    provider = "esputnik"

    def __init__(self, username: str = SANDBOX_USER, api_key: str = SANDBOX_KEY, **options: Any) -> None:
        super().__init__(**options)
        self.username, self.api_key = username, api_key

    def authorized(self, request: Request[Any, Any, Any]) -> bool:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _colon, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == (self.username, self.api_key)

    async def accept(self, request: Request[Any, Any, Any], channel: str) -> Response[dict[str, Any]]:
        if not self.authorized(request):
            return _bad(401, "Unauthorized")
        try:
            body = await request.json()
        except Exception:
            body = None
        if not isinstance(body, dict) or not body.get("from"):
            return _bad(400, "a JSON object with 'from' is required")
        if channel == "sms":
            to = body.get("phoneNumbers")
            if not body.get("text") or not isinstance(to, list) or not to or not all(
                    isinstance(n, str) and _DIGITS.match(n) for n in to):
                return _bad(400, "text and phoneNumbers (digits, no '+') are required")
            text, subject = body["text"], ""
        else:
            to = body.get("emails")
            if not body.get("subject") or not (body.get("htmlText") or body.get("plainText")) or not isinstance(
                    to, list) or not to or not all(isinstance(a, str) and "@" in a for a in to):
                return _bad(400, "subject, htmlText or plainText, and emails are required")
            text, subject = body.get("plainText") or body["htmlText"], body["subject"]
        if await self.injected_failure() is Failure.REJECTED:
            return Response({"id": None, "results": {"locator": to[0], "status": "ERROR",
                                                      "message": "the recipient is not valid"}})
        kept = [self.keep(channel, address, text, subject=subject, sender=body["from"], request=body)
                for address in to]
        return Response({"id": kept[0].id, "results": {"locator": to[0], "status": "OK", "requestId": kept[0].id}})

    def routes(self) -> list[Any]:
        emulator = self

        @post("/v1/message/sms", status_code=200)
        async def sms(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
            return await emulator.accept(request, "sms")

        @post("/v1/message/email", status_code=200)
        async def email(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
            return await emulator.accept(request, "email")

        @get(["/v1/message/sms/status", "/v1/message/email/status"], sync_to_thread=False)
        def status(request: Request[Any, Any, Any], ids: FromQuery[str] = "") -> Response[Any]:
            if not emulator.authorized(request):
                return _bad(401, "Unauthorized")
            known = {m.id for m in emulator.messages}
            return Response([{"id": i, "status": "DELIVERED" if i in known else "UNKNOWN"}
                             for i in ids.split(",") if i])

        return [sms, email, status]
