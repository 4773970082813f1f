"""Sandbox mode: each provider talks to its emulator in-process, and the emulator is on show.

With ``[platform] sandbox = true`` and no ``api_url`` in a provider plugin's settings, the
provider's calls go straight into its emulator's ASGI app (no port, no network: the demo
and ``kopilka demo load`` work anywhere), and the same emulator is mounted at
``/sandbox/<provider>/`` so its state can be looked at (``/sandbox/ubki/_emulator``).
``kopilka scoring emulator <provider> --port N`` serves one on a loopback port instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from litestar.types import Scope

from core import sandbox
from core.sandbox import PREFIX, sandbox_on, warn_if_test_credentials

__all__ = ["PREFIX", "InProcessTransport", "base_url", "mount", "sandbox_on", "warn_if_test_credentials"]


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

    def find(scope: Scope) -> Any:
        registered = scope["app"].state.platform.registry("scoring_providers").get(provider)
        emulator = getattr(registered, "emulator", None)  # None: the provider was pointed at a real address
        return emulator.app() if emulator is not None else None

    return sandbox.mount(provider, sandbox.EmulatorFinder(find), name=f"sandbox-scoring-{provider}")
