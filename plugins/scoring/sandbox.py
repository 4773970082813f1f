"""Sandbox mode: each provider talks to its emulator in-process, and the emulator is on show.

With ``[platform] sandbox = true`` and no ``api_url`` in a provider plugin's settings, the
provider's calls go straight into its emulator's ASGI app (no port, no network: the demo
and ``kopilka demo load`` work anywhere), and the same emulator is mounted at
``/sandbox/<provider>/`` so its state can be looked at (``/sandbox/ubki/_emulator``).
``kopilka scoring emulator <provider> --port N`` serves one on a loopback port instead.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import httpx
from litestar import asgi
from litestar.types import Receive, Scope, Send

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.scoring.emulation import ProviderEmulator

PREFIX = "/sandbox"

log = logging.getLogger("kopilka.scoring")


def sandbox_on(platform: Platform) -> bool:
    return bool(platform.core.platform.sandbox)


def base_url(provider: str) -> str:
    """The address providers use for their in-process emulator (never resolved)."""
    return f"http://{provider}.sandbox.invalid"


class InProcessTransport(httpx.AsyncBaseTransport):
    """An ASGI transport that honours the client's read timeout, as a network would."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app, client=("127.0.0.1", 40100))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = (request.extensions.get("timeout") or {}).get("read")
        try:
            async with asyncio.timeout(timeout):
                return await self.inner.handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout(f"no answer within {timeout} s", request=request) from None


def mount(provider: str) -> Any:
    """A route serving ``provider``'s emulator under ``/sandbox/<provider>`` (found at request time)."""

    @asgi(f"{PREFIX}/{provider}", is_mount=True, copy_scope=True, include_in_schema=False,
          opt={"csrf_exempt": True}, name=f"sandbox-scoring-{provider}")
    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        platform = scope["app"].state.platform
        emulator: ProviderEmulator | None = getattr(platform.registry("scoring_providers").get(provider),
                                                    "emulator", None)
        if emulator is None:  # the provider was pointed at a real address: nothing to show
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"no sandbox emulator for this provider"})
            return
        await emulator.app()(scope, receive, send)

    return serve


def warn_if_test_credentials(platform: Platform, plugin: str, test_credentials: bool) -> None:
    """The sandbox credentials are right for the sandbox and wrong anywhere else: say so loudly."""
    if test_credentials and not sandbox_on(platform):
        log.warning("%s uses the sandbox credentials while the sandbox is off: set the real ones in "
                    "[plugins.\"%s\"]", plugin, plugin)
