"""The CCNET driver: CashCode (and compatible) bill validators at address 0x03, 9600 8N1.

Opening a session: IDENTIFICATION and GET BILL TABLE, POLL (a note the device still reports
from before is handed to the host first, with its value), RESET, POLL until the device has
initialised, IDENTIFICATION and GET BILL TABLE again; the device is left disabled. Notes are taken with escrow on for every enabled type, so a note
reaches the cash box only when this driver sends STACK: a device left alone (the host
stopped) never stacks a note nobody will hear of.

Every POLL reply is acknowledged at once, except a BILL STACKED, which is acknowledged only
when the host says it has recorded the note: until then the device repeats it.
"""

from __future__ import annotations

from core.contracts.terminals import DeviceState, Fault, TerminalLineError
from core.money import Money
from plugins.terminals.ccnet import protocol as p
from plugins.terminals.serial_line import SerialLine
from plugins.terminals.validator_session import Reading, SerialDriver, ValidatorSession

STATES: dict[int, str] = {
    p.INITIALIZE: DeviceState.INITIALISING, p.IDLING: DeviceState.IDLE, p.ACCEPTING: DeviceState.ACCEPTING,
    p.STACKING: DeviceState.STACKING, p.RETURNING: DeviceState.RETURNING, p.UNIT_DISABLED: DeviceState.DISABLED,
    p.HOLDING: DeviceState.HOLDING, p.DEVICE_BUSY: DeviceState.BUSY,
}
FAULTS: dict[int, str] = {
    p.DROP_CASSETTE_FULL: Fault.CASSETTE_FULL, p.DROP_CASSETTE_REMOVED: Fault.CASSETTE_REMOVED,
    p.VALIDATOR_JAMMED: Fault.JAMMED, p.DROP_CASSETTE_JAMMED: Fault.CASSETTE_JAMMED, p.CHEATED: Fault.CHEATED,
    p.PAUSE: Fault.PAUSED,
}
POWER_UPS = {p.POWER_UP: "", p.POWER_UP_BILL_IN_VALIDATOR: "validator", p.POWER_UP_BILL_IN_STACKER: "stacker"}


class CcnetSession(ValidatorSession):
    def __init__(self, line: SerialLine, terminal_id: str, currency: str) -> None:
        super().__init__(line, terminal_id, currency)
        self._table: list[Money | None] = []

    async def _command(self, command: int, data: bytes = b"") -> bytes:
        """Send a command; the reply's status and data. One retry: the device repeats a reply it
        was not acknowledged for, and the commands sent twice here do no harm twice."""
        try:
            reply = await self.line.exchange(p.frame(command, data))
        except TerminalLineError:
            reply = await self.line.exchange(p.frame(command, data))
        if reply[1] != p.BILL_VALIDATOR:
            raise TerminalLineError(f"a reply from device {reply[1]:#04x}, not the bill validator")
        return p.body(reply)

    async def _expect_ack(self, command: int, data: bytes = b"") -> bool:
        """True when the device acknowledged; False for ILLEGAL COMMAND (not possible now)."""
        reply = await self._command(command, data)
        if reply[:1] == bytes([p.ACK]):
            return True
        if reply[:1] == bytes([p.ILLEGAL_COMMAND]):
            return False
        raise TerminalLineError(f"the device answered {reply.hex(' ')} to command {command:#04x}")

    async def _ack(self) -> None:
        await self.line.send(p.frame(p.ACK))

    async def _status(self) -> Reading:
        reply = await self._command(p.POLL)
        if not reply:
            raise TerminalLineError("an empty POLL reply")
        status, data = reply[0], reply[1:]
        note = self._note(data[0]) if data and status in (p.ESCROW_POSITION, p.BILL_STACKED, p.BILL_RETURNED) \
            else None
        if status == p.BILL_STACKED:
            # The bill type too: a note carried over from before the bill table is read has no value yet.
            return Reading("stacked", f"bill_type:{data[0]}" if data else "", note=note, raw=reply)
        if status == p.ESCROW_POSITION:
            return Reading("escrow", note=note, raw=reply)
        if status == p.BILL_RETURNED:
            return Reading("returned", note=note, raw=reply)
        if status == p.REJECTING:
            return Reading("rejected", p.REJECT_REASONS.get(data[0], f"code_{data[0]:02x}") if data else "", raw=reply)
        if status == p.GENERIC_FAILURE:
            code = p.FAILURES.get(data[0], f"{data[0]:02x}") if data else "unknown"
            return Reading("fault", f"{Fault.FAILURE}:{code}", raw=reply)
        if status in POWER_UPS:
            return Reading("power_up", POWER_UPS[status], raw=reply)
        if status in FAULTS:
            return Reading("fault", FAULTS[status], raw=reply)
        if status in STATES:
            return Reading("state", STATES[status], raw=reply)
        return Reading("state", f"unknown_{status:02x}", raw=reply)

    def _note(self, bill_type: int) -> Money | None:
        return self._table[bill_type] if bill_type < len(self._table) else None

    async def _acknowledge_status(self, reading: Reading) -> None:
        await self._ack()

    async def _acknowledge_stacked(self, reading: Reading) -> None:
        await self._ack()

    async def _identify(self) -> None:
        # A new session's first command follows a reply nobody acknowledged anyway (the last host
        # died): reading the tables first costs nothing and gives a carried-over note its value.
        identity = await self._command(p.IDENTIFICATION)
        await self._ack()
        self.info = {"model": identity[:15].decode("ascii", "replace").strip(),
                     "serial": identity[15:27].decode("ascii", "replace").strip(), "protocol": "CCNET"}
        table = await self._command(p.GET_BILL_TABLE)
        await self._ack()
        country = p.country_of(table)
        if country and p.COUNTRIES.get(country, self.currency) != self.currency:
            raise TerminalLineError(f"the device's bill table is for {country}, the terminal takes {self.currency}")
        self._table = p.decode_bill_table(table, self.currency)
        self.denominations = tuple(dict.fromkeys(n for n in self._table if n is not None))
        self.info["bill_table"] = country

    async def _start_device(self) -> None:
        if not await self._expect_ack(p.RESET):
            raise TerminalLineError("the device refused RESET")
        await self._identify()

    async def _set_enabled(self, accept: frozenset[Money]) -> None:
        types = {t for t, note in enumerate(self._table) if note is not None and note in accept}
        if not await self._expect_ack(p.ENABLE_BILL_TYPES, p.type_mask(types) + p.type_mask(types)):
            raise TerminalLineError("the device refused ENABLE BILL TYPES")

    async def _stack(self) -> None:
        await self._expect_ack(p.STACK)

    async def _return(self) -> None:
        await self._expect_ack(p.RETURN)


class CcnetDriver(SerialDriver):
    """Registered as ``ccnet``. ``baudrate`` 9600 (some units are set to 19200)."""

    name = "ccnet"
    title = "CashCode CCNET"
    frame = p.FRAME
    session_class = CcnetSession
