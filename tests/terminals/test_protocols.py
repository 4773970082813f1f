"""CCNET and ID-003 at the byte level: every CRC vector of the reference, framing, tables, and
the emulators' answers (parity cannot be exercised over a pty, so encodings are checked here)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import Money
from plugins.terminals.ccnet import emulator as ccnet_emulator
from plugins.terminals.ccnet import protocol as ccnet
from plugins.terminals.crc import crc16_kermit, crc_ok, with_crc
from plugins.terminals.id003 import emulator as id003_emulator
from plugins.terminals.id003 import protocol as id003

# shared/reference/protocols.md §6.1 and §6.2
CCNET_VECTORS = {
    "02 03 06 30 41 B3": (ccnet.RESET, b""),
    "02 03 06 31 C8 A2": (ccnet.GET_STATUS, b""),
    "02 03 06 33 DA 81": (ccnet.POLL, b""),
    "02 03 06 00 C2 82": (ccnet.ACK, b""),
    "02 03 06 35 EC E4": (ccnet.STACK, b""),
    "02 03 06 36 77 D6": (ccnet.RETURN, b""),
    "02 03 06 37 FE C7": (ccnet.IDENTIFICATION, b""),
    "02 03 06 41 4F D1": (ccnet.GET_BILL_TABLE, b""),
    "02 03 0C 34 FF FF FF 00 00 00 B5 C1": (ccnet.ENABLE_BILL_TYPES, bytes.fromhex("FFFFFF000000")),
    "02 03 0C 34 00 00 00 00 00 00 17 0C": (ccnet.ENABLE_BILL_TYPES, bytes(6)),
    "02 03 06 14 67 D4": (ccnet.IDLING, b""),
    "02 03 07 81 02 46 09": (ccnet.BILL_STACKED, b"\x02"),
}
ID003_VECTORS = {
    "FC 05 11 27 56": (id003.STATUS_REQUEST, b""),
    "FC 05 40 2B 15": (id003.RESET, b""),
    "FC 05 41 A2 04": (id003.STACK_1, b""),
    "FC 05 43 B0 27": (id003.RETURN, b""),
    "FC 05 50 AA 05": (id003.ACK, b""),
    "FC 05 88 6F 5F": (id003.GET_VERSION, b""),
    "FC 05 8A 7D 7C": (id003.GET_CURRENCY_ASSIGN, b""),
    "FC 06 C3 01 8D C7": (id003.SET_INHIBIT, b"\x01"),
    "FC 06 C3 00 04 D6": (id003.SET_INHIBIT, b"\x00"),
    "FC 07 C0 00 00 2D B5": (id003.SET_ENABLE, b"\x00\x00"),
}


def test_crc16_kermit_check_value():
    assert crc16_kermit(b"123456789") == 0x2189


@pytest.mark.parametrize("hex_frame", list(CCNET_VECTORS))
def test_ccnet_vectors(hex_frame):
    command, data = CCNET_VECTORS[hex_frame]
    expected = bytes.fromhex(hex_frame)
    assert ccnet.frame(command, data) == expected
    assert with_crc(expected[:-2]) == expected and crc_ok(expected)


@pytest.mark.parametrize("hex_frame", list(ID003_VECTORS))
def test_id003_vectors(hex_frame):
    command, data = ID003_VECTORS[hex_frame]
    expected = bytes.fromhex(hex_frame)
    assert id003.frame(command, data) == expected
    assert crc_ok(expected)


def test_enable_all_bill_types_is_the_reference_frame():
    assert ccnet.enable_bill_types(set(range(24)), set()) == bytes.fromhex("02 03 0C 34 FF FF FF 00 00 00 B5 C1")
    assert ccnet.types_of(bytes.fromhex("000005")) == {0, 2}
    assert id003.disable_mask(set(range(0x61, 0x71))) == b"\x00\x00"
    assert id003.enabled_codes(b"\xfe\xff") == {0x61}


@given(st.binary(max_size=40))
def test_a_frame_with_its_crc_checks_to_zero(body):
    assert crc16_kermit(with_crc(body)) == 0


@given(st.lists(st.tuples(st.sampled_from(list(CCNET_VECTORS)), st.binary(max_size=6)), max_size=6))
def test_frames_are_found_between_noise(chunks):
    """Bytes before a frame's SYNC are dropped; the frames come out whole and in order."""
    stream = bytearray()
    expected = []
    for hex_frame, noise in chunks:
        stream += noise.replace(b"\x02", b"") + bytes.fromhex(hex_frame)
        expected.append(bytes.fromhex(hex_frame))
    frames, rest = ccnet.FRAME.split(bytearray(stream))
    assert frames == expected and rest == b""


