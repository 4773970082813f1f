"""The outbox channel: "delivers" every e-mail and SMS into a table and the log.

It stands in for real providers in development, tests and the demo, where nobody
should receive anything: an admin reads the messages at ``/admin/outbox``, and tests
read codes with :meth:`OutboxChannel.latest`. It keeps codes in plain text, so a
production deployment must not enable it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from core.access.inputs import MAX_BIGINT, plain_text
from core.contracts.notifications import EMAIL, PHONE, DeliveryResult, OutgoingMessage

if TYPE_CHECKING:
    from core.platform import Platform

log = logging.getLogger("kopilka.outbox")


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    delivery_id: UUID
    created_at: dt.datetime
    kind: str
    address_kind: str
    address: str
    subject: str
    text: str
    user_id: UUID | None

    @property
    def code(self) -> str | None:
        """The first run of 4-10 digits in the text: the one-time code, if the message carries one."""
        found = re.search(r"\b(\d{4,10})\b", self.text)
        return found.group(1) if found else None


class OutboxChannel:
    name = "outbox"
    address_kinds = frozenset({EMAIL, PHONE})

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        row_id = await self.platform.db.fetchval(
            """INSERT INTO notify_outbox_messages (delivery_id, kind, address_kind, address, subject, text, user_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (delivery_id) DO UPDATE SET delivery_id = excluded.delivery_id RETURNING id""",
            message.delivery_id,
            message.kind,
            message.to.kind,
            message.to.value,
            message.subject,
            message.text,
            message.user_id,
        )
        log.info("outbox: to %s: %s\n%s", message.to, message.subject, message.text)
        return DeliveryResult.sent(f"outbox:{row_id}")

    async def messages(
        self, *, address: str | None = None, limit: int = 100, before: int | None = None
    ) -> list[OutboxEntry]:
        address = plain_text(address, 320) or None
        before = min(before, MAX_BIGINT) if before is not None else None
        rows = await self.platform.db.fetch(
            """SELECT * FROM notify_outbox_messages WHERE ($1::varchar IS NULL OR address = $1)
                 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3""",
            address,
            before,
            max(1, min(limit, 500)),
        )
        return [OutboxEntry(**dict(r)) for r in rows]

    async def latest(self, address: str) -> OutboxEntry | None:
        """The newest message to ``address`` (for tests: ``(await outbox.latest(email)).code``)."""
        found = await self.messages(address=address, limit=1)
        return found[0] if found else None
