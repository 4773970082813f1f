"""Sandbox mode: provider emulators served by the platform itself.

With ``[platform] sandbox = true`` every provider plugin (payment gateways, KYC checks,
scoring bureaus, messaging) mounts its provider's emulator at ``/sandbox/<provider>/`` and,
unless its settings name another address, talks to it there: the demo works end to end
with no network and no merchant account. Outside the sandbox the same emulators can be
served on a loopback port of their own (:class:`LoopbackServer`, used by tests and by the
plugins' ``emulator`` CLI commands).

This module holds what every provider family shares; the families add their own pieces
(callback addresses for gateways, in-process transports for bureaus).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from litestar import asgi
from litestar.types import Receive, Scope, Send

if TYPE_CHECKING:
    from core.platform import Platform

PREFIX = "/sandbox"


def sandbox_on(platform: Platform) -> bool:
    return bool(platform.core.platform.sandbox)


def sandbox_url(platform: Platform, provider: str) -> str:
    """Where ``provider``'s emulator answers inside this deployment's own site."""
    return f"{platform.core.web.base_url.rstrip('/')}{PREFIX}/{provider}"


def provider_url(platform: Platform, configured: str | None, provider: str, production: str) -> str:
    """A provider's base URL: the setting, else the sandbox emulator (in sandbox mode), else production."""
    if configured:
        return configured.rstrip("/")
    if sandbox_on(platform):
        return sandbox_url(platform, provider)
    return production


def mount(provider: str, app: Any, *, name: str | None = None, opt: dict[str, Any] | None = None,
          control_permission: str | None = None) -> Any:
    """A route handler serving an emulator's ASGI app under ``/sandbox/<provider>``.

    ``app`` is the app itself, or an :class:`EmulatorFinder` that finds it per request (an
    emulator that lives in a registry) and may find none: then the answer is 404.

    With ``control_permission``, the emulator's own pages (``/_emulator...``: what it received,
    one-time codes included) are for users holding it; the provider's API stays open, as the
    platform's own code calls it.
    """

    # The emulator is the provider's site: its forms carry no CSRF token of ours, and an
    # "Authorization: Bearer" sent to it is the provider's key, not one of our API tokens.
    @asgi(f"{PREFIX}/{provider}", is_mount=True, copy_scope=True, include_in_schema=False,
          opt={"csrf_exempt": True, "foreign_credentials": True, **(opt or {})},
          name=name or f"sandbox-{provider}")
    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if control_permission and "/_emulator" in scope["path"]:
            from core.access import requires

            requires(control_permission)(scope, serve)  # raises 401/403 for the app's error handlers
        target = app(scope) if isinstance(app, EmulatorFinder) else app
        if target is None:
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": f"no sandbox emulator for {provider}".encode()})
            return
        await target(scope, receive, send)

    return serve


class EmulatorFinder:
    """Wrap a function of the request scope that finds an emulator's app (see :func:`mount`)."""

    def __init__(self, find: Callable[[Scope], Any]) -> None:
        self.find = find

    def __call__(self, scope: Scope) -> Any:
        return self.find(scope)


def warn_if_test_credentials(platform: Platform, plugin: str, test_credentials: bool) -> None:
    """Public test credentials are right for the sandbox and wrong anywhere else: say so loudly."""
    if test_credentials and not sandbox_on(platform):
        logging.getLogger("kopilka.sandbox").warning(
            "%s uses the provider's public test credentials while the sandbox is off: "
            "set the real ones in [plugins.\"%s\"]", plugin, plugin)


class LoopbackServer:
    """Serve an ASGI app on a loopback port inside the running event loop (tests, ``emulator`` commands).

    Use ``await server.start()`` / ``await server.stop()``, or ``async with``.
    """

    def __init__(self, app: Any, port: int, host: str = "127.0.0.1") -> None:
        import uvicorn

        self.url = f"http://{host}:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None,
                                                    log_level="warning", access_log=False, lifespan="off"))
        self._task: asyncio.Task[Any] | None = None

    async def start(self) -> LoopbackServer:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it (the port is taken...)
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task

    async def __aenter__(self) -> LoopbackServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
