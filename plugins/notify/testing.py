"""Test helpers for messaging providers: each provider's emulator on a loopback port.

Used by the channel contract suite (``tests/notifications/test_channel_contract.py``) and
the providers' own tests; a third-party channel plugin adds its :class:`EmulatedProvider`
to :data:`PROVIDERS` to run the suite too::

    async with serve(PROVIDERS["notify.mts"]) as running:
        platform = await make_platform([running.plugin], settings=running.settings())
        channel = platform.registry("notification_channels").get("mts")
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from core.sandbox import LoopbackServer
from core.testing import free_port
from plugins.notify.emulation import MessagingEmulator

#: Seconds a channel waits in tests, and the emulator's stall in the timeout mode (longer).
TEST_TIMEOUT_S = 0.3
TEST_STALL_S = 0.8


@dataclass(frozen=True)
class EmulatedProvider:
    """A channel plugin, its emulator, and the settings that point one at the other."""

    plugin: str
    channel: str
    emulator: Callable[..., MessagingEmulator]
    #: The plugin's settings besides ``base_url`` and ``timeout_s`` (or a function making them).
    settings: dict[str, Any] | Callable[[], dict[str, Any]] = field(default_factory=dict)
    #: Address kind -> an address the emulator accepts.
    addresses: dict[str, str] = field(default_factory=dict)
    #: Makes addresses that need data first (a push address needs a user with a device).
    prepare: Callable[[Any], Awaitable[dict[str, str]]] | None = None


@dataclass
class RunningProvider:
    provider: EmulatedProvider
    emulator: MessagingEmulator
    url: str

    @property
    def plugin(self) -> str:
        return self.provider.plugin

    async def addresses(self, platform: Any) -> dict[str, str]:
        """Address kind -> an address the channel can deliver to on ``platform``."""
        if self.provider.prepare is not None:
            return await self.provider.prepare(platform)
        return dict(self.provider.addresses)

    def settings(self, **changes: Any) -> dict[str, dict[str, Any]]:
        own = self.provider.settings
        values = {"base_url": self.url, "timeout_s": TEST_TIMEOUT_S, **(own() if callable(own) else own), **changes}
        return {self.provider.plugin: values}


@contextlib.asynccontextmanager
async def serve(provider: EmulatedProvider, **emulator_options: Any) -> AsyncIterator[RunningProvider]:
    emulator = provider.emulator(stall_s=TEST_STALL_S, **emulator_options)
    async with LoopbackServer(emulator.app(), free_port()) as server:
        yield RunningProvider(provider, emulator, server.url)


#: The registration token :func:`user_with_a_device` registers.
PUSH_DEVICE_TOKEN = "emulated-device-token-0001"


async def user_with_a_device(platform: Any, token: str = PUSH_DEVICE_TOKEN) -> dict[str, str]:
    """A new user with one Android device registered for push; returns their push address."""
    from core.users.testing import make_user
    from plugins.notify.fcm.channel import push_address
    from plugins.notify.fcm.devices import PushDevices

    user = await make_user(platform)
    await platform.service(PushDevices).register(user.id, token, "android")
    return {"push": push_address(user.id).value}


def fcm_credentials() -> dict[str, Any]:
    """notify.fcm's settings for the emulator's default account (the sandbox's)."""
    from plugins.notify.fcm.auth import sandbox_account

    return {"service_account": sandbox_account().to_json()}


def _providers() -> dict[str, EmulatedProvider]:
    from plugins.notify.esputnik.emulator import SANDBOX_KEY as ESPUTNIK_KEY
    from plugins.notify.esputnik.emulator import EsputnikEmulator
    from plugins.notify.fcm.emulator import FcmEmulator
    from plugins.notify.mts.emulator import SANDBOX_KEY as MTS_KEY
    from plugins.notify.mts.emulator import MtsEmulator
    from plugins.notify.sendsay.emulator import SANDBOX_LOGIN, SANDBOX_PASSWORD, SendsayEmulator

    found = [
        EmulatedProvider("notify.mts", "mts", MtsEmulator, {"api_key": MTS_KEY}, {"phone": "+79990000000"}),
        EmulatedProvider("notify.sendsay", "sendsay", SendsayEmulator,
                         {"login": SANDBOX_LOGIN, "password": SANDBOX_PASSWORD}, {"email": "ann@example.com"}),
        EmulatedProvider("notify.esputnik", "esputnik", EsputnikEmulator, {"api_key": ESPUTNIK_KEY},
                         {"phone": "+380501234567", "email": "ann@example.com"}),
        # A push address is a user id: the suite registers a device for it (see PUSH_DEVICE_TOKEN).
        EmulatedProvider("notify.fcm", "fcm", FcmEmulator, fcm_credentials, prepare=user_with_a_device),
    ]
    return {p.plugin: p for p in found}


#: Every provider plugin shipped here, by plugin name.
PROVIDERS: dict[str, EmulatedProvider] = _providers()