def test_a_partial_frame_waits_for_the_rest():
    whole = bytes.fromhex("02 03 07 81 02 46 09")
    frames, rest = ccnet.FRAME.split(bytearray(whole[:4]))
    assert frames == [] and rest == whole[:4]
    frames, rest = ccnet.FRAME.split(rest + bytearray(whole[4:]))
    assert frames == [whole] and rest == b""


@given(st.lists(st.sampled_from(["10", "50", "100", "200", "500", "1000", "2000", "5000", "0.50", "25000"]),
                min_size=1, max_size=24))
def test_ccnet_bill_tables_round_trip(amounts):
    notes = [Money.of(a, "RUB") for a in amounts]
    decoded = ccnet.decode_bill_table(ccnet.encode_bill_table(notes, "RUS"), "RUB")
    assert decoded[:len(notes)] == notes and all(n is None for n in decoded[len(notes):])


@given(st.lists(st.sampled_from(["1", "5", "10", "20", "50", "100", "200", "500", "1000", "2000", "5000"]),
                min_size=1, max_size=16, unique=True))
def test_id003_currency_assignments_round_trip(amounts):
    notes = [Money.of(a, "KZT") for a in amounts]
    decoded = id003.decode_currency_assign(id003.encode_currency_assign(notes), "KZT")
    assert list(decoded.values()) == notes and min(decoded) == id003.FIRST_CODE


def test_a_note_a_table_cannot_hold_is_refused():
    with pytest.raises(ValueError):
        ccnet.encode_bill_table([Money.of(Decimal("257"), "RUB")], "RUS")


def test_ccnet_emulator_answers_like_a_validator():
    device = ccnet_emulator.build_emulator()
    assert device.feed(ccnet.frame(ccnet.POLL)) == ccnet.frame(ccnet.POWER_UP)
    # not acknowledged: the same reply again
    assert device.feed(ccnet.frame(ccnet.POLL)) == ccnet.frame(ccnet.POWER_UP)
    assert device.feed(ccnet.frame(ccnet.ACK)) == b""
    assert device.feed(ccnet.frame(ccnet.RESET)) == ccnet.frame(ccnet.ACK)
    assert device.feed(ccnet.frame(ccnet.POLL)) == ccnet.frame(ccnet.INITIALIZE)
    table = device.feed(ccnet.frame(ccnet.GET_BILL_TABLE))
    assert len(table) == 125 and crc_ok(table)
    assert ccnet.decode_bill_table(ccnet.body(table), "RUB")[5] == Money.of("5000", "RUB")
    assert device.feed(ccnet.frame(ccnet.STACK)) == ccnet.frame(ccnet.ILLEGAL_COMMAND)  # nothing in escrow
    assert device.feed(bytes.fromhex("02 03 06 33 DA 80")) == ccnet.frame(ccnet.NAK)  # bad CRC
    assert device.feed(ccnet.frame(ccnet.POLL, address=0x01)) == b""  # another device's frame
    assert device.feed(ccnet.frame(0x5A)) == ccnet.frame(ccnet.ILLEGAL_COMMAND)


def test_id003_emulator_answers_like_a_validator():
    device = id003_emulator.build_emulator()
    assert device.feed(id003.frame(id003.STATUS_REQUEST)) == id003.frame(id003.POWER_UP)
    assert device.feed(id003.frame(id003.RESET)) == id003.frame(id003.ACK)
    assert device.feed(id003.frame(id003.STATUS_REQUEST)) == id003.frame(id003.INITIALIZE)
    setting = id003.frame(id003.SET_INHIBIT, b"\x00")
    assert device.feed(setting) == setting  # settings are echoed
    assert device.feed(id003.frame(id003.GET_INHIBIT)) == id003.frame(id003.GET_INHIBIT, b"\x00")
    assign = device.feed(id003.frame(id003.GET_CURRENCY_ASSIGN))
    assert id003.decode_currency_assign(id003.body(assign)[1:], "RUB")[0x68] == Money.of("5000", "RUB")
    assert device.feed(bytes.fromhex("FC 05 11 27 57")) == b""  # bad CRC: no answer
    assert device.feed(id003.frame(0x7E)) == id003.frame(id003.INVALID_COMMAND)
