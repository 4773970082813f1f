"""The worker loop that keeps every terminal's line open (``terminals.runner``).

Every worker process runs one :class:`Runner`. Every ``supervise_ms`` it looks for active
terminals no other worker holds, takes their leases and opens a :class:`TerminalLine` for
each; it closes lines whose terminal was switched off or changed (driver, port, currency).

A line opens a driver session and then, every ``poll_interval_ms``:

* lets the device take notes while a customer's kiosk session is open, and stops it when
  the session ends or runs out of time (checked every ``state_check_ms``);
* polls the device; a stacked note is recorded and credited (``Crediting.record_note``)
  *before* it is acknowledged to the device, and marked settled once the device moved on;
  everything else is logged, and faults change the terminal's status;
* renews its lease every ``heartbeat_s`` (which also says "last seen").

When the line fails (the port is gone, the device stops answering, the database is away)
the line records the fault, closes the session, waits (``backoff_initial_ms``, doubling up to
``backoff_max_ms``) and opens it again. A note the device stacked meanwhile is still
reported by the device, unacknowledged, to the next session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from typing import TYPE_CHECKING, Any

from core.contracts.terminals import (
    DeviceState,
    TerminalDriver,
    TerminalEvent,
    TerminalEventKind,
    TerminalLineError,
    TerminalSession,
)
from core.web.i18n import gettext as _
from plugins.terminals import sandbox
from plugins.terminals.crediting import LeaseLost
from plugins.terminals.records import TerminalRecord

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.terminals.service import Terminals
    from plugins.terminals.settings import TerminalsSettings

log = logging.getLogger(__name__)

#: A session that lasted this long resets the backoff: the next failure is a new one.
STABLE_S = 60


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class Runner:
    def __init__(self, platform: Platform, settings: TerminalsSettings, owner: str | None = None) -> None:
        self.platform = platform
        self.settings = settings
        self.owner = owner or worker_name()
        self.lines: dict[str, TerminalLine] = {}

    @property
    def terminals(self) -> Terminals:
        from plugins.terminals.service import Terminals

        return self.platform.service(Terminals)

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: open, watch and close lines; then close them all and let their leases go."""
        try:
            while not stop.is_set():
                try:
                    await self.supervise()
                except Exception:  # the database may be away: try again next round
                    log.exception("terminals runner could not look for terminals")
                await _pause(stop, self.settings.supervise_ms / 1000)
        finally:
            await self.close_all()
            await sandbox.detach_all()

    async def supervise(self) -> None:
        store = self.terminals.store
        wanted = {t.id: t for t in await store.claimable(self.owner)}
        for terminal_id, line in list(self.lines.items()):
            terminal = wanted.get(terminal_id)
            if line.done:
                del self.lines[terminal_id]
            elif terminal is None or terminal.version != line.version:
                await line.close()
                del self.lines[terminal_id]
        drivers = self.platform.registry("terminal_drivers")
        for terminal in wanted.values():
            if terminal.id in self.lines:
                continue
            if terminal.driver not in drivers:
                continue  # its driver plugin is not enabled here; the admin page says so
            claimed = await store.claim(terminal.id, self.owner)
            if claimed is not None:
                line = TerminalLine(self, claimed, drivers.get(claimed.driver))
                line.start()
                self.lines[terminal.id] = line

    async def close_all(self) -> None:
        lines, self.lines = list(self.lines.values()), {}
        await asyncio.gather(*(line.close() for line in lines), return_exceptions=True)


