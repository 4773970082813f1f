"""The MTS Exolve SMS channel.

``POST {base}/messaging/v1/SendSMS`` with ``Authorization: Bearer <key>`` and JSON
``{"number": sender, "destination": "79991234567", "text": ...}`` (digits only, no ``+``);
the answer is ``{"message_id": "..."}``. Exolve takes no idempotency key, so a retry after
a timeout at the wrong moment can send an SMS twice: the platform retries only on a
timeout, a 5xx or 429, never after an accepted answer.
"""

from __future__ import annotations

from typing import Any

from core.contracts.notifications import PHONE, OutgoingMessage
from plugins.notify.provider import ProviderHttp, Refused, Transient, delivering, digits_only, json_of

PRODUCTION_URL = "https://api.exolve.ru"
SEND_PATH = "/messaging/v1/SendSMS"


def error_text(body: Any) -> str:
    """Exolve's error, whichever of its shapes (``{"error": {"message"}}``, ``{"error": "..."}``, ``{"message"}``)."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message") or error.get("details") or error)[:300]
        return str(error)[:300]
    return str(body)[:300]


class MtsChannel:
    name = "mts"
    address_kinds = frozenset({PHONE})

    def __init__(self, http: ProviderHttp, api_key: str, sender: str) -> None:
        self.http = http
        self._api_key = api_key
        self.sender = sender

    @delivering
    async def send(self, message: OutgoingMessage) -> str:
        destination = digits_only(message.to.value)
        if not 10 <= len(destination) <= 15:
            raise Refused(f"mts: {len(destination)} digits is not a phone number")
        response = await self.http.request(
            "POST", SEND_PATH,
            json={"number": self.sender, "destination": destination, "text": message.text},
            headers={"Authorization": f"Bearer {self._api_key}"},
        )
        body = json_of(response, "mts")
        if response.status_code >= 400:
            raise Refused(f"mts: HTTP {response.status_code}: {error_text(body)}")
        message_id = body.get("message_id") if isinstance(body, dict) else None
        if not message_id:
            raise Transient("mts: an answer without a message_id")
        return str(message_id)
