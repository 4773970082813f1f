"""Sandbox mode: provider emulators served inside the platform's own web app.

With ``[platform] sandbox = true`` each gateway plugin mounts its provider's emulator at
``/sandbox/<provider>/`` and, unless its settings name another URL, talks to it there.
A new user of the demo can then top up in the browser, end to end, with no network and
no merchant account. ``kopilka payments emulator <provider> --port N`` serves one
emulator on its own instead (point the gateway's ``api_url`` at it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import asgi
from litestar.types import Receive, Scope, Send

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.payments.emulation import ProviderEmulator

PREFIX = "/sandbox"


def sandbox_on(platform: Platform) -> bool:
    return bool(platform.core.platform.sandbox)


def sandbox_url(platform: Platform, provider: str) -> str:
    return f"{platform.core.web.base_url.rstrip('/')}{PREFIX}/{provider}"


def provider_url(platform: Platform, configured: str | None, provider: str, production: str) -> str:
    """The provider's base URL: the setting, else the sandbox emulator (in sandbox mode), else production."""
    if configured:
        return configured.rstrip("/")
    if sandbox_on(platform):
        return sandbox_url(platform, provider)
    return production


def callback_url(platform: Platform, gateway: str) -> str:
    """Where providers post callbacks for ``gateway`` (for emulators that need it configured)."""
    from plugins.payments.service import CALLBACK_PATH

    return platform.core.web.base_url.rstrip("/") + CALLBACK_PATH.format(gateway=gateway)


def mount(provider: str, emulator: ProviderEmulator) -> Any:
    """A route handler serving ``emulator`` under ``/sandbox/<provider>``."""
    app = emulator.app()

    # The emulator is the provider's site: its forms are not ours, so no CSRF token.
    @asgi(f"{PREFIX}/{provider}", is_mount=True, copy_scope=True, include_in_schema=False,
          opt={"csrf_exempt": True, "emulator": emulator}, name=f"sandbox-{provider}")
    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)
    return serve


def warn_if_test_credentials(platform: Platform, plugin: str, test_credentials: bool) -> None:
    """Public test credentials are right for the sandbox and wrong anywhere else: say so loudly."""
    if test_credentials and not sandbox_on(platform):
        import logging

        logging.getLogger("kopilka.payments").warning(
            "%s uses the provider's public test credentials while the sandbox is off: "
            "set the merchant's own in [plugins.\"%s\"]", plugin, plugin)
