"""Cash-terminal drivers: bill validators and coin acceptors on serial lines (``register_terminal_drivers``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from core.money import Money


class TerminalEventKind(StrEnum):
    STACKED = "stacked"        # a note was accepted into the cash box: money to credit
    RETURNED = "returned"      # a note was given back
    REJECTED = "rejected"      # a note was refused
    FAULT = "fault"            # jammed, cash box out, cheated
    STATE = "state"            # idle, disabled, initialising...


@dataclass(frozen=True)
class TerminalEvent:
    kind: TerminalEventKind
    #: Unique per terminal and event, so re-reading the line never credits twice.
    event_id: str
    amount: Money | None = None
    detail: str = ""


@runtime_checkable
class TerminalSession(Protocol):
    async def enable(self, accept: Sequence[Money]) -> None: ...
    async def disable(self) -> None: ...
    async def poll(self) -> Sequence[TerminalEvent]: ...
    async def close(self) -> None: ...


@runtime_checkable
class TerminalDriver(Protocol):
    name: str

    async def open(self, port: str, *, terminal_id: str) -> TerminalSession:
        """Open the serial line ``port`` (a device path or a pyserial URL) and reset the device."""
        ...
