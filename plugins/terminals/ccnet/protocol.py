"""CashCode CCNET framing, commands and status codes (shared by the driver and its emulator).

Frame: ``SYNC(0x02) ADR LNG CMD [DATA…] CRC_L CRC_H``; LNG counts the whole frame; the CRC
is CRC-16/KERMIT over SYNC…DATA. The controller (host) is master; a bill validator is
address 0x03. The host acknowledges every data reply (POLL, IDENTIFICATION, BILL TABLE); a
POLL reply that is not acknowledged is repeated on the next POLL. Sources: the public CCNET
drivers listed in ``shared/reference/protocols.md`` §6.1.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from core.money import Money
from plugins.terminals.crc import with_crc
from plugins.terminals.serial_line import FrameFormat

SYNC = 0x02
BILL_VALIDATOR = 0x03
FRAME = FrameFormat(sync=SYNC, length_at=2, min_length=6)

# Commands (host → device); ACK and NAK go both ways.
ACK = 0x00
NAK = 0xFF
RESET = 0x30
GET_STATUS = 0x31
SET_SECURITY = 0x32
POLL = 0x33
ENABLE_BILL_TYPES = 0x34
STACK = 0x35
RETURN = 0x36
IDENTIFICATION = 0x37
HOLD = 0x38
GET_BILL_TABLE = 0x41
#: The device's reply to a command it cannot carry out now.
ILLEGAL_COMMAND = 0x30

# POLL reply status (Z1), with Z2 where noted.
POWER_UP = 0x10
POWER_UP_BILL_IN_VALIDATOR = 0x11
POWER_UP_BILL_IN_STACKER = 0x12
INITIALIZE = 0x13
IDLING = 0x14
ACCEPTING = 0x15
STACKING = 0x17
RETURNING = 0x18
UNIT_DISABLED = 0x19
HOLDING = 0x1A
DEVICE_BUSY = 0x1B           # Z2: busy time
REJECTING = 0x1C             # Z2: reason
DROP_CASSETTE_FULL = 0x41
DROP_CASSETTE_REMOVED = 0x42
VALIDATOR_JAMMED = 0x43
DROP_CASSETTE_JAMMED = 0x44
CHEATED = 0x45
PAUSE = 0x46
GENERIC_FAILURE = 0x47       # Z2: failure code
ESCROW_POSITION = 0x80       # Z2: bill type
BILL_STACKED = 0x81          # Z2: bill type
BILL_RETURNED = 0x82         # Z2: bill type

REJECT_REASONS: dict[int, str] = {
    0x60: "insertion", 0x61: "magnetic", 0x62: "remained_in_head", 0x63: "multiplying", 0x64: "conveying",
    0x65: "identification", 0x66: "verification", 0x67: "optic", 0x68: "inhibit", 0x69: "capacity",
    0x6A: "operation", 0x6C: "length", 0x6D: "uv", 0x92: "barcode", 0x93: "barcode", 0x94: "barcode",
    0x95: "barcode",
}
REJECT_CODES: dict[str, int] = {name: code for code, name in reversed(REJECT_REASONS.items())}

FAILURES: dict[int, str] = {
    0x50: "stack_motor", 0x51: "transport_motor_speed", 0x52: "transport_motor", 0x53: "aligning_motor",
    0x54: "initial_cassette_status", 0x55: "optic_canal", 0x56: "magnetic_canal", 0x5F: "capacitance_canal",
}
FAILURE_CODES: dict[str, int] = {name: code for code, name in FAILURES.items()}

BILL_TYPES = 24
#: Country codes of bill tables and the currency they mean.
COUNTRIES = {"RUS": "RUB", "KAZ": "KZT", "UKR": "UAH", "BLR": "BYN", "USA": "USD", "EUR": "EUR", "UZB": "UZS",
             "KGZ": "KGS", "ARM": "AMD", "GEO": "GEL", "AZE": "AZN", "MDA": "MDL", "TJK": "TJS"}


def frame(command: int, data: bytes = b"", address: int = BILL_VALIDATOR) -> bytes:
    """A whole frame: ``frame(POLL) == bytes.fromhex("02 03 06 33 DA 81")``."""
    return data_frame(bytes([command]) + data, address)


def data_frame(data: bytes, address: int = BILL_VALIDATOR) -> bytes:
    """A frame of bare data (the device's replies to IDENTIFICATION, GET BILL TABLE, GET STATUS)."""
    length = 5 + len(data)
    if length > 250:
        raise ValueError("extended CCNET frames (more than 250 bytes) are not used here")
    return with_crc(bytes([SYNC, address, length]) + data)


def body(reply: bytes) -> bytes:
    """The bytes between LNG and the CRC: CMD (or status) and data."""
    return reply[3:-2]


def type_mask(types: set[int] | frozenset[int]) -> bytes:
    """Three bytes, bill type 23 in the top bit of the first, type 0 in the low bit of the last."""
    bits = 0
    for t in types:
        if 0 <= t < BILL_TYPES:
            bits |= 1 << t
    return bits.to_bytes(3, "big")


def types_of(mask: bytes) -> set[int]:
    bits = int.from_bytes(mask[:3], "big")
    return {t for t in range(BILL_TYPES) if bits >> t & 1}


def enable_bill_types(enabled: set[int] | frozenset[int], escrow: set[int] | frozenset[int]) -> bytes:
    return frame(ENABLE_BILL_TYPES, type_mask(enabled) + type_mask(escrow))


def encode_bill_table(notes: Sequence[Money | None], country: str) -> bytes:
    """24 entries of 5 bytes: leading digits, 3-letter country, power of ten (bit 7: negative)."""
    out = bytearray()
    for index in range(BILL_TYPES):
        note = notes[index] if index < len(notes) else None
        if note is None:
            out += bytes(5)
            continue
        _sign, digits, power = note.amount.normalize().as_tuple()
        value = int("".join(map(str, digits)))
        if value > 255 or not isinstance(power, int):
            raise ValueError(f"{note} cannot be written in a CCNET bill table")
        out += bytes([value]) + country.encode("ascii")[:3] + bytes([power if power >= 0 else 0x80 | -power])
    return bytes(out)


def decode_bill_table(data: bytes, currency: str) -> list[Money | None]:
    """Bill type -> note (None for an empty entry); amounts in ``currency``."""
    notes: list[Money | None] = []
    for index in range(0, min(len(data), BILL_TYPES * 5), 5):
        entry = data[index:index + 5]
        if len(entry) < 5 or entry[0] == 0:
            notes.append(None)
            continue
        power = -(entry[4] & 0x7F) if entry[4] & 0x80 else entry[4]
        try:
            notes.append(Money.of(Decimal(entry[0]).scaleb(power), currency))
        except ValueError:
            notes.append(None)  # finer than the currency's minor unit: not a note we can credit
    return notes


def country_of(data: bytes) -> str:
    """The country code of a bill table's first note ("RUS")."""
    for index in range(0, len(data) - 4, 5):
        if data[index]:
            return data[index + 1:index + 4].decode("ascii", "replace")
    return ""
