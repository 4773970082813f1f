"""The ID-003 driver: JCM (and compatible) bill validators, 9600 8E1.

Opening a session: STATUS REQUEST (a VEND VALID still reported from before is handed to the
host first), RESET, STATUS REQUEST until the device has initialised, VERSION, CURRENCY
ASSIGN, then SET ENABLE and SET INHIBIT so that the device is left taking nothing.

Every note stops in escrow (ID-003 always asks); this driver sends STACK-1 for notes the
host takes and RETURN for the others. VEND VALID is the credit: the driver reports the note
stacked then, and sends ACK only when the host has recorded it, so the device repeats VEND
VALID until then. VEND VALID carries no denomination: the driver uses the escrow code it saw
before; a VEND VALID carried over from an earlier session has no value (the host settles it
from its own records).
"""

from __future__ import annotations

import serial

from core.contracts.terminals import DeviceState, Fault, TerminalLineError
from core.money import Money
from plugins.terminals.id003 import protocol as p
from plugins.terminals.serial_line import SerialLine
from plugins.terminals.validator_session import Reading, SerialDriver, ValidatorSession

STATES: dict[int, str] = {
    p.IDLING: DeviceState.IDLE, p.ACCEPTING: DeviceState.ACCEPTING, p.STACKING: DeviceState.STACKING,
    p.STACKED: DeviceState.STACKING, p.HOLDING: DeviceState.HOLDING, p.DISABLED: DeviceState.DISABLED,
    p.INITIALIZE: DeviceState.INITIALISING,
}
FAULTS: dict[int, str] = {
    p.STACKER_FULL: Fault.CASSETTE_FULL, p.STACKER_OPEN: Fault.CASSETTE_REMOVED, p.JAM_IN_ACCEPTOR: Fault.JAMMED,
    p.JAM_IN_STACKER: Fault.CASSETTE_JAMMED, p.PAUSE: Fault.PAUSED, p.CHEATED: Fault.CHEATED,
}
POWER_UPS = {p.POWER_UP: "", p.POWER_UP_BILL_IN_ACCEPTOR: "validator", p.POWER_UP_BILL_IN_STACKER: "stacker"}


class Id003Session(ValidatorSession):
    def __init__(self, line: SerialLine, terminal_id: str, currency: str) -> None:
        super().__init__(line, terminal_id, currency)
        self._notes: dict[int, Money] = {}
        self._escrow_note: Money | None = None

    async def _command(self, command: int, data: bytes = b"") -> bytes:
        """Send a command; the reply's status and data. One retry after a lost or garbled reply."""
        for attempt in (1, 2):
            try:
                reply = p.body(await self.line.exchange(p.frame(command, data)))
            except TerminalLineError:
                if attempt == 2:
                    raise
                continue
            if reply[:1] == bytes([p.COMMUNICATION_ERROR]) and attempt == 1:
                continue  # the device could not read our frame
            return reply
        raise TerminalLineError("the device could not read our frames")

    async def _expect_ack(self, command: int) -> bool:
        reply = await self._command(command)
        if reply[:1] == bytes([p.ACK]):
            return True
        if reply[:1] == bytes([p.INVALID_COMMAND]):
            return False
        raise TerminalLineError(f"the device answered {reply.hex(' ')} to command {command:#04x}")

    async def _setting(self, command: int, data: bytes) -> None:
        reply = await self._command(command, data)
        if reply != bytes([command]) + data:
            raise TerminalLineError(f"the device did not echo setting {command:#04x} (answered {reply.hex(' ')})")

    async def _status(self) -> Reading:
        reply = await self._command(p.STATUS_REQUEST)
        if not reply:
            raise TerminalLineError("an empty status reply")
        status, data = reply[0], reply[1:]
        if status == p.VEND_VALID:
            return Reading("stacked", note=self._escrow_note, raw=reply)
        if status == p.ESCROW:
            self._escrow_note = self._notes.get(data[0]) if data else None
            return Reading("escrow", note=self._escrow_note, raw=reply)
        if status == p.RETURNING:
            return Reading("returned", note=self._escrow_note, raw=reply)
        if status == p.REJECTING:
            return Reading("rejected", p.REJECT_REASONS.get(data[0], f"code_{data[0]:02x}") if data else "", raw=reply)
        if status == p.FAILURE:
            code = p.FAILURES.get(data[0], f"{data[0]:02x}") if data else "unknown"
            return Reading("fault", f"{Fault.FAILURE}:{code}", raw=reply)
        if status in POWER_UPS:
            return Reading("power_up", POWER_UPS[status], raw=reply)
        if status in FAULTS:
            return Reading("fault", FAULTS[status], raw=reply)
        if status in STATES:
            if status in (p.IDLING, p.DISABLED):
                self._escrow_note = None
            return Reading("state", STATES[status], raw=reply)
        return Reading("state", f"unknown_{status:02x}", raw=reply)

    async def _acknowledge_stacked(self, reading: Reading) -> None:
        await self.line.send(p.frame(p.ACK))

    async def _start_device(self) -> None:
        if not await self._expect_ack(p.RESET):
            raise TerminalLineError("the device refused RESET")
        version = await self._command(p.GET_VERSION)
        self.info = {"model": version[1:].decode("ascii", "replace").strip(), "protocol": "ID-003"}
        assign = await self._command(p.GET_CURRENCY_ASSIGN)
        self._notes = p.decode_currency_assign(assign[1:], self.currency)
        self.denominations = tuple(dict.fromkeys(self._notes.values()))

    async def _set_enabled(self, accept: frozenset[Money]) -> None:
        codes = {code for code, note in self._notes.items() if note in accept}
        await self._setting(p.SET_ENABLE, p.disable_mask(codes))
        await self._setting(p.SET_INHIBIT, b"\x00" if codes else b"\x01")

    async def _stack(self) -> None:
        await self._expect_ack(p.STACK_1)

    async def _return(self) -> None:
        await self._expect_ack(p.RETURN)


class Id003Driver(SerialDriver):
    """Registered as ``id003``."""

    name = "id003"
    title = "JCM ID-003"
    frame = p.FRAME
    parity = serial.PARITY_EVEN
    session_class = Id003Session
