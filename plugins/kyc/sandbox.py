"""Provider emulators inside the platform's own web app (``[platform] sandbox = true``).

In the sandbox each check that asks a provider mounts the provider's emulator at
``/sandbox/<provider>/`` and talks to it there, unless its settings name another address,
so the demo verifies customers with no network. ``kopilka kyc emulator <provider>`` serves
an emulator on its own port instead; tests use :class:`LoopbackServer`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from litestar import asgi
from litestar.types import Receive, Scope, Send

if TYPE_CHECKING:
    from core.platform import Platform

PREFIX = "/sandbox"


def sandbox_on(platform: Platform) -> bool:
    return bool(platform.core.platform.sandbox)


def provider_url(platform: Platform, configured: str | None, provider: str, production: str) -> str:
    """The setting, else the sandbox emulator (in sandbox mode), else the provider's production address."""
    if configured:
        return configured.rstrip("/")
    if sandbox_on(platform):
        return f"{platform.core.web.base_url.rstrip('/')}{PREFIX}/{provider}"
    return production


def mount(provider: str, app: Any) -> Any:
    """A route handler serving an emulator's ASGI app under ``/sandbox/<provider>``."""

    # The emulator is the provider's site: its forms carry no CSRF token of ours.
    @asgi(f"{PREFIX}/{provider}", is_mount=True, copy_scope=True, include_in_schema=False,
          opt={"csrf_exempt": True}, name=f"sandbox-{provider}")
    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)

    return serve


class LoopbackServer:
    """Serve an ASGI app on a loopback port inside the running event loop (tests, ``kopilka kyc emulator``)."""

    def __init__(self, app: Any, port: int, host: str = "127.0.0.1") -> None:
        import uvicorn

        self.url = f"http://{host}:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None,
                                                    log_level="warning", access_log=False, lifespan="off"))
        self._task: asyncio.Task[Any] | None = None

    async def __aenter__(self) -> LoopbackServer:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it (the port is taken...)
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task