class TerminalLine:
    """One terminal's line, driven by its own task."""

    def __init__(self, runner: Runner, terminal: TerminalRecord, driver: TerminalDriver) -> None:
        self.runner = runner
        self.terminal = terminal
        self.version = terminal.version
        self.driver = driver
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self._failures = 0

    @property
    def done(self) -> bool:
        return self.task is not None and self.task.done()

    @property
    def settings(self) -> TerminalsSettings:
        return self.runner.settings

    def start(self) -> None:
        import contextvars

        self.task = asyncio.get_running_loop().create_task(self.run(), name=f"terminal:{self.terminal.id}",
                                                           context=contextvars.Context())

    async def close(self) -> None:
        self.stopping.set()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self.task), timeout=10)
            if not self.task.done():
                self.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self.task

    async def run(self) -> None:
        terminals = self.runner.terminals
        owner = self.runner.owner
        backoff_ms = self.settings.backoff_initial_ms
        try:
            while not self.stopping.is_set():
                terminal = await terminals.store.claim(self.terminal.id, owner)
                if terminal is None or terminal.version != self.version:
                    return
                self.terminal = terminal
                started = asyncio.get_running_loop().time()
                try:
                    session = await self._open(terminal)
                except (TerminalLineError, LookupError, OSError) as exc:
                    await self._failed(f"{_('cannot open the line')}: {exc}")
                else:
                    try:
                        await self._drive(session)
                        return
                    except LeaseLost:
                        log.info("terminal %s: another worker took the line", terminal.id)
                        return
                    except Exception as exc:  # the line, the device or the database: start over
                        if not isinstance(exc, TerminalLineError):
                            log.exception("terminal %s: session failed", terminal.id)
                        await self._failed(f"{_('line lost')}: {exc}")
                    finally:
                        await session.close()
                    if asyncio.get_running_loop().time() - started > STABLE_S:
                        backoff_ms = self.settings.backoff_initial_ms
                await _pause(self.stopping, backoff_ms / 1000)
                backoff_ms = min(backoff_ms * 2, self.settings.backoff_max_ms)
        finally:
            with contextlib.suppress(Exception):
                await terminals.store.release(self.terminal.id, owner)

    async def _open(self, terminal: TerminalRecord) -> TerminalSession:
        port = terminal.port
        if terminal.emulated:
            port = await sandbox.attach(self.runner.platform, terminal.id, terminal.driver, terminal.currency)
        return await self.driver.open(port, terminal_id=terminal.id, currency=terminal.currency)

    async def _failed(self, detail: str) -> None:
        """Record a line failure (once per run of identical failures) and show the terminal offline."""
        self._failures += 1
        log.warning("terminal %s: %s", self.terminal.id, detail)
        terminals = self.runner.terminals
        with contextlib.suppress(Exception):  # the database may be what failed
            if self._failures == 1 or self._failures % 10 == 0:
                await terminals.crediting.record_line(self.terminal, f"line-{secrets.token_hex(6)}", detail)
            await terminals.store.set_status(self.terminal.id, self.runner.owner, status="offline", detail=detail)

    async def _drive(self, session: TerminalSession) -> None:
        terminals = self.runner.terminals
        owner = self.runner.owner
        terminal = self.terminal
        loop = asyncio.get_running_loop()
        self._failures = 0
        await terminals.store.set_status(terminal.id, owner, status="online", detail="",
                                         device_info={**session.info,
                                                      "denominations": [str(d.amount) for d in session.denominations]})
        await terminals.crediting.record_line(terminal, f"line-{secrets.token_hex(6)}", _("line open"))
        enabled: tuple[Any, ...] | None = None
        first_poll = True
        next_check = next_beat = 0.0
        while not self.stopping.is_set():
            now = loop.time()
            if now >= next_beat:
                claimed = await terminals.store.claim(terminal.id, owner)
                if claimed is None:
                    raise LeaseLost(terminal.id)
                if claimed.version != self.version or not claimed.active:
                    return  # the admin changed the line: the runner opens a new one
                terminal = self.terminal = claimed
                next_beat = now + self.settings.heartbeat_s
            if now >= next_check:
                await terminals.deposits.end_idle(terminal.id)
                customer = await terminals.deposits.current(terminal.id)
                wanted = tuple(terminal.denominations) if customer is not None else ()
                if wanted != enabled:
                    await (session.enable(wanted) if wanted else session.disable())
                    enabled = wanted
                next_check = now + self.settings.state_check_ms / 1000
            events = await session.poll()
            carried = False
            for event in events:
                if event.needs_acknowledgement:
                    carried = carried or event.carried_over
                    await self._note(session, terminal, event)
                    next_check = 0.0  # the session's total and time changed: look again now
                else:
                    await self._event(terminal, event)
            if first_poll:
                first_poll = False
                if not carried:
                    await terminals.crediting.settle_stale(terminal.id)
            await _pause(self.stopping, self.settings.poll_interval_ms / 1000)
        if enabled:
            with contextlib.suppress(TerminalLineError):
                await session.disable()

    async def _note(self, session: TerminalSession, terminal: TerminalRecord, event: TerminalEvent) -> None:
        crediting = self.runner.terminals.crediting
        record = await crediting.record_note(terminal, event, owner=self.runner.owner)
        await session.acknowledge(event)
        await crediting.settle(terminal.id, record.event_id)

    async def _event(self, terminal: TerminalRecord, event: TerminalEvent) -> None:
        terminals = self.runner.terminals
        await terminals.crediting.record_event(terminal, event)
        owner = self.runner.owner
        if event.kind is TerminalEventKind.FAULT:
            await terminals.store.set_status(terminal.id, owner, status="fault", detail=event.detail)
        elif event.kind is TerminalEventKind.STATE and event.detail != DeviceState.POWER_UP:
            await terminals.store.set_status(terminal.id, owner, status="online", detail="",
                                             device_state=event.detail)
