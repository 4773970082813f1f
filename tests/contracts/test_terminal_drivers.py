"""The cash-terminal driver contract, run against every driver through its emulator over a pty.

What any ``core.contracts.terminals.TerminalDriver`` must do:

* open a device path or pyserial URL, bring the device up and leave it taking no notes;
* let it take exactly the notes it is told to, and give back the others;
* report a stacked note with its value, the same ``event_id`` on every poll, until it is
  acknowledged; return from ``acknowledge`` only once the device stopped reporting it,
  even when acknowledgements are lost on the line;
* hand a note the device still reports from before to the next session as ``carried_over``;
* report rejected notes, faults (cash box out or full, jams) and their end, and bring the
  device up again after a power cut;
* raise ``TerminalLineError`` when the device does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from core.contracts.terminals import (
    DeviceState,
    Fault,
    TerminalDriver,
    TerminalEvent,
    TerminalEventKind,
    TerminalLineError,
    TerminalSession,
)
from core.money import Money
from core.testing import require
from plugins.terminals.ccnet import emulator as ccnet_emulator
from plugins.terminals.ccnet.driver import CcnetDriver
from plugins.terminals.emulation import EmulatedDevice, serve_device_path, serve_pty, serve_tcp
from plugins.terminals.id003 import emulator as id003_emulator
from plugins.terminals.id003.driver import Id003Driver

STACKED = TerminalEventKind.STACKED


@dataclass(frozen=True)
class Case:
    driver: Callable[[], TerminalDriver]
    emulator: Callable[[], EmulatedDevice]
    #: The protocol tells a carried-over note's value (CCNET's BILL STACKED names the bill type;
    #: ID-003's VEND VALID does not).
    carried_over_value: bool


CASES = {
    "ccnet": Case(lambda: CcnetDriver(reply_timeout_s=0.2), ccnet_emulator.build_emulator, True),
    "id003": Case(lambda: Id003Driver(reply_timeout_s=0.2), id003_emulator.build_emulator, False),
}


def rub(amount: str) -> Money:
    return Money.of(amount, "RUB")


@pytest.fixture(params=list(CASES))
def case(request) -> Case:
    return CASES[request.param]


@pytest.fixture
async def line(case):
    device = case.emulator()
    async with serve_pty(device) as path:
        yield device, path


@pytest.fixture
async def session(case, line):
    _device, path = line
    opened = await case.driver().open(path, terminal_id="t-1", currency="RUB")
    yield opened
    await opened.close()


async def poll_until(session: TerminalSession, match: Callable[[TerminalEvent], bool], polls: int = 60,
                     ) -> tuple[TerminalEvent, list[TerminalEvent]]:
    seen: list[TerminalEvent] = []
    for _ in range(polls):
        for event in await session.poll():
            seen.append(event)
            if match(event):
                return event, seen
    raise AssertionError(f"no such event in {len(seen)} events: {[(e.kind.value, e.detail) for e in seen]}")


def kind(k: TerminalEventKind, detail: str | None = None) -> Callable[[TerminalEvent], bool]:
    return lambda e: e.kind is k and (detail is None or e.detail == detail)


async def test_opening_reads_the_device_and_leaves_it_taking_nothing(session, line):
    device, _path = line
    assert isinstance(session, TerminalSession)
    assert set(session.denominations) == set(device.validator.denominations)
    assert session.info.get("protocol")
    await poll_until(session, kind(TerminalEventKind.STATE, DeviceState.DISABLED))
    assert not device.validator.accepting_notes
    assert not device.validator.insert(rub("100"))


async def test_enabled_notes_are_stacked_and_reported_until_acknowledged(session, line):
    device, _path = line
    await session.enable([rub("100"), rub("500")])
    assert device.validator.insert(rub("100"))
    note, _ = await poll_until(session, kind(STACKED))
    assert note.amount == rub("100") and not note.carried_over and note.needs_acknowledgement
    for _ in range(3):  # not acknowledged: reported again, the same event
        again = [e for e in await session.poll() if e.kind is STACKED]
        assert again == [note]
    assert device.validator.cassette == [rub("100")]
    await session.acknowledge(note)
    for _ in range(5):
        assert not [e for e in await session.poll() if e.kind is STACKED]
    assert device.validator.phase.name not in ("stacked",)
    assert device.validator.cassette == [rub("100")]


async def test_a_second_note_is_a_second_event(session, line):
    device, _path = line
    await session.enable([rub("100"), rub("500")])
    ids = []
    for amount in ("500", "100"):
        device.validator.insert(rub(amount))
        note, _ = await poll_until(session, kind(STACKED))
        assert note.amount == rub(amount)
        await session.acknowledge(note)
        ids.append(note.event_id)
    assert len(set(ids)) == 2
    assert device.validator.cassette == [rub("500"), rub("100")]


async def test_notes_not_taken_go_back(session, line):
    device, _path = line
    await session.enable([rub("100")])
    device.validator.insert(rub("500"))
    device.validator.insert_counterfeit()
    rejected, seen = await poll_until(session, kind(TerminalEventKind.REJECTED))
    assert rejected.detail == "inhibit"
    _fake, more = await poll_until(session, kind(TerminalEventKind.REJECTED, "verification"))
    assert not [e for e in seen + more if e.kind is STACKED]
    assert device.validator.cassette == [] and len(device.validator.given_back) == 2


async def test_a_note_the_host_does_not_take_is_returned_from_escrow(session, line):
    """Even when the device itself would take it (its settings out of step with the host's)."""
    device, _path = line
    await session.enable([rub("100")])
    every = set(range(len(device.validator.denominations)))
    device.validator.set_enabled(every, every)
    device.validator.insert(rub("1000"))
    returned, seen = await poll_until(session, kind(TerminalEventKind.RETURNED))
    assert returned.amount == rub("1000")
    _idle, more = await poll_until(session, kind(TerminalEventKind.STATE, DeviceState.IDLE))
    assert not [e for e in seen + more if e.kind is STACKED]
    assert device.validator.given_back == [rub("1000")] and device.validator.cassette == []


async def test_a_lost_acknowledgement_is_sent_again(session, line):
    device, _path = line
    await session.enable([rub("1000")])
    device.validator.insert(rub("1000"))
    note, _ = await poll_until(session, kind(STACKED))
    device.validator.lose_acks(2)
    await session.acknowledge(note)
    assert device.validator.phase.name != "stacked"
    for _ in range(5):
        assert not [e for e in await session.poll() if e.kind is STACKED]
    assert device.validator.cassette == [rub("1000")]


async def test_a_note_not_acknowledged_is_carried_over_to_the_next_session(case, line):
    device, path = line
    first = await case.driver().open(path, terminal_id="t-1", currency="RUB")
    await first.enable([rub("500")])
    device.validator.insert(rub("500"))
    note, _ = await poll_until(first, kind(STACKED))
    await first.close()  # the host dies before acknowledging
    second = await case.driver().open(path, terminal_id="t-1", currency="RUB")
    try:
        carried, _ = await poll_until(second, kind(STACKED), polls=3)
        assert carried.carried_over and carried.event_id != note.event_id
        assert carried.amount == (rub("500") if case.carried_over_value else None)
        await second.acknowledge(carried)
        await second.enable([rub("100")])  # the session goes on as usual
        device.validator.insert(rub("100"))
        fresh, _ = await poll_until(second, kind(STACKED))
        assert not fresh.carried_over and fresh.amount == rub("100")
        await second.acknowledge(fresh)
    finally:
        await second.close()
    assert device.validator.cassette == [rub("500"), rub("100")]


async def test_faults_are_reported_and_their_end_too(session, line):
    device, _path = line
    await session.enable([rub("100")])
    await poll_until(session, kind(TerminalEventKind.STATE, DeviceState.IDLE))
    for fault, start, end in (
        (Fault.CASSETTE_REMOVED, device.validator.remove_cassette, device.validator.replace_cassette),
        (Fault.JAMMED, device.validator.jam, device.validator.clear_jam),
        (Fault.CASSETTE_JAMMED, device.validator.jam_cassette, device.validator.clear_jam),
    ):
        start()
        await poll_until(session, kind(TerminalEventKind.FAULT, fault))
        end()
        await poll_until(session, kind(TerminalEventKind.STATE, DeviceState.IDLE))
    device.validator.fill_cassette()
    await poll_until(session, kind(TerminalEventKind.FAULT, Fault.CASSETTE_FULL))
    assert not device.validator.insert(rub("100"))


async def test_a_failure_names_its_cause(session, line):
    device, _path = line
    device.validator.fail("transport_motor")
    event, _ = await poll_until(session, kind(TerminalEventKind.FAULT))
    assert event.detail == f"{Fault.FAILURE}:transport_motor"


async def test_power_cut_with_a_note_on_its_way_to_the_box(session, line):
    device, _path = line
    await session.enable([rub("5000")])
    resets = device.validator.resets
    device.validator.insert(rub("5000"))
    await poll_until(session, kind(TerminalEventKind.STATE, DeviceState.STACKING))
    device.validator.power_cycle("stacker")
    _fault, seen = await poll_until(session, kind(TerminalEventKind.FAULT, Fault.POWER_UP_NOTE_IN_STACKER))
    assert not [e for e in seen if e.kind is STACKED]  # nobody will hear of it: the host flags it
    await poll_until(session, kind(TerminalEventKind.STATE, DeviceState.IDLE))
    assert device.validator.resets == resets + 1 and device.validator.accepting_notes  # up and enabled again
    assert device.validator.cassette == [rub("5000")]


async def test_power_cut_with_a_note_in_the_head_gives_it_back(session, line):
    device, _path = line
    await session.enable([rub("100")])
    device.validator.insert(rub("100"))
    await poll_until(session, kind(TerminalEventKind.STATE, DeviceState.ACCEPTING))
    device.validator.power_cycle("validator")
    await poll_until(session, kind(TerminalEventKind.FAULT, Fault.POWER_UP_NOTE_IN_VALIDATOR))
    await poll_until(session, kind(TerminalEventKind.STATE, DeviceState.IDLE))
    assert device.validator.given_back == [rub("100")] and device.validator.cassette == []


async def test_a_silent_device_is_a_line_error(session, line):
    device, _path = line
    device.validator.mute = True
    with pytest.raises(TerminalLineError):
        await session.poll()


async def test_a_missing_port_is_a_line_error(case, tmp_path):
    with pytest.raises(TerminalLineError):
        await case.driver().open(str(tmp_path / "no-such-tty"), terminal_id="t-1", currency="RUB")


async def test_over_a_socket_url(case):
    device = case.emulator()
    async with serve_tcp(device) as url:
        opened = await case.driver().open(url, terminal_id="t-1", currency="RUB")
        try:
            await opened.enable([rub("200")])
            device.validator.insert(rub("200"))
            note, _ = await poll_until(opened, kind(STACKED))
            await opened.acknowledge(note)
        finally:
            await opened.close()
    assert device.validator.cassette == [rub("200")]


@contextlib.asynccontextmanager
async def socat_pair(tmp_path) -> Any:
    require("socat", shutil.which("socat") is not None)
    host, device_end = tmp_path / "ttyV0", tmp_path / "ttyV1"
    process = subprocess.Popen(["socat", f"pty,raw,echo=0,link={host}", f"pty,raw,echo=0,link={device_end}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if host.exists() and device_end.exists():
                break
            await asyncio.sleep(0.01)
        yield str(host), str(device_end)
    finally:
        process.terminate()
        process.wait(timeout=5)


async def test_over_a_socat_pair(case, tmp_path):
    device = case.emulator()
    async with socat_pair(tmp_path) as (host, device_end), serve_device_path(device, device_end):
        opened = await case.driver().open(host, terminal_id="t-1", currency="RUB")
        try:
            await opened.enable([rub("1000")])
            device.validator.insert(rub("1000"))
            note, _ = await poll_until(opened, kind(STACKED))
            assert note.amount == rub("1000")
            await opened.acknowledge(note)
        finally:
            await opened.close()
    assert device.validator.cassette == [rub("1000")]
