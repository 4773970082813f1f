"""Emulated terminals of a sandbox deployment (port ``emulator``).

The runner puts the terminal's driver's emulator on a pseudo-terminal in its own process and
opens that, so the whole path (driver, line, runner, ledger) is the real one. The emulator
outlives the driver's sessions, as a device outlives its host's restarts. The admin's
emulator page (``/admin/terminals/{id}/emulator``) works the device by hand when the web
site runs in the same process as the worker (``kopilka serve``, ``make run``).

A driver plugin offers an emulator by shipping ``emulator.py`` with
``build_emulator(currency=...)`` next to its ``plugin.py``.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.terminals.emulation import EmulatedDevice

#: terminal id -> (emulator, the open pty's context): this process's emulated devices.
_RUNNING: dict[str, tuple[EmulatedDevice, contextlib.AsyncExitStack, str]] = {}


def emulator_module(platform: Platform, driver: str) -> Any:
    """The ``emulator`` module next to the plugin that registered ``driver``."""
    registry = platform.registry("terminal_drivers")
    plugin = platform.plugins.plugins[registry.owners[driver]]
    package = plugin.module.__name__.rsplit(".", 1)[0]
    try:
        return importlib.import_module(f"{package}.emulator")
    except ModuleNotFoundError:
        raise LookupError(f"driver {driver!r} ships no emulator ({package}.emulator)") from None


async def attach(platform: Platform, terminal_id: str, driver: str, currency: str) -> str:
    """The pty path of the terminal's emulator, started on first use."""
    from plugins.terminals.emulation import serve_pty

    running = _RUNNING.get(terminal_id)
    if running is not None and running[0].name == driver:
        return running[2]
    await detach(terminal_id)
    device = emulator_module(platform, driver).build_emulator(currency=currency)
    stack = contextlib.AsyncExitStack()
    path = await stack.enter_async_context(serve_pty(device))
    _RUNNING[terminal_id] = (device, stack, path)
    return path


def device(terminal_id: str) -> EmulatedDevice | None:
    running = _RUNNING.get(terminal_id)
    return running[0] if running else None


async def detach(terminal_id: str) -> None:
    running = _RUNNING.pop(terminal_id, None)
    if running is not None:
        await running[1].aclose()


async def detach_all() -> None:
    for terminal_id in list(_RUNNING):
        await detach(terminal_id)
