"""A CashCode bill validator speaking CCNET, for tests, the sandbox and deployers.

It answers RESET, GET STATUS, SET SECURITY, POLL, ENABLE BILL TYPES, STACK, RETURN,
IDENTIFICATION, HOLD and GET BILL TABLE like a validator at address 0x03, NAKs a frame
whose CRC is wrong and answers ILLEGAL COMMAND to anything else. A POLL reply the host
has not acknowledged is sent again on the next POLL, as the device does. The mechanics
(notes, escrow, cash box, jams, power cuts) are :class:`plugins.terminals.emulation.BillValidator`'s.

``build_emulator()`` gives one with a Russian bill table (10 … 5000 roubles);
``kopilka terminals emulator ccnet --link /tmp/ttyV1`` puts it on a pseudo-terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.money import Money
from plugins.terminals import emulation as em
from plugins.terminals.ccnet import protocol as p
from plugins.terminals.crc import crc_ok

#: CashCode's usual Russian table: 10, 50, 100, 500, 1000, 5000, then 200 and 2000 (added in 2017).
RUB_TABLE = ("10", "50", "100", "500", "1000", "5000", "200", "2000")

STATUS: dict[str, int] = {
    em.POWER_UP: p.POWER_UP, em.POWER_UP_NOTE_IN_VALIDATOR: p.POWER_UP_BILL_IN_VALIDATOR,
    em.POWER_UP_NOTE_IN_STACKER: p.POWER_UP_BILL_IN_STACKER, em.INITIALISING: p.INITIALIZE, em.IDLE: p.IDLING,
    em.DISABLED: p.UNIT_DISABLED, em.ACCEPTING: p.ACCEPTING, em.STACKING: p.STACKING, em.RETURNING: p.RETURNING,
    em.CASSETTE_FULL: p.DROP_CASSETTE_FULL, em.CASSETTE_REMOVED: p.DROP_CASSETTE_REMOVED,
    em.JAMMED: p.VALIDATOR_JAMMED, em.CASSETTE_JAMMED: p.DROP_CASSETTE_JAMMED, em.CHEATED: p.CHEATED,
}


class CcnetEmulator(em.EmulatedDevice):
    name = "ccnet"
    title = "CashCode CCNET emulator"
    frame = p.FRAME

    def __init__(self, validator: em.BillValidator, *, country: str = "RUS", part_number: str = "SM-RU1353",
                 serial: str = "41K000000001") -> None:
        super().__init__(validator)
        self.country = country
        self.part_number = part_number
        self.serial = serial
        self.security = bytes(3)
        self._last_poll_reply: bytes | None = None
        self._poll_reply_acked = True
        self._last_was_poll = False

    def reply(self, status: int, data: bytes = b"") -> bytes:
        return p.frame(status, data)

    def handle(self, frame: bytes) -> bytes:
        if not crc_ok(frame):
            return self.reply(p.NAK)
        if frame[1] != p.BILL_VALIDATOR:
            return b""  # another device's frame on a shared line
        command, data = frame[3], p.body(frame)[1:]
        v = self.validator
        if command == p.ACK:  # it acknowledges our last reply, whichever that was
            if self._last_was_poll and not v.ack_lost():
                self._poll_reply_acked = True
                v.ack()
            return b""
        self._last_was_poll = command == p.POLL
        if command == p.NAK:  # the host could not read our reply: say it again
            return self._last_poll_reply or b""
        if command == p.POLL:
            if self._last_poll_reply is not None and not self._poll_reply_acked:
                return self._last_poll_reply
            self._last_poll_reply = self._status(v.poll())
            self._poll_reply_acked = False
            return self._last_poll_reply
        if command == p.RESET:
            v.reset()
            self._last_poll_reply, self._poll_reply_acked = None, True
            return self.reply(p.ACK)
        if command == p.GET_STATUS:
            return p.data_frame(p.type_mask(v.enabled) + self.security)
        if command == p.SET_SECURITY and len(data) == 3:
            self.security = data
            return self.reply(p.ACK)
        if command == p.ENABLE_BILL_TYPES and len(data) == 6:
            v.set_enabled(p.types_of(data[:3]), p.types_of(data[3:]))
            return self.reply(p.ACK)
        if command == p.STACK:
            return self.reply(p.ACK if v.stack() else p.ILLEGAL_COMMAND)
        if command == p.RETURN:
            return self.reply(p.ACK if v.give_back() else p.ILLEGAL_COMMAND)
        if command == p.HOLD:
            return self.reply(p.ACK if v.phase.name == em.ESCROW else p.ILLEGAL_COMMAND)
        if command == p.IDENTIFICATION:
            return p.data_frame(self.part_number.encode().ljust(15)[:15] + self.serial.encode().ljust(12)[:12]
                                + bytes(7))
        if command == p.GET_BILL_TABLE:
            return p.data_frame(p.encode_bill_table(list(v.denominations), self.country))
        return self.reply(p.ILLEGAL_COMMAND)

    def _status(self, phase: em.Phase) -> bytes:
        name = phase.name
        if name == em.ESCROW:
            return self.reply(p.ESCROW_POSITION, bytes([phase.note or 0]))
        if name == em.STACKED:
            return self.reply(p.BILL_STACKED, bytes([phase.note or 0]))
        if name == em.RETURNED:
            return self.reply(p.BILL_RETURNED, bytes([phase.note or 0]))
        if name == em.REJECTING:
            return self.reply(p.REJECTING, bytes([p.REJECT_CODES.get(phase.reason, 0x60)]))
        if name == em.FAILURE:
            return self.reply(p.GENERIC_FAILURE, bytes([p.FAILURE_CODES.get(phase.reason, 0x52)]))
        if name == em.AFTER_STACK:
            name = em.IDLE if self.validator.enabled else em.DISABLED
        return self.reply(STATUS.get(name, p.IDLING))


def build_emulator(notes: Sequence[str] = RUB_TABLE, currency: str = "RUB", **options: object) -> CcnetEmulator:
    """A validator with bill table ``notes`` (in ``currency``), powered up and waiting for a host."""
    validator = em.BillValidator([Money.of(n, currency) for n in notes], hold_until_ack=frozenset({em.STACKED,
                                                                                                   em.RETURNED}))
    country = {v: k for k, v in p.COUNTRIES.items()}.get(currency, currency[:3])
    return CcnetEmulator(validator, country=country, **options)  # type: ignore[arg-type]
