"""An emulator of MTS Exolve's SMS API: ``POST /messaging/v1/SendSMS``.

Checks ``Authorization: Bearer <key>`` (401 otherwise) and the body as Exolve does:
``number`` (the sender), ``destination`` (10-15 digits, no ``+``) and ``text`` are
required (400 ``{"error": {"code": 400, "message": ...}}`` otherwise). Answers
``{"message_id": "..."}`` and keeps the SMS. Failure modes: see
:mod:`plugins.notify.emulation` (``rejected`` answers 400 "destination is not valid").
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, post

from plugins.notify.emulation import Failure, MessagingEmulator

#: The key the sandbox's channel and emulator share when the deployment sets none.
SANDBOX_KEY = "exolve-sandbox-key"
_DESTINATION = re.compile(r"^\d{10,15}$")


def _error(status: int, text: str) -> Response[dict[str, Any]]:
    return Response({"error": {"code": status, "message": text}}, status_code=status)


class MtsEmulator(MessagingEmulator):
    provider = "mts"

    def __init__(self, api_key: str = SANDBOX_KEY, **options: Any) -> None:
        super().__init__(**options)
        self.api_key = api_key

    def routes(self) -> list[Any]:
        emulator = self

        @post("/messaging/v1/SendSMS", status_code=200)
        async def send_sms(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
            if request.headers.get("authorization") != f"Bearer {emulator.api_key}":
                return _error(401, "invalid API key")
            try:
                body = await request.json()
            except Exception:
                body = None
            if not isinstance(body, dict):
                return _error(400, "the body must be a JSON object")
            for name in ("number", "destination", "text"):
                if not isinstance(body.get(name), str) or not body[name]:
                    return _error(400, f"{name} is required")
            if not _DESTINATION.match(body["destination"]):
                return _error(400, "destination must be 10-15 digits, without '+'")
            if await emulator.injected_failure() is Failure.REJECTED:
                return _error(400, "destination is not valid")
            kept = emulator.keep("sms", body["destination"], body["text"], sender=body["number"], request=body)
            return Response({"message_id": kept.id})

        return [send_sms]
