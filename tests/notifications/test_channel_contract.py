"""Every notification channel keeps the contract (a suite for the hook family).

The suite runs over the test deployment's channels (the outbox) and over every
provider channel shipped here, each talking to its provider's emulator: sent, sent
again harmlessly, and the provider's failures mapped to the platform's words (a
rejection is final, a timeout or a server error is retried).
"""

import contextlib
import logging
import uuid

import pytest

from core.contracts.notifications import (
    Address,
    DeliveryResult,
    DeliveryStatus,
    NotificationChannel,
    OutgoingMessage,
)
from plugins.notify.emulation import Failure
from plugins.notify.testing import PROVIDERS, serve


@contextlib.contextmanager
def captured_log():
    """Everything logged while the block runs, as text (works with ``-p no:logging`` too)."""
    records: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: records.append(record.getMessage())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


SAMPLE_ADDRESSES = {"phone": "+79990000000", "email": "contract@example.com"}


def message_to(kind: str, value: str, text: str = "Your code: 123456") -> OutgoingMessage:
    return OutgoingMessage(uuid.uuid4(), "users.welcome", Address(kind, value), "Subject", text, "en",
                           sensitive=True)


async def check_channel(channel, addresses) -> None:
    assert isinstance(channel, NotificationChannel), channel
    assert channel.name and isinstance(channel.address_kinds, frozenset) and channel.address_kinds
    for kind in sorted(channel.address_kinds):
        message = message_to(kind, addresses[kind])
        result = await channel.send(message)
        assert isinstance(result, DeliveryResult) and result.status in set(DeliveryStatus)
        again = await channel.send(message)
        assert again.status == result.status, "sending the same delivery twice is harmless"


async def test_every_channel_keeps_the_contract(platform):
    channels = list(platform.registry("notification_channels"))
    assert channels, "the test deployment has at least the outbox"
    for channel in channels:
        await check_channel(channel, SAMPLE_ADDRESSES)


@pytest.mark.parametrize("plugin", sorted(PROVIDERS))
async def test_provider_channels_keep_the_contract_with_their_emulators(plugin, make_platform):
    async with serve(PROVIDERS[plugin]) as running:
        platform = await make_platform([plugin], settings=running.settings())
        channel = platform.registry("notification_channels").get(running.provider.channel)
        addresses = await running.addresses(platform)
        with captured_log() as logged:
            await check_channel(channel, addresses)
            await check_failures(channel, running, addresses)
        assert logged and not any("918273" in r or "123456" in r for r in logged), "texts are never logged"


async def check_failures(channel, running, addresses) -> None:
    for kind in sorted(channel.address_kinds):
        message = message_to(kind, addresses[kind], text="Your code: 918273")
        sent = await channel.send(message)
        assert sent.status is DeliveryStatus.SENT and sent.provider_ref, sent
        assert running.emulator.messages[-1].text.endswith("918273"), "the emulator keeps what it got"
        for failure, status in ((Failure.REJECTED, DeliveryStatus.REJECTED),
                                (Failure.TIMEOUT, DeliveryStatus.RETRY),
                                (Failure.SERVER_ERROR, DeliveryStatus.RETRY)):
            running.emulator.fail(failure)
            result = await channel.send(message_to(kind, addresses[kind]))
            assert result.status is status and result.error, (failure, result)
        running.emulator.fail(None)
