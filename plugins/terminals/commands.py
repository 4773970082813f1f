"""``kopilka terminals``: an emulated bill validator for a sandbox, and the terminals' state."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from typing import Any

import click

from core.cli import PlatformContext, pass_context


@click.group("terminals")
def terminals() -> None:
    """Cash terminals: device emulators and the terminals' state."""


def driver_emulators() -> dict[str, str]:
    """Driver name -> package of its plugin, for the driver plugins this installation has (terminals.<driver>)."""
    from core.plugins import available_plugins

    return {name.split(".", 1)[1]: path.rsplit(".", 1)[0] for name, path in available_plugins().items()
            if name.startswith("terminals.")}


@terminals.command("emulator")
@click.argument("driver")
@click.option("--link", default=None, help="Make the emulator's line available at this path (a symlink to a "
                                           "new pseudo-terminal); register the terminal with this port.")
@click.option("--device", default=None, help="Answer on this existing tty instead (one end of a socat pair, "
                                             "or a USB-serial adapter cabled to the host).")
@click.option("--listen", default=None, help="Answer on a TCP port instead, HOST:PORT (port socket://HOST:PORT).")
@click.option("--currency", default="RUB", show_default=True, help="Currency of the device's notes.")
def emulator_command(driver: str, link: str | None, device: str | None, listen: str | None, currency: str) -> None:
    """Run DRIVER's bill-validator emulator (ccnet, id003) until Ctrl-C.

    Type commands to work it: insert 100, fake, jam, clear, remove, replace, full,
    power stacker, lose-acks 1, mute, unmute, status (help lists them).
    """
    import importlib

    from plugins.terminals import emulation

    packages = driver_emulators()
    if driver not in packages:
        raise click.BadParameter(f"unknown driver {driver!r}; known: {', '.join(sorted(packages))}",
                                 param_hint="DRIVER")
    if sum(x is not None for x in (link, device, listen)) > 1:
        raise click.UsageError("give one of --link, --device and --listen")
    emulator = importlib.import_module(f"{packages[driver]}.emulator").build_emulator(currency=currency.upper())

    async def serve() -> None:
        if device:
            line = emulation.serve_device_path(emulator, device)
        elif listen:
            host, _, port = listen.rpartition(":")
            if not port.isdigit():
                raise click.BadParameter("HOST:PORT", param_hint="--listen")
            line = emulation.serve_tcp(emulator, host or "127.0.0.1", int(port))
        else:
            line = emulation.serve_pty(emulator, link)
        async with line as where:
            click.echo(f"{emulator.title} on {where}; type 'help' for commands, Ctrl-C to stop", err=True)
            await _console(emulator)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


async def _console(device: Any) -> None:
    """Carry out commands typed on stdin until a signal; without a console, just keep serving.

    stdin is watched by the event loop, not read in a thread: a thread blocked on it would keep
    the process alive after Ctrl-C or SIGTERM.
    """
    from plugins.terminals.emulation import run_command

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    fd = sys.stdin.fileno()
    pending = bytearray()

    def readable() -> None:
        try:
            data = os.read(fd, 1024)
        except BlockingIOError:
            return
        if not data:  # the console closed: the line keeps being served
            loop.remove_reader(fd)
            return
        pending.extend(data)
        while b"\n" in pending:
            line, _, rest = bytes(pending).partition(b"\n")
            pending[:] = rest
            said = run_command(device, line.decode("utf-8", "replace").strip())
            if said:
                click.echo(said)

    with contextlib.suppress(OSError, ValueError):  # no usable stdin (a service manager's /dev/null is fine)
        os.set_blocking(fd, False)
        loop.add_reader(fd, readable)
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(OSError, ValueError):
            loop.remove_reader(fd)


@terminals.command("list")
@pass_context
def list_command(pctx: PlatformContext) -> None:
    """Every terminal: its status, device state and the cash in its box."""
    from plugins.terminals.service import Terminals

    async def work(platform: Any) -> list[Any]:
        return await platform.service(Terminals).overview()

    for view in pctx.run(work):
        t = view.terminal
        click.echo(f"{t.id}\t{'online' if view.online else 'offline'}\t{t.status}\t{t.device_state or '-'}\t"
                   f"{view.cash_in_box}\t{t.driver} {t.port}\t{t.location}")
