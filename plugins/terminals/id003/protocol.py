"""JCM ID-003 framing, commands and status codes (shared by the driver and its emulator).

Frame: ``SYNC(0xFC) LNG CMD [DATA…] CRC_L CRC_H``; LNG counts the whole frame; the CRC is
the same CRC-16/KERMIT as CCNET's. 9600 bps, 8 data bits, **even parity**, 1 stop bit.
The host asks STATUS REQUEST (0x11) and the device answers with its status; operation
commands (RESET, STACK, RETURN…) are answered with ACK (0x50); setting commands (0xC0…)
are echoed back. The device repeats VEND VALID until the host sends ACK. Sources: the
public ID-003 drivers listed in ``shared/reference/protocols.md`` §6.2; the reject and
failure code names follow those drivers.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from core.money import Money
from plugins.terminals.crc import with_crc
from plugins.terminals.serial_line import FrameFormat

SYNC = 0xFC
FRAME = FrameFormat(sync=SYNC, length_at=1, min_length=5)

# Host → device.
STATUS_REQUEST = 0x11
RESET = 0x40
STACK_1 = 0x41
STACK_2 = 0x42
RETURN = 0x43
HOLD = 0x44
WAIT = 0x45
ACK = 0x50
SET_ENABLE = 0xC0        # 2 bytes: a set bit disables the denomination
SET_SECURITY = 0xC1
SET_COMMUNICATION_MODE = 0xC2
SET_INHIBIT = 0xC3       # 1 byte: 1 = take no notes, 0 = take them
SET_DIRECTION = 0xC4
SET_OPTIONAL_FUNCTION = 0xC5
GET_ENABLE = 0x80
GET_INHIBIT = 0x83
GET_VERSION = 0x88
GET_BOOT_VERSION = 0x89
GET_CURRENCY_ASSIGN = 0x8A
SETTINGS = (SET_ENABLE, SET_SECURITY, SET_COMMUNICATION_MODE, SET_INHIBIT, SET_DIRECTION, SET_OPTIONAL_FUNCTION)

# Device → host (status replies).
IDLING = 0x11
ACCEPTING = 0x12
ESCROW = 0x13            # + denomination code
STACKING = 0x14
VEND_VALID = 0x15        # the host must answer ACK
STACKED = 0x16
REJECTING = 0x17         # + reason
RETURNING = 0x18
HOLDING = 0x19
DISABLED = 0x1A          # inhibited
INITIALIZE = 0x1B
POWER_UP = 0x40
POWER_UP_BILL_IN_ACCEPTOR = 0x41
POWER_UP_BILL_IN_STACKER = 0x42
STACKER_FULL = 0x43
STACKER_OPEN = 0x44
JAM_IN_ACCEPTOR = 0x45
JAM_IN_STACKER = 0x46
PAUSE = 0x47
CHEATED = 0x48
FAILURE = 0x49           # + failure code
COMMUNICATION_ERROR = 0x4A
INVALID_COMMAND = 0x4B

#: Escrow (denomination) codes start here: the n-th note of the currency assignment is 0x61 + n.
FIRST_CODE = 0x61

REJECT_REASONS: dict[int, str] = {
    0x71: "insertion", 0x72: "magnetic", 0x73: "remained_in_head", 0x74: "multiplying", 0x75: "conveying",
    0x76: "identification", 0x77: "optic", 0x78: "optic", 0x79: "inhibit", 0x7B: "operation",
    0x7C: "remained_in_stacker", 0x7D: "length", 0x7E: "optic", 0x7F: "verification",
}
REJECT_CODES: dict[str, int] = {name: code for code, name in reversed(REJECT_REASONS.items())}

FAILURES: dict[int, str] = {
    0xA2: "stack_motor", 0xA5: "transport_motor_speed", 0xA6: "transport_motor", 0xAB: "cash_box_not_ready",
    0xAF: "validator_head_removed", 0xB0: "boot_rom", 0xB1: "external_rom", 0xB2: "ram",
}
FAILURE_CODES: dict[str, int] = {name: code for code, name in FAILURES.items()}


def frame(command: int, data: bytes = b"") -> bytes:
    """A whole frame: ``frame(STATUS_REQUEST) == bytes.fromhex("FC 05 11 27 56")``."""
    return with_crc(bytes([SYNC, 5 + len(data), command]) + data)


def body(reply: bytes) -> bytes:
    """The bytes between LNG and the CRC: status (or command) and data."""
    return reply[2:-2]


def disable_mask(enabled_codes: set[int]) -> bytes:
    """SET ENABLE data: bit n of the 16 set when code 0x61 + n is not taken."""
    bits = 0
    for n in range(16):
        if FIRST_CODE + n not in enabled_codes:
            bits |= 1 << n
    return bits.to_bytes(2, "little")


def enabled_codes(mask: bytes) -> set[int]:
    bits = int.from_bytes(mask[:2], "little")
    return {FIRST_CODE + n for n in range(16) if not bits >> n & 1}


def encode_currency_assign(notes: Sequence[Money], country: int = 0) -> bytes:
    """Four bytes a note: escrow code, country code, leading digits, power of ten."""
    out = bytearray()
    for index, note in enumerate(notes):
        _sign, digits, power = note.amount.normalize().as_tuple()
        value = int("".join(map(str, digits)))
        if value > 255 or not isinstance(power, int) or power < 0:
            raise ValueError(f"{note} cannot be written in an ID-003 currency assignment")
        out += bytes([FIRST_CODE + index, country, value, power])
    return bytes(out)


def decode_currency_assign(data: bytes, currency: str) -> dict[int, Money]:
    """Escrow code -> note, in ``currency``."""
    notes: dict[int, Money] = {}
    for index in range(0, len(data) - 3, 4):
        code, _country, value, power = data[index:index + 4]
        if value:
            notes[code] = Money.of(Decimal(value).scaleb(power), currency)
    return notes
