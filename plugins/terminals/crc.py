"""CRC-16/KERMIT, the checksum of CCNET and ID-003 frames.

Polynomial 0x1021 reflected (0x8408), initial value 0, no final XOR, bytes processed
least significant bit first; sent low byte first. ``crc16_kermit(b"123456789") == 0x2189``.
A frame followed by its CRC checks to zero.
"""

from __future__ import annotations


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def crc16_kermit(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def with_crc(body: bytes) -> bytes:
    """``body`` followed by its CRC, low byte first."""
    return body + crc16_kermit(body).to_bytes(2, "little")


def crc_ok(frame: bytes) -> bool:
    return len(frame) >= 3 and crc16_kermit(frame) == 0
