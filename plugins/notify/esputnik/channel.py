"""The eSputnik channel: SMS and e-mail, HTTP Basic auth.

* SMS: ``POST {base}/v1/message/sms`` ``{"from": <alpha-name>, "text", "phoneNumbers": ["380501234567"]}``
* e-mail: ``POST {base}/v1/message/email`` ``{"from": "\\"Name\\" <a@b>", "subject", "htmlText",
  "plainText", "emails": ["x@y"]}``

The answer ``{"id", "results": {"locator", "status": "OK", "requestId"}}`` (``results`` may
be a list) gives the provider reference; a status other than ``OK`` refuses the message.
eSputnik takes no idempotency key for these calls.
"""

from __future__ import annotations

from typing import Any

from core.contracts.notifications import EMAIL, PHONE, OutgoingMessage
from plugins.notify.provider import (
    ProviderHttp,
    Refused,
    Transient,
    as_html,
    delivering,
    digits_only,
    json_of,
)

PRODUCTION_URL = "https://esputnik.com/api"


def first_result(body: Any) -> dict[str, Any]:
    results = body.get("results") if isinstance(body, dict) else None
    if isinstance(results, list):
        results = results[0] if results else None
    return results if isinstance(results, dict) else {}


class EsputnikChannel:
    name = "esputnik"

    def __init__(self, http: ProviderHttp, *, kinds: frozenset[str], sms_from: str, email_from: str,
                 email_from_name: str) -> None:
        self.http = http
        self.address_kinds = kinds
        self.sms_from = sms_from
        self.email_from = f'"{email_from_name}" <{email_from}>' if email_from_name else email_from

    @delivering
    async def send(self, message: OutgoingMessage) -> str:
        if message.to.kind == PHONE:
            number = digits_only(message.to.value)
            if not 10 <= len(number) <= 15:
                raise Refused(f"esputnik: {len(number)} digits is not a phone number")
            path, body = "/v1/message/sms", {"from": self.sms_from, "text": message.text, "phoneNumbers": [number]}
        elif message.to.kind == EMAIL:
            path, body = "/v1/message/email", {
                "from": self.email_from, "subject": message.subject, "htmlText": as_html(message.text),
                "plainText": message.text, "emails": [message.to.value]}
        else:
            raise Refused(f"esputnik: cannot deliver to {message.to.kind} addresses")
        response = await self.http.request("POST", path, json=body)
        answer = json_of(response, "esputnik")
        if response.status_code >= 400:
            raise Refused(f"esputnik: HTTP {response.status_code}: {_said(answer)}")
        result = first_result(answer)
        if result.get("status", "OK") != "OK":
            raise Refused(f"esputnik: {result.get('status')}: {result.get('message', '')}".rstrip(": "))
        reference = result.get("requestId") or (answer.get("id") if isinstance(answer, dict) else None)
        if not reference:
            raise Transient("esputnik: an answer without a request id")
        return str(reference)


def _said(answer: Any) -> str:
    if isinstance(answer, dict):
        return str(answer.get("message") or answer.get("error") or answer)[:300]
    return str(answer)[:300]
