"""Provider emulators inside the platform's own web app (``[platform] sandbox = true``).

A provider plugin that ships an emulator mounts it at ``/sandbox/<provider>/`` in sandbox
mode and, unless its settings name another address, talks to it there: the demo then
runs end to end with no network and no provider account. Tests serve the same emulator
on a loopback port with :class:`LoopbackServer` and point the plugin's ``base_url`` at it::

    @hookimpl
    def routes(platform, settings):
        if settings.base_url or not sandbox.sandbox_on(platform):
            return []
        return [sandbox.mount("mts", MtsEmulator().app())]
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


def sandbox_url(platform: Platform, provider: str) -> str:
    """Where the emulator of ``provider`` answers in this deployment's own app."""
    return f"{platform.core.web.base_url.rstrip('/')}{PREFIX}/{provider}"


def provider_url(platform: Platform, configured: str | None, provider: str, production: str) -> str:
    """The setting, else the sandbox emulator (in sandbox mode), else the provider's production address."""
    if configured:
        return configured.rstrip("/")
    if sandbox_on(platform):
        return sandbox_url(platform, provider)
    return production


def mount(provider: str, app: Any, *, control_permission: str | None = None, **opt: Any) -> Any:
    """A route handler serving an emulator's ASGI app under ``/sandbox/<provider>``.

    With ``control_permission``, the emulator's own pages (``/_emulator...``: what it received,
    one-time codes included) are for users holding it; the provider's API stays open, as the
    platform's own channel calls it.
    """

    # The emulator is the provider's site: its forms and API calls carry no CSRF token of
    # ours, and an "Authorization: Bearer" sent to it is the provider's key, not our API token.
    @asgi(
        f"{PREFIX}/{provider}",
        is_mount=True,
        copy_scope=True,
        include_in_schema=False,
        opt={"csrf_exempt": True, "foreign_credentials": True, **opt},
        name=f"sandbox-{provider}",
    )
    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if control_permission and "/_emulator" in scope["path"]:
            from core.access import requires

            requires(control_permission)(scope, serve)  # raises 401/403 for the app's error handlers
        await app(scope, receive, send)

    return serve


class LoopbackServer:
    """Serve an ASGI app on a loopback port inside the running event loop (tests, emulator commands)."""

    def __init__(self, app: Any, port: int, host: str = "127.0.0.1") -> None:
        import uvicorn

        self.url = f"http://{host}:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_config=None,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=1,
            )
        )
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
