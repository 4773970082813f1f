"""The FCM push channel: one HTTP v1 ``messages:send`` per registered device of the user.

A ``push`` address is the user's id (:func:`push_address`); the channel sends to each of
the user's devices ``POST {base}/v1/projects/{project_id}/messages:send`` with
``Authorization: Bearer <access token>`` and ``{"message": {"token", "notification": {"title",
"body"}, "data": {"delivery_id", "kind"}}}`` -> ``{"name": "projects/.../messages/..."}``.

FCM takes no idempotency key, so the channel records which devices a delivery reached and a
retry sends only to the others. Per device: ``UNREGISTERED`` (404) or ``SENDER_ID_MISMATCH``
(403), or ``INVALID_ARGUMENT`` about the token, removes the token; 401 fetches a new access token
and tries once more; 429 and 5xx are worth a retry. The message is sent when at least one device
took it; failed when the user has no device left; retried otherwise.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from core.contracts.notifications import Address, OutgoingMessage
from plugins.notify.fcm.auth import AccessTokens
from plugins.notify.fcm.devices import Device, PushDevices
from plugins.notify.provider import ProviderHttp, Refused, Transient, delivering, json_of

log = logging.getLogger("kopilka.notify")

PUSH = "push"
PRODUCTION_URL = "https://fcm.googleapis.com"
#: FCM's errorCode values that mean the token is of no use any more.
DEAD_TOKEN = {"UNREGISTERED", "SENDER_ID_MISMATCH"}


class DeadToken(Exception):
    """FCM will never deliver to this token again (the app was uninstalled, the token rotated)."""


def push_address(user_id: UUID) -> Address:
    """Where a push to ``user_id`` goes: ``notify(user_id, kind, to=push_address(user_id))``."""
    return Address(PUSH, str(user_id))


def fcm_error(body: Any) -> tuple[str, str]:
    """(errorCode or status, message) of an FCM error answer."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", str(body)[:200]
    code = str(error.get("status") or "")
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            code = str(detail["errorCode"])
    return code, str(error.get("message") or "")[:200]


class FcmChannel:
    name = "fcm"
    address_kinds = frozenset({PUSH})

    def __init__(self, http: ProviderHttp, tokens: AccessTokens, project_id: str, devices: PushDevices) -> None:
        self.http = http
        self.tokens = tokens
        self.project_id = project_id
        self.devices = devices

    @delivering
    async def send(self, message: OutgoingMessage) -> str:
        try:
            user_id = UUID(message.to.value)
        except ValueError:
            raise Refused("fcm: a push address is a user id") from None
        devices = await self.devices.of_user(user_id)
        reached = await self.devices.reached(message.delivery_id)
        names = [reached[d.id] for d in devices if d.id in reached]
        transient: Transient | None = None
        refused: Refused | None = None
        for device in devices:
            if device.id in reached:
                continue
            try:
                names.append(await self._send_to(device, message))
            except DeadToken:
                continue
            except Transient as exc:
                transient = exc
            except Refused as exc:
                refused = exc
        # One device that took it is a delivery; else a retry may still reach one; else it is over.
        if names:
            return names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1} devices)"
        if transient is not None:
            raise transient
        raise refused or Refused("fcm: the user has no registered device")

    async def _send_to(self, device: Device, message: OutgoingMessage) -> str:
        body = {"message": {
            "token": device.token,
            "notification": {"title": message.subject, "body": message.text},
            "data": {"delivery_id": str(message.delivery_id), "kind": message.kind},
        }}
        path = f"/v1/projects/{self.project_id}/messages:send"
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {await self.tokens.get()}"}
            response = await self.http.request("POST", path, json=body, headers=headers, passthrough=(401, 403))
            answer = json_of(response, "fcm")
            if response.status_code == 401 and attempt == 0:
                self.tokens.forget()  # revoked or expired early: get a new one and try again
                continue
            if response.status_code < 400 and isinstance(answer, dict) and answer.get("name"):
                await self.devices.record_sent(message.delivery_id, device.id, str(answer["name"]))
                return str(answer["name"])
            code, said = fcm_error(answer)
            if code in DEAD_TOKEN or (code == "INVALID_ARGUMENT" and "token" in said.lower()):
                log.info("fcm: device %s of user %s answered %s: token removed", device.id, device.user_id, code)
                await self.devices.drop(device.id)
                raise DeadToken(code)
            if response.status_code in (401, 403):
                log.error("fcm refused the platform's access (%s): check the service account", code)
                raise Transient(f"fcm: access refused ({code or response.status_code})")
            if response.status_code >= 400:
                raise Refused(f"fcm: HTTP {response.status_code} {code}: {said}")
            raise Transient("fcm: an answer without a message name")
        raise Transient("fcm: access refused twice")
