"""Every registered notification channel keeps the contract (a suite for the hook family)."""

import uuid

from core.contracts.notifications import (
    Address,
    DeliveryResult,
    DeliveryStatus,
    NotificationChannel,
    OutgoingMessage,
)


async def test_every_channel_keeps_the_contract(platform):
    channels = list(platform.registry("notification_channels"))
    assert channels, "the test deployment has at least the outbox"
    for channel in channels:
        assert isinstance(channel, NotificationChannel), channel
        assert channel.name and isinstance(channel.address_kinds, frozenset) and channel.address_kinds
        for kind in sorted(channel.address_kinds):
            value = "+79990000000" if kind == "phone" else "contract@example.com"
            message = OutgoingMessage(
                uuid.uuid4(), "users.welcome", Address(kind, value), "Subject", "Text", "en"
            )
            result = await channel.send(message)
            assert isinstance(result, DeliveryResult) and result.status in set(DeliveryStatus)
            again = await channel.send(message)
            assert again.status == result.status, "sending the same delivery twice is harmless"
