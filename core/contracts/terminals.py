"""Cash-terminal drivers: bill validators on serial lines (``register_terminal_drivers``).

A driver speaks one device protocol (CashCode CCNET, JCM ID-003...). It owns nothing
else: the ``terminals`` plugin keeps one session per terminal open in the worker, decides
when the device may take notes, turns every stacked note into one ledger transfer, and
records faults.

The exactly-once rule is shared between them:

* a driver reports a note in the cash box as a :attr:`TerminalEventKind.STACKED` event and
  keeps reporting it, with the same ``event_id``, on every :meth:`TerminalSession.poll`
  until the host calls :meth:`TerminalSession.acknowledge`. Only then does it tell the
  device the event was received (CCNET: the ACK of the poll reply; ID-003: the ACK of VEND
  VALID). Until then the device repeats the event, also to the next session if the host
  dies: nothing the device reported is lost;
* the host records the note (and its ledger transfer, whose id derives from the terminal
  and the event) before it acknowledges, so a repeated report never credits twice;
* a driver marks an event the device was already reporting when the session opened as
  ``carried_over``: it may be the one the previous session recorded but could not
  acknowledge, and the host, which knows, gives it that event's id.

Device faults (a jam, the cash box out) are events. A failure of the line itself (no
answer, garbage, the port gone) raises :class:`TerminalLineError`; the host closes the
session and opens a new one after a pause.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from core.money import Money


class TerminalLineError(Exception):
    """The serial line or the device's side of it failed: no reply, a corrupt frame, the port gone."""


class TerminalEventKind(StrEnum):
    STACKED = "stacked"        # a note went into the cash box: money to credit
    RETURNED = "returned"      # a note was given back to the customer
    REJECTED = "rejected"      # a note was refused (``detail``: why)
    FAULT = "fault"            # the device cannot take notes (``detail``: a :class:`Fault`)
    STATE = "state"            # the device changed state (``detail``: a :class:`DeviceState`)


class DeviceState(StrEnum):
    """Ordinary states a driver reports in STATE events (a device fault ends with one of these)."""

    POWER_UP = "power_up"
    INITIALISING = "initialising"
    DISABLED = "disabled"      # not taking notes (the host said so)
    IDLE = "idle"              # waiting for a note
    ACCEPTING = "accepting"
    ESCROW = "escrow"          # a note is held; the driver stacks it or gives it back
    STACKING = "stacking"
    RETURNING = "returning"
    HOLDING = "holding"
    BUSY = "busy"


class Fault(StrEnum):
    """Why a device cannot take notes, as FAULT events report it."""

    CASSETTE_FULL = "cassette_full"
    CASSETTE_REMOVED = "cassette_removed"
    JAMMED = "jammed"                    # a note is stuck in the validator
    CASSETTE_JAMMED = "cassette_jammed"
    CHEATED = "cheated"                  # someone pulled a note back on a string, or the like
    PAUSED = "paused"                    # a second note pushed in while the first was taken
    FAILURE = "failure"                  # a motor, sensor or the like (``detail``: failure:<code>)
    #: The device lost power with a note between the head and the cash box. It may be in the
    #: box without a STACKED report: count the box at the next collection.
    POWER_UP_NOTE_IN_STACKER = "power_up_note_in_stacker"
    POWER_UP_NOTE_IN_VALIDATOR = "power_up_note_in_validator"


@dataclass(frozen=True)
class TerminalEvent:
    """Something the device reported.

    Attributes:
        kind: what happened.
        event_id: the driver's id of the event, the same on every report of one device event
            (a repeated STACKED keeps it); unique within the session.
        amount: the note's value for STACKED, RETURNED and (when known) REJECTED events.
        detail: a :class:`DeviceState` for STATE events, a :class:`Fault` (possibly with
            ``:<code>``) for FAULT events, the reason for REJECTED events.
        carried_over: the device was already reporting it when this session opened.
    """

    kind: TerminalEventKind
    event_id: str
    amount: Money | None = None
    detail: str = ""
    carried_over: bool = False

    @property
    def needs_acknowledgement(self) -> bool:
        return self.kind is TerminalEventKind.STACKED


@runtime_checkable
class TerminalSession(Protocol):
    """One open line to one device. Methods are called from one task, one at a time."""

    #: What the device says it is: ``{"model": ..., "serial": ..., "firmware": ...}``.
    info: Mapping[str, str]
    #: The notes the device knows (its bill table), in the terminal's currency.
    denominations: Sequence[Money]

    async def enable(self, accept: Sequence[Money]) -> None:
        """Take these notes (others are given back); raise :class:`TerminalLineError` if the line fails."""
        ...

    async def disable(self) -> None:
        """Take no notes; a note already held in escrow is given back."""
        ...

    async def poll(self) -> Sequence[TerminalEvent]:
        """Ask the device what happened since the last poll (call every 100–200 ms)."""
        ...

    async def acknowledge(self, event: TerminalEvent) -> None:
        """The host has recorded ``event``: tell the device, so it stops repeating it."""
        ...

    async def close(self) -> None:
        """Release the line (never raises)."""
        ...


@runtime_checkable
class TerminalDriver(Protocol):
    #: Unique among the deployment's drivers, e.g. ``"ccnet"``; terminals name their driver by it.
    name: str
    #: For people: ``"CashCode CCNET"``.
    title: str

    async def open(self, port: str, *, terminal_id: str, currency: str) -> TerminalSession:
        """Open ``port`` (a device path or a pyserial URL such as ``socket://host:port``), bring the
        device up (reset, read its bill table) and return a session with the device disabled.

        ``currency`` is the terminal's: the notes the device reports are in it.
        """
        ...

