"""The notification-channel contract: how messages leave the platform.

A channel plugin implements :class:`NotificationChannel` and hands an instance over
through the ``register_notification_channels`` hook::

    @hookimpl
    def register_notification_channels(register, settings):
        register(SmsChannel(settings))

The core's ``NotificationService`` renders each message in the recipient's language,
picks a channel that serves the address kind (``"email"``, ``"phone"``), calls
:meth:`NotificationChannel.send` after the causing transaction commits, and retries
:attr:`DeliveryStatus.RETRY` results until the message expires. A channel returns a
status; it raises only on bugs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable
from uuid import UUID

#: Address kinds the core knows; a channel may serve others (e.g. "telegram").
EMAIL = "email"
PHONE = "phone"


@dataclass(frozen=True)
class Address:
    """Where a message goes: ``Address("email", "ann@example.com")``, ``Address("phone", "+79991234567")``."""

    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered message for one address.

    Attributes:
        delivery_id: the platform's id of this delivery; pass it to the provider as the
            idempotency key, so a retry after a timeout does not send twice.
        kind: what the message is about (``"access.code"``, ``"users.blocked"``).
        to: the address.
        subject: one line (an e-mail subject; SMS channels may ignore it).
        text: the body as plain text, already in the recipient's language.
        locale: the language it was rendered in.
        user_id: the recipient's user id, when there is one.
        sensitive: the text holds a secret (a one-time code): never log or store it
            beyond what delivery needs.
        expires_at: after this the message is useless (a code has expired); do not send it.
    """

    delivery_id: UUID
    kind: str
    to: Address
    subject: str
    text: str
    locale: str
    user_id: UUID | None = None
    sensitive: bool = False
    expires_at: dt.datetime | None = None


class DeliveryStatus(StrEnum):
    #: The provider accepted the message.
    SENT = "sent"
    #: A temporary failure (timeout, provider down): the platform tries again later.
    RETRY = "retry"
    #: A permanent failure (invalid address, rejected content): no retry.
    REJECTED = "rejected"


@dataclass(frozen=True)
class DeliveryResult:
    status: DeliveryStatus
    #: The provider's id of the message, for support and reconciliation.
    provider_ref: str | None = None
    error: str | None = None

    @classmethod
    def sent(cls, provider_ref: str | None = None) -> DeliveryResult:
        return cls(DeliveryStatus.SENT, provider_ref)

    @classmethod
    def retry(cls, error: str) -> DeliveryResult:
        return cls(DeliveryStatus.RETRY, error=error)

    @classmethod
    def rejected(cls, error: str) -> DeliveryResult:
        return cls(DeliveryStatus.REJECTED, error=error)


@runtime_checkable
class NotificationChannel(Protocol):
    """A way to reach people: an SMS gateway, an e-mail service, the development outbox."""

    #: Unique among the deployment's channels, e.g. ``"sms.smsru"`` or ``"outbox"``.
    name: str
    #: The address kinds this channel can deliver to.
    address_kinds: frozenset[str]

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Deliver ``message``; return a status (raise only on bugs)."""
        ...


@dataclass(frozen=True)
class Recipient:
    """Who a user is, as far as messages go (the users plugin answers this)."""

    user_id: UUID
    display_name: str = ""
    locale: str | None = None
    addresses: tuple[Address, ...] = field(default_factory=tuple)

    def address(self, kind: str) -> Address | None:
        return next((a for a in self.addresses if a.kind == kind), None)
