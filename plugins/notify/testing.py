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
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from core.testing import free_port
from core.web.sandbox import LoopbackServer
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
    #: The plugin's settings besides ``base_url`` and ``timeout_s``.
    settings: dict[str, Any] = field(default_factory=dict)
    #: Address kind -> an address the emulator accepts.
    addresses: dict[str, str] = field(default_factory=dict)


@dataclass
class RunningProvider:
    provider: EmulatedProvider
    emulator: MessagingEmulator
    url: str

    @property
    def plugin(self) -> str:
        return self.provider.plugin

    def settings(self, **changes: Any) -> dict[str, dict[str, Any]]:
        values = {"base_url": self.url, "timeout_s": TEST_TIMEOUT_S, **self.provider.settings, **changes}
        return {self.provider.plugin: values}


@contextlib.asynccontextmanager
async def serve(provider: EmulatedProvider, **emulator_options: Any) -> AsyncIterator[RunningProvider]:
    emulator = provider.emulator(stall_s=TEST_STALL_S, **emulator_options)
    async with LoopbackServer(emulator.app(), free_port()) as server:
        yield RunningProvider(provider, emulator, server.url)


def _providers() -> dict[str, EmulatedProvider]:
    from plugins.notify.mts.emulator import SANDBOX_KEY as MTS_KEY
    from plugins.notify.mts.emulator import MtsEmulator

    from plugins.notify.sendsay.emulator import SANDBOX_LOGIN, SANDBOX_PASSWORD, SendsayEmulator

    from plugins.notify.esputnik.emulator import SANDBOX_KEY as ESPUTNIK_KEY
    from plugins.notify.esputnik.emulator import EsputnikEmulator

    found = [
        EmulatedProvider("notify.mts", "mts", MtsEmulator, {"api_key": MTS_KEY}, {"phone": "+79990000000"}),
        EmulatedProvider("notify.sendsay", "sendsay", SendsayEmulator,
                         {"login": SANDBOX_LOGIN, "password": SANDBOX_PASSWORD}, {"email": "ann@example.com"}),
        EmulatedProvider("notify.esputnik", "esputnik", EsputnikEmulator, {"api_key": ESPUTNIK_KEY},
                         {"phone": "+380501234567", "email": "ann@example.com"}),
    ]
    return {p.plugin: p for p in found}


#: Every provider plugin shipped here, by plugin name.
PROVIDERS: dict[str, EmulatedProvider] = _providers()
