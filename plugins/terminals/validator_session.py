"""The part of a bill-validator session every protocol shares.

A protocol subclass knows how to ask the device for its status and what the answer means
(a :class:`Reading`); this class turns readings into :class:`TerminalEvent`\\ s, keeps a note
in the cash box reported (same ``event_id``) until the host acknowledges it, decides what
to do with a note in escrow, brings the device up again after a power cut, and reports
state changes once rather than on every poll.

The acknowledgement is the exactly-once hinge. :meth:`acknowledge` returns only when the
device has stopped reporting the note, i.e. it heard the acknowledgement: the host may then
mark the note settled. A note the device reports at the very first status request of a
session is ``carried_over`` (the previous session may have recorded it already).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from core.contracts.terminals import DeviceState, Fault, TerminalEvent, TerminalEventKind, TerminalLineError
from core.money import Money
from plugins.terminals.serial_line import FrameFormat, SerialLine

STATE = TerminalEventKind.STATE
FAULT = TerminalEventKind.FAULT

#: How many status requests :meth:`ValidatorSession.acknowledge` makes before it gives up.
ACK_ATTEMPTS = 10


@dataclass(frozen=True)
class Reading:
    """One status reply, in protocol-neutral words.

    ``kind``: "state" (``detail`` a DeviceState), "fault" (a Fault), "escrow", "stacked",
    "returned", "rejected", or "power_up" (``detail``: "", "validator" or "stacker").
    """

    kind: str
    detail: str = ""
    note: Money | None = None
    raw: bytes = b""


class ValidatorSession:
    """Shared session logic; subclasses implement the ``_``-prefixed protocol steps."""

    #: Pause between status requests while the device starts up.
    startup_pause_s = 0.05
    #: Give up bringing the device up after this long.
    startup_timeout_s = 15.0

    def __init__(self, line: SerialLine, terminal_id: str, currency: str) -> None:
        self.line = line
        self.terminal_id = terminal_id
        self.currency = currency
        self.info: dict[str, str] = {}
        self.denominations: tuple[Money, ...] = ()
        # 64 random bits: ids must never repeat across the sessions of a terminal's lifetime.
        self._key = secrets.token_hex(8)
        self._counter = 0
        self._accept: frozenset[Money] = frozenset()
        self._pending: TerminalEvent | None = None
        self._backlog: list[TerminalEvent] = []
        self._last: tuple[str, str] | None = None
        self._needs_start = True

    # -- what protocols implement -----------------------------------------------------------------

    async def _status(self) -> Reading:
        """Ask for the device's status (do not acknowledge it)."""
        raise NotImplementedError

    async def _acknowledge_status(self, reading: Reading) -> None:
        """Tell the device its (not "stacked") status reply arrived, where the protocol wants that."""

    async def _acknowledge_stacked(self, reading: Reading) -> None:
        """Tell the device the host has the note it reports as stacked."""
        raise NotImplementedError

    async def _identify(self) -> None:
        """Read what the device is and which notes it knows, without changing its state (before the
        first status request, so that a note carried over has a value where the protocol allows)."""

    async def _start_device(self) -> None:
        """Reset the device and read what it is and which notes it knows; fill info and denominations."""
        raise NotImplementedError

    async def _set_enabled(self, accept: frozenset[Money]) -> None:
        raise NotImplementedError

    async def _stack(self) -> None:
        raise NotImplementedError

    async def _return(self) -> None:
        raise NotImplementedError

    # -- the session --------------------------------------------------------------------------------

    def _event(self, kind: TerminalEventKind, amount: Money | None = None, detail: str = "",
               carried_over: bool = False) -> TerminalEvent:
        self._counter += 1
        return TerminalEvent(kind, f"{self._key}-{self._counter}", amount, detail, carried_over)

    async def begin(self) -> None:
        """The first status request of the session, then the device's start-up (driver.open calls it)."""
        await self._identify()
        reading = await self._status()
        if reading.kind == "stacked":
            # A note the device still reports from before: it must be settled before a reset,
            # which would make the device forget it.
            self._pending = self._event(TerminalEventKind.STACKED, reading.note, reading.detail, carried_over=True)
            self._backlog.append(self._pending)
            return
        await self._acknowledge_status(reading)
        self._backlog += await self._interpret(reading)
        await self._start()

    async def _start(self) -> None:
        await self._start_device()
        self._needs_start = False
        self._last = None
        deadline = asyncio.get_running_loop().time() + self.startup_timeout_s
        while True:  # until the device has finished initialising
            reading = await self._status()
            if reading.kind == "stacked":
                raise TerminalLineError("the device reports a stacked note right after a reset")
            await self._acknowledge_status(reading)
            if reading.kind == "power_up":
                raise TerminalLineError("the device did not take the reset")
            events = await self._interpret(reading)
            self._backlog += events
            if reading.kind != "state" or reading.detail not in (DeviceState.INITIALISING, DeviceState.POWER_UP,
                                                                   DeviceState.BUSY):
                break
            if asyncio.get_running_loop().time() > deadline:
                raise TerminalLineError(f"the device was still initialising after {self.startup_timeout_s:.0f} s")
            await asyncio.sleep(self.startup_pause_s)
        await self._set_enabled(self._accept)

    async def enable(self, accept: Sequence[Money]) -> None:
        self._accept = frozenset(a for a in accept if a.currency == self.currency)
        if not self._needs_start:
            await self._set_enabled(self._accept)

    async def disable(self) -> None:
        await self.enable(())

    async def poll(self) -> list[TerminalEvent]:
        events, self._backlog = self._backlog, []
        if self._needs_start and self._pending is None:
            await self._start()
            events += self._backlog
            self._backlog = []
        reading = await self._status()
        if reading.kind == "stacked":
            if self._pending is None:
                self._pending = self._event(TerminalEventKind.STACKED, reading.note, reading.detail)
            return [*events, self._pending] if self._pending not in events else events
        await self._acknowledge_status(reading)
        events += await self._interpret(reading)
        if self._pending is not None and self._pending not in events:
            events.append(self._pending)  # reported until the host acknowledges it
        return events

    async def acknowledge(self, event: TerminalEvent) -> None:
        if self._pending is None or event.event_id != self._pending.event_id:
            return
        for _ in range(ACK_ATTEMPTS):
            reading = await self._status()
            if reading.kind == "stacked":
                await self._acknowledge_stacked(reading)
                continue
            await self._acknowledge_status(reading)
            self._pending = None
            if reading.kind != "escrow":
                # A next note already in escrow waits for the next poll. Stacking it now, before the
                # host has marked this one settled, would let a crash in between pass the new note
                # off, in the next session, as this one carried over: it would never be credited.
                self._backlog += await self._interpret(reading)
            return
        raise TerminalLineError("the device keeps reporting a note after it was acknowledged")

    async def close(self) -> None:
        await self.line.close()

    # -- what readings mean ---------------------------------------------------------------------------

    def _changed(self, kind: str, detail: str) -> bool:
        if self._last == (kind, detail):
            return False
        self._last = (kind, detail)
        return True

    async def _interpret(self, reading: Reading) -> list[TerminalEvent]:
        kind, detail = reading.kind, reading.detail
        if kind == "power_up":
            self._needs_start = True  # the device forgot its settings: bring it up again
            events = []
            if self._changed(kind, detail):
                events.append(self._event(STATE, detail=DeviceState.POWER_UP))
                if detail == "stacker":
                    events.append(self._event(FAULT, detail=Fault.POWER_UP_NOTE_IN_STACKER))
                elif detail == "validator":
                    events.append(self._event(FAULT, detail=Fault.POWER_UP_NOTE_IN_VALIDATOR))
            return events
        if kind == "escrow":
            if reading.note is not None and reading.note in self._accept:
                await self._stack()
            else:
                await self._return()
            return [self._event(STATE, reading.note, DeviceState.ESCROW)] if self._changed(kind, detail) else []
        if kind == "returned":
            return [self._event(TerminalEventKind.RETURNED, reading.note)] if self._changed(kind, detail) else []
        if kind == "rejected":
            return ([self._event(TerminalEventKind.REJECTED, reading.note, detail)]
                    if self._changed(kind, detail) else [])
        if kind == "fault":
            return [self._event(FAULT, detail=detail)] if self._changed(kind, detail) else []
        return [self._event(STATE, detail=detail)] if self._changed(kind, detail) else []


class SerialDriver:
    """A driver whose sessions are a :class:`ValidatorSession` subclass on one :class:`SerialLine`."""

    name = ""
    title = ""
    frame: FrameFormat
    parity = "N"
    session_class: type[ValidatorSession]

    def __init__(self, *, baudrate: int = 9600, reply_timeout_s: float = 0.3) -> None:
        self.baudrate = baudrate
        self.reply_timeout_s = reply_timeout_s

    async def open(self, port: str, *, terminal_id: str, currency: str) -> ValidatorSession:
        line = SerialLine(port, self.frame, baudrate=self.baudrate, parity=self.parity,
                          reply_timeout_s=self.reply_timeout_s)
        await line.open()
        session = self.session_class(line, terminal_id, currency)
        try:
            await session.begin()
        except BaseException:
            await line.close()
            raise
        return session
