"""A JCM bill validator speaking ID-003, for tests, the sandbox and deployers.

It answers STATUS REQUEST, RESET, STACK-1/2, RETURN, HOLD, WAIT, ACK, the setting commands
(echoed) and the status requests for settings, version and currency assignment. VEND VALID
is repeated until the host sends ACK, then STACKED is reported once. After RESET the device
takes every note of its table but is inhibited until the host says otherwise (SET INHIBIT 0).
Frames with a wrong CRC get no answer; unknown commands get INVALID COMMAND. The mechanics
are :class:`plugins.terminals.emulation.BillValidator`'s.

``build_emulator()`` gives one with a Russian table (10 … 5000 roubles);
``kopilka terminals emulator id003 --link /tmp/ttyV1`` puts it on a pseudo-terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.money import Money
from plugins.terminals import emulation as em
from plugins.terminals.crc import crc_ok
from plugins.terminals.id003 import protocol as p

RUB_NOTES = ("10", "50", "100", "200", "500", "1000", "2000", "5000")

STATUS: dict[str, int] = {
    em.POWER_UP: p.POWER_UP, em.POWER_UP_NOTE_IN_VALIDATOR: p.POWER_UP_BILL_IN_ACCEPTOR,
    em.POWER_UP_NOTE_IN_STACKER: p.POWER_UP_BILL_IN_STACKER, em.INITIALISING: p.INITIALIZE, em.IDLE: p.IDLING,
    em.DISABLED: p.DISABLED, em.ACCEPTING: p.ACCEPTING, em.STACKING: p.STACKING, em.STACKED: p.VEND_VALID,
    em.AFTER_STACK: p.STACKED, em.RETURNING: p.RETURNING, em.CASSETTE_FULL: p.STACKER_FULL,
    em.CASSETTE_REMOVED: p.STACKER_OPEN, em.JAMMED: p.JAM_IN_ACCEPTOR, em.CASSETTE_JAMMED: p.JAM_IN_STACKER,
    em.CHEATED: p.CHEATED,
}


class Id003Emulator(em.EmulatedDevice):
    name = "id003"
    title = "JCM ID-003 emulator"
    frame = p.FRAME

    def __init__(self, validator: em.BillValidator, *, version: str = "i(RUS)-100-SS ID003-05V270-21 27MAR24",
                 ) -> None:
        super().__init__(validator)
        self.version = version
        self.settings: dict[int, bytes] = {p.SET_SECURITY: bytes(2), p.SET_COMMUNICATION_MODE: bytes(1),
                                           p.SET_DIRECTION: bytes(1), p.SET_OPTIONAL_FUNCTION: bytes(2)}
        self._codes = list(range(len(validator.denominations)))
        self._take_everything()

    def _take_everything(self) -> None:
        every = set(self._codes)
        self.validator.set_enabled(every, every)
        self.validator.inhibited = True

    def reply(self, status: int, data: bytes = b"") -> bytes:
        return p.frame(status, data)

    def handle(self, frame: bytes) -> bytes:
        if not crc_ok(frame):
            return b""
        v = self.validator
        command, data = frame[2], p.body(frame)[1:]
        if command == p.STATUS_REQUEST:
            return self._status(v.poll())
        if command == p.ACK:
            if not v.ack_lost():
                v.ack()
            return b""
        if command == p.RESET:
            v.reset()
            self._take_everything()
            return self.reply(p.ACK)
        if command in (p.STACK_1, p.STACK_2):
            return self.reply(p.ACK) if v.stack() else self.reply(p.INVALID_COMMAND)
        if command == p.RETURN:
            return self.reply(p.ACK) if v.give_back() else self.reply(p.INVALID_COMMAND)
        if command in (p.HOLD, p.WAIT):
            return self.reply(p.ACK)
        if command in p.SETTINGS:
            if command == p.SET_ENABLE and len(data) == 2:
                codes = {c - p.FIRST_CODE for c in p.enabled_codes(data)}
                v.set_enabled(codes, codes)
            elif command == p.SET_INHIBIT and len(data) == 1:
                v.inhibited = data[0] == 1
            else:
                self.settings[command] = data
            return frame  # setting commands are echoed
        if command == p.GET_ENABLE:
            return self.reply(command, p.disable_mask({p.FIRST_CODE + t for t in v.enabled}))
        if command == p.GET_INHIBIT:
            return self.reply(command, bytes([1 if v.inhibited else 0]))
        if command in (p.GET_VERSION, p.GET_BOOT_VERSION):
            return self.reply(command, self.version.encode("ascii"))
        if command == p.GET_CURRENCY_ASSIGN:
            return self.reply(command, p.encode_currency_assign(list(v.denominations)))
        if 0x80 <= command <= 0x85:
            return self.reply(command, self.settings.get(command + 0x40, b"\x00"))
        return self.reply(p.INVALID_COMMAND)

    def _status(self, phase: em.Phase) -> bytes:
        name = phase.name
        if name == em.ESCROW:
            return self.reply(p.ESCROW, bytes([p.FIRST_CODE + (phase.note or 0)]))
        if name == em.REJECTING:
            return self.reply(p.REJECTING, bytes([p.REJECT_CODES.get(phase.reason, 0x71)]))
        if name == em.FAILURE:
            return self.reply(p.FAILURE, bytes([p.FAILURE_CODES.get(phase.reason, 0xA6)]))
        if name == em.RETURNED:
            name = em.IDLE if self.validator.accepting_notes else em.DISABLED
        return self.reply(STATUS.get(name, p.IDLING))


def build_emulator(notes: Sequence[str] = RUB_NOTES, currency: str = "RUB", **options: object) -> Id003Emulator:
    """A validator with currency assignment ``notes`` (in ``currency``), powered up and waiting for a host."""
    validator = em.BillValidator([Money.of(n, currency) for n in notes], hold_until_ack=frozenset({em.STACKED}))
    return Id003Emulator(validator, **options)  # type: ignore[arg-type]
