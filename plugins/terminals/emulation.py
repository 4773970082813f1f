"""What driver emulators share: a bill validator's mechanics, and ways to put one on a line.

:class:`BillValidator` is the device without its protocol: notes a person inserts, the
validator head, escrow, the cash box (cassette) and its faults. It moves one step each time
the host asks for its status, so a test knows exactly what the host will see and when. A
driver's ``emulator.py`` subclasses :class:`EmulatedDevice` and translates the host's frames
into calls on the validator and its phases into reply frames.

An emulator is put on a line with :func:`serve_pty` (a pseudo-terminal: the driver opens
its path like a real port), :func:`serve_fd` (an existing tty, one end of a socat pair or a
USB-serial cable) or :func:`serve_tcp` (for ``socket://`` URLs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import termios
import tty
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from core.money import Money
from plugins.terminals.serial_line import FrameFormat

log = logging.getLogger(__name__)

#: A note the validator does not recognise (a photocopy).
COUNTERFEIT = "counterfeit"

# Phases a validator reports, whatever the protocol calls them.
POWER_UP = "power_up"
POWER_UP_NOTE_IN_VALIDATOR = "power_up_note_in_validator"
POWER_UP_NOTE_IN_STACKER = "power_up_note_in_stacker"
INITIALISING = "initialising"
DISABLED = "disabled"
IDLE = "idle"
ACCEPTING = "accepting"
ESCROW = "escrow"
STACKING = "stacking"
STACKED = "stacked"          # the note is in the cash box; held until the host acknowledges
AFTER_STACK = "after_stack"  # one step after the acknowledgement (ID-003 reports STACKED here)
RETURNING = "returning"
RETURNED = "returned"
REJECTING = "rejecting"
CASSETTE_FULL = "cassette_full"
CASSETTE_REMOVED = "cassette_removed"
JAMMED = "jammed"
CASSETTE_JAMMED = "cassette_jammed"
CHEATED = "cheated"
FAILURE = "failure"

POWERED_UP = (POWER_UP, POWER_UP_NOTE_IN_VALIDATOR, POWER_UP_NOTE_IN_STACKER)
FAULTS = (CASSETTE_FULL, CASSETTE_REMOVED, JAMMED, CASSETTE_JAMMED, FAILURE)


@dataclass(frozen=True)
class Phase:
    """What the validator is doing: ``note`` is a bill type (an index into its bill table)."""

    name: str
    note: int | None = None
    reason: str = ""


@dataclass
class BillValidator:
    """A bill validator's mechanics, stepped by the host's status requests.

    Host side: :meth:`reset`, :meth:`set_enabled`, :meth:`stack`, :meth:`give_back`,
    :meth:`poll`, :meth:`ack`. Person side: :meth:`insert`, :meth:`insert_counterfeit`,
    :meth:`jam`, :meth:`clear_jam`, :meth:`remove_cassette`, :meth:`replace_cassette`,
    :meth:`fill_cassette`, :meth:`power_cycle`, :meth:`cheat`, :meth:`fail`. Line side:
    :meth:`lose_acks` (the next acknowledgements never arrive), ``mute`` (no answers at all).
    """

    #: The bill table: bill type n is ``denominations[n]``.
    denominations: Sequence[Money]
    #: Notes the cassette holds.
    capacity: int = 1000
    #: Phases reported until the host acknowledges them.
    hold_until_ack: frozenset[str] = frozenset({STACKED})
    #: A note left in escrow this many steps goes back to the customer.
    escrow_steps: int = 300
    #: Steps between a reset and the device being ready.
    initialising_steps: int = 2
    #: Bill types whose notes are held in escrow for the host to decide (the others are stacked at once).
    escrow: set[int] = field(default_factory=set)
    enabled: set[int] = field(default_factory=set)
    inhibited: bool = False
    mute: bool = False

    def __post_init__(self) -> None:
        self.phase = Phase(POWER_UP)
        self.cassette: list[Money] = []
        #: Notes given back to the customer (returned or rejected).
        self.given_back: list[Money | str] = []
        self.waiting: deque[Money | str] = deque()
        self._in_head: Money | str | None = None
        self._steps_left = 0
        self._held = False
        self._fresh = False
        self._acks_to_lose = 0
        self.cassette_in = True
        self.jammed = False
        self.cassette_jammed = False
        self.failure = ""
        self._cheat = False
        self.resets = 0

    # -- what a person does ------------------------------------------------------------------

    def insert(self, note: Money | str) -> bool:
        """Push a note into the slot; False when the device takes none now (it stays in the hand)."""
        if not self.accepting_notes:
            return False
        if note != COUNTERFEIT and note not in self.denominations:
            note = COUNTERFEIT  # an unknown note is as good as a fake to this device
        self.waiting.append(note)
        return True

    def insert_counterfeit(self) -> bool:
        return self.insert(COUNTERFEIT)

    @property
    def accepting_notes(self) -> bool:
        return bool(self.enabled) and not self.inhibited and self.phase.name not in (
            *POWERED_UP, INITIALISING, *FAULTS)

    def jam(self) -> None:
        self.jammed = True

    def clear_jam(self) -> None:
        self.jammed = self.cassette_jammed = False

    def jam_cassette(self) -> None:
        self.cassette_jammed = True

    def remove_cassette(self) -> list[Money]:
        """Take the cash box out (a collection); returns the notes in it."""
        self.cassette_in = False
        notes, self.cassette = self.cassette, []
        return notes

    def replace_cassette(self) -> None:
        self.cassette_in = True

    def fill_cassette(self) -> None:
        """Make the cash box full (with notes nobody inserted through this emulator)."""
        while len(self.cassette) < self.capacity:
            self.cassette.append(self.denominations[0])

    def fail(self, code: str = "") -> None:
        self.failure = code or "generic"

    def repair(self) -> None:
        self.failure = ""

    def cheat(self) -> None:
        self._cheat = True

    def power_cycle(self, note_in: str = "") -> None:
        """Power goes off and on; ``note_in`` is "validator" or "stacker" if a note was on its way."""
        note = self._in_head
        if note_in == "stacker" and isinstance(note, Money):
            self.cassette.append(note)  # it reached the box, but nobody will ever hear of it
        elif note_in == "validator" and note is not None:
            self.given_back.append(note)
        self._in_head = None
        self._held = False
        self._fresh = False
        self.given_back.extend(self.waiting)
        self.waiting.clear()
        self.enabled = set()
        self.phase = Phase({"stacker": POWER_UP_NOTE_IN_STACKER, "validator": POWER_UP_NOTE_IN_VALIDATOR}.get(
            note_in, POWER_UP))

    def lose_acks(self, count: int = 1) -> None:
        """The next ``count`` acknowledgements from the host are lost on the line."""
        self._acks_to_lose += count

    def ack_lost(self) -> bool:
        """Called by the protocol for each acknowledgement: True if this one got lost."""
        if self._acks_to_lose:
            self._acks_to_lose -= 1
            return True
        return False

    # -- what the host does ---------------------------------------------------------------------------

    def reset(self) -> None:
        self.resets += 1
        if self._in_head is not None and self.phase.name not in (STACKED, AFTER_STACK):
            self.given_back.append(self._in_head)
        self._in_head = None
        self._held = False
        self.enabled = set()
        self.escrow = set()
        self.phase = Phase(INITIALISING)
        self._fresh = True
        self._steps_left = self.initialising_steps

    def set_enabled(self, enabled: set[int], escrow: set[int]) -> None:
        self.enabled = {t for t in enabled if 0 <= t < len(self.denominations)}
        self.escrow = set(escrow)

    def stack(self) -> bool:
        if self.phase.name != ESCROW:
            return False
        self.phase = Phase(STACKING, self.phase.note)
        self._fresh = True
        return True

    def give_back(self) -> bool:
        if self.phase.name != ESCROW:
            return False
        self.phase = Phase(RETURNING, self.phase.note)
        self._fresh = True
        return True

    def ack(self) -> None:
        """The host acknowledged the phase it was shown last."""
        self._held = False

    def poll(self) -> Phase:
        """One step: what the host sees now."""
        if self._held:
            return self.phase
        if self._fresh:  # the host just moved it here: show this phase once
            self._fresh = False
            return self.phase
        self.phase = self._next(self.phase)
        self._held = self.phase.name in self.hold_until_ack
        return self.phase

    # -- the mechanics --------------------------------------------------------------------------------

    def _rest(self) -> Phase:
        """Where the device settles when no note is on its way."""
        if not self.cassette_in:
            return Phase(CASSETTE_REMOVED)
        if self.cassette_jammed:
            return Phase(CASSETTE_JAMMED)
        if self.jammed:
            return Phase(JAMMED)
        if self.failure:
            return Phase(FAILURE, reason=self.failure)
        if len(self.cassette) >= self.capacity:
            return Phase(CASSETTE_FULL)
        if self._cheat:
            self._cheat = False
            return Phase(CHEATED)
        if not self.enabled or self.inhibited:
            return Phase(DISABLED)
        if self.waiting:
            note = self.waiting.popleft()
            self._in_head = note
            return Phase(ACCEPTING)
        return Phase(IDLE)

    def _bill_type(self, note: Money | str | None) -> int | None:
        if isinstance(note, Money) and note in self.denominations:
            return list(self.denominations).index(note)
        return None

    def _next(self, phase: Phase) -> Phase:
        name = phase.name
        if name in POWERED_UP:
            return phase  # until the host resets it
        if name == INITIALISING:
            self._steps_left -= 1
            return phase if self._steps_left > 0 else Phase(DISABLED)
        if name == ACCEPTING:
            note = self._in_head
            kind = self._bill_type(note)
            if kind is None:
                self._hand_back()
                return Phase(REJECTING, reason="verification")
            if kind not in self.enabled or self.inhibited:
                self._hand_back()
                return Phase(REJECTING, kind, reason="inhibit")
            if self.jammed:
                return Phase(JAMMED)
            if kind in self.escrow:
                self._steps_left = self.escrow_steps
                return Phase(ESCROW, kind)
            return Phase(STACKING, kind)
        if name == ESCROW:
            self._steps_left -= 1
            return phase if self._steps_left > 0 else Phase(RETURNING, phase.note)
        if name == STACKING:
            if self.cassette_jammed:
                return Phase(CASSETTE_JAMMED)
            note = self._in_head
            assert isinstance(note, Money)
            self.cassette.append(note)
            self._in_head = None
            return Phase(STACKED, phase.note)
        if name == STACKED:
            return Phase(AFTER_STACK, phase.note)
        if name == RETURNING:
            self._hand_back()
            return Phase(RETURNED, phase.note)
        return self._rest()

    def _hand_back(self) -> None:
        if self._in_head is not None:
            self.given_back.append(self._in_head)
            self._in_head = None


class EmulatedDevice:
    """A device on a line: bytes from the host in, reply bytes out (subclasses speak the protocol)."""

    #: Short name: the driver's (``"ccnet"``).
    name = ""
    title = ""
    frame: FrameFormat

    def __init__(self, validator: BillValidator) -> None:
        self.validator = validator
        self._buffer = bytearray()
        #: Every frame the host sent, for tests and the console.
        self.received: list[bytes] = []

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        frames, self._buffer = self.frame.split(self._buffer)
        replies = b""
        for frame in frames:
            self.received.append(frame)
            if self.validator.mute:
                continue
            try:
                replies += self.handle(frame)
            except Exception:  # an emulator bug must not take the line down silently
                log.exception("%s could not answer %s", self.title, frame.hex(" "))
        return replies

    def handle(self, frame: bytes) -> bytes:
        """The reply to one frame from the host (``b""`` for none)."""
        raise NotImplementedError

    # -- what a person does (the console and the sandbox page call these) -----------------------

    def money(self, amount: str) -> Money:
        currency = self.validator.denominations[0].currency
        try:
            return Money.of(Decimal(amount), currency)
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(f"not an amount: {amount!r}") from exc

    def describe(self) -> str:
        v = self.validator
        box = sum(n.minor for n in v.cassette)
        cur = v.denominations[0].currency
        return (f"{self.title}: {v.phase.name}; cassette {len(v.cassette)} notes "
                f"({Money(box, cur)}){'' if v.cassette_in else ', removed'}; given back {len(v.given_back)}")


#: Console commands of ``kopilka terminals emulator``: name -> (arguments, what it does).
COMMANDS: dict[str, str] = {
    "insert AMOUNT": "push a note in (e.g. insert 100)",
    "fake": "push a counterfeit note in",
    "jam": "jam a note in the validator head (clear: clear)",
    "jam-box": "jam the cash box (clear: clear)",
    "clear": "clear the jams",
    "remove": "take the cash box out (a collection)",
    "replace": "put the cash box back",
    "full": "fill the cash box up",
    "fail [CODE]": "break a motor or sensor (repair: repair)",
    "repair": "mend it",
    "cheat": "pull a note back on a string",
    "power [validator|stacker]": "cycle the power (with a note in the head or on its way to the box)",
    "lose-acks [N]": "lose the host's next N acknowledgements on the line",
    "mute": "stop answering (unmute: unmute)",
    "unmute": "answer again",
    "status": "show the device's state",
}


def run_command(device: EmulatedDevice, line: str) -> str:
    """Carry out one console command; returns what to print."""
    words = shlex.split(line)
    if not words:
        return ""
    v = device.validator
    command, args = words[0].lower(), words[1:]
    try:
        if command == "insert" and args:
            note = device.money(args[0])
            return f"inserted {note}" if v.insert(note) else "the device takes no notes now"
        simple: dict[str, Callable[[], object]] = {
            "fake": v.insert_counterfeit, "jam": v.jam, "jam-box": v.jam_cassette, "clear": v.clear_jam,
            "remove": v.remove_cassette, "replace": v.replace_cassette, "full": v.fill_cassette, "repair": v.repair,
            "cheat": v.cheat,
        }
        if command in simple:
            result = simple[command]()
            if command == "remove":
                return f"cash box out: {len(result)} notes"  # type: ignore[arg-type]
            return "the device takes no notes now" if result is False else "ok"
        if command == "fail":
            v.fail(args[0] if args else "")
            return "ok"
        if command == "power":
            v.power_cycle(args[0] if args else "")
            return "power cycled"
        if command == "lose-acks":
            v.lose_acks(int(args[0]) if args else 1)
            return "ok"
        if command in ("mute", "unmute"):
            v.mute = command == "mute"
            return "ok"
        if command == "status":
            return device.describe()
    except ValueError as exc:
        return str(exc)
    return "commands: " + "; ".join(f"{k}: {v}" for k, v in COMMANDS.items())


# -- putting an emulator on a line ----------------------------------------------------------------------


def _raw(fd: int) -> None:
    """No echo, no line editing, no translation: bytes pass as they are."""
    tty.setraw(fd, termios.TCSANOW)


@contextlib.asynccontextmanager
async def serve_fd(device: EmulatedDevice, fd: int) -> AsyncIterator[None]:
    """Answer the host on ``fd`` (a pty master, or a tty) from the running event loop."""
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)

    def readable() -> None:
        try:
            data = os.read(fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # nobody on the other end right now
        reply = device.feed(data)
        if reply:
            with contextlib.suppress(OSError):
                os.write(fd, reply)

    loop.add_reader(fd, readable)
    try:
        yield
    finally:
        loop.remove_reader(fd)


@contextlib.asynccontextmanager
async def serve_pty(device: EmulatedDevice, link: str | None = None) -> AsyncIterator[str]:
    """Put ``device`` on a new pseudo-terminal; yields the path a driver opens (``link`` if given).

    The emulator keeps the terminal's other end open too, so the line stays up while the
    driver closes and reopens it (a real device does not vanish when the host restarts).
    """
    master, slave = os.openpty()
    _raw(slave)
    path = os.ttyname(slave)
    if link:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link)
        os.symlink(path, link)
    try:
        async with serve_fd(device, master):
            yield link or path
    finally:
        if link:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(link)
        os.close(master)
        os.close(slave)


@contextlib.asynccontextmanager
async def serve_device_path(device: EmulatedDevice, path: str) -> AsyncIterator[str]:
    """Answer on an existing tty (one end of a socat pair, a USB-serial adapter wired to the host)."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    _raw(fd)
    try:
        async with serve_fd(device, fd):
            yield path
    finally:
        os.close(fd)


@contextlib.asynccontextmanager
async def serve_tcp(device: EmulatedDevice, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Answer on a TCP port; yields the ``socket://host:port`` URL a driver opens."""

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(4096):
                reply = device.feed(data)
                if reply:
                    writer.write(reply)
                    await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(connected, host, port)
    bound = server.sockets[0].getsockname()
    try:
        yield f"socket://{bound[0]}:{bound[1]}"
    finally:
        server.close()
        await server.wait_closed()
