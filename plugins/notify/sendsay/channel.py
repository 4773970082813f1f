"""The Sendsay e-mail channel: one ``issue.send`` per message.

``{"action": "issue.send", "sendwhen": "now", "group": "masssending", "users.list": <address>,
"relink": 0, "letter": {"subject", "from.name", "from.email", "message": {"text", "html"}}}``
answers ``{"track.id": ...}``, the delivery's provider reference. Links are not rewritten
(``relink: 0``): a message with a code needs no click tracking. The delivery id goes as
``request.id``, so Sendsay's logs name the platform's delivery; Sendsay documents no
deduplication on it.
"""

from __future__ import annotations

import logging

from core.contracts.notifications import EMAIL, OutgoingMessage
from plugins.notify.provider import Refused, Transient, as_html, delivering
from plugins.notify.sendsay.client import AUTH_FAILED, SendsayClient, SendsayError

log = logging.getLogger("kopilka.notify")


class SendsayChannel:
    name = "sendsay"
    address_kinds = frozenset({EMAIL})

    def __init__(self, client: SendsayClient, from_email: str, from_name: str) -> None:
        self.client = client
        self.from_email = from_email
        self.from_name = from_name

    @delivering
    async def send(self, message: OutgoingMessage) -> str:
        letter = {
            "subject": message.subject,
            "from.name": self.from_name,
            "from.email": self.from_email,
            "message": {"text": message.text, "html": as_html(message.text)},
        }
        params = {"sendwhen": "now", "group": "masssending", "users.list": message.to.value, "relink": 0,
                  "letter": letter}
        try:
            answer = await self.client.call("issue.send", params, request_id=str(message.delivery_id))
        except SendsayError as exc:
            if exc.action == "login" or AUTH_FAILED in exc.ids:
                log.error("sendsay refused the platform's credentials: check [plugins.\"notify.sendsay\"]")
                raise Transient(str(exc)) from None
            raise Refused(str(exc)) from None
        track = answer.get("track.id")
        if track is None:
            raise Transient("sendsay issue.send: an answer without a track.id")
        return str(track)
