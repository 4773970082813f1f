"""Sandbox mode: provider emulators served inside the platform's own web app.

With ``[platform] sandbox = true`` each gateway plugin mounts its provider's emulator at
``/sandbox/<provider>/`` and, unless its settings name another URL, talks to it there.
A new user of the demo can then top up in the browser, end to end, with no network and
no merchant account. ``kopilka payments emulator <provider> --port N`` serves one
emulator on its own instead (point the gateway's ``api_url`` at it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import sandbox
from core.sandbox import PREFIX, provider_url, sandbox_on, sandbox_url, warn_if_test_credentials

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.payments.emulation import ProviderEmulator

__all__ = ["PREFIX", "callback_url", "mount", "provider_url", "sandbox_on", "sandbox_url", "warn_if_test_credentials"]


def callback_url(platform: Platform, gateway: str) -> str:
    """Where providers post callbacks for ``gateway`` (for emulators that need it configured)."""
    from plugins.payments.service import CALLBACK_PATH

    return platform.core.web.base_url.rstrip("/") + CALLBACK_PATH.format(gateway=gateway)


def mount(provider: str, emulator: ProviderEmulator) -> Any:
    """A route handler serving ``emulator`` under ``/sandbox/<provider>`` (the route's opt names it)."""
    return sandbox.mount(provider, emulator.app(), opt={"emulator": emulator})
