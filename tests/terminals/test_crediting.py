"""Every stacked note becomes exactly one ledger transfer: through the runner, over a pty, with
lost acknowledgements, repeated reports and workers dying at the worst moments."""

from __future__ import annotations

import pytest

from core.contracts.terminals import TerminalEvent, TerminalEventKind
from core.ledger import Ledger
from plugins.terminals.crediting import LeaseLost, note_transfer_id
from tests.terminals.conftest import rub, until


async def test_a_customers_notes_reach_their_wallet_once(any_kiosk):
    kiosk = any_kiosk
    kiosk.start_runner()
    anna = await kiosk.customer()
    session = await kiosk.start_session(anna)
    await until(lambda: kiosk.validator.accepting_notes, what="the device to take notes")
    for amount in ("100", "500", "1000"):
        assert kiosk.validator.insert(rub(amount))
    await until(lambda: kiosk.balance(anna.id), what="a credit")
    await until(lambda: len(kiosk.validator.cassette) == 3 and not kiosk.validator.waiting)
    await until(lambda: _settled(kiosk, 3), what="three settled notes")
    assert await kiosk.balance(anna.id) == 1600_00
    assert await kiosk.cash_in_box() == 1600_00
    notes = await kiosk.notes()
    assert sorted(n.amount.minor for n in notes) == [100_00, 500_00, 1000_00]
    assert {n.credited_to for n in notes} == {"customer"} and {n.session_id for n in notes} == {session.id}
    ledger = kiosk.platform.service(Ledger)
    for note in notes:
        transfer = await ledger.get_transfer(note_transfer_id(kiosk.terminal.id, note.event_id))
        assert transfer is not None and transfer.amount == note.amount.minor
    current = await kiosk.terminals.deposits.current(kiosk.terminal.id)
    assert current.notes == 3 and current.total == rub("1600")


async def _settled(kiosk, count: int) -> bool:
    notes = await kiosk.notes()
    return len(notes) == count and all(n.acknowledged_at for n in notes)


async def test_a_lost_acknowledgement_repeats_the_report_but_credits_once(kiosk):
    kiosk.start_runner()
    anna = await kiosk.customer()
    await kiosk.start_session(anna)
    await until(lambda: kiosk.validator.accepting_notes)
    kiosk.validator.lose_acks(3)  # the device never hears our first three ACKs: it repeats BILL STACKED
    kiosk.validator.insert(rub("500"))
    await until(lambda: _settled(kiosk, 1))
    stacked_replies = [f for f in kiosk.device.received if f[3] == 0x00]  # the ACKs the host sent
    assert len(stacked_replies) >= 4
    assert await kiosk.balance(anna.id) == 500_00
    assert len(await kiosk.notes()) == 1


async def test_the_same_report_recorded_twice_moves_money_once(kiosk):
    terminals = kiosk.terminals
    await terminals.store.claim(kiosk.terminal.id, "me")
    note = TerminalEvent(TerminalEventKind.STACKED, "s1-7", rub("1000"))
    first = await terminals.crediting.record_note(kiosk.terminal, note, owner="me")
    again = await terminals.crediting.record_note(kiosk.terminal, note, owner="me")
    assert first.id == again.id and first.credited_to == "unclaimed"
    assert await kiosk.cash_in_box() == 1000_00
    assert await terminals.accounts.unclaimed_total(kiosk.terminal.id, "RUB") == 1000_00


async def test_a_worker_without_the_lease_credits_nothing(kiosk):
    terminals = kiosk.terminals
    await terminals.store.claim(kiosk.terminal.id, "the-other-worker")
    with pytest.raises(LeaseLost):
        await terminals.crediting.record_note(kiosk.terminal, TerminalEvent(TerminalEventKind.STACKED, "x-1",
                                                                            rub("100")), owner="me")
    assert await kiosk.cash_in_box() == 0


async def test_a_note_carried_over_after_a_crash_is_the_recorded_one(kiosk):
    """Crash after the credit committed, before the device heard the acknowledgement."""
    terminals = kiosk.terminals
    await terminals.store.claim(kiosk.terminal.id, "first")
    recorded = TerminalEvent(TerminalEventKind.STACKED, "s1-3", rub("500"))
    await terminals.crediting.record_note(kiosk.terminal, recorded, owner="first")
    # The next worker's session opens: the device still reports the note (new driver id, carried over).
    await terminals.store.release(kiosk.terminal.id, "first")
    await terminals.store.claim(kiosk.terminal.id, "second")
    carried = TerminalEvent(TerminalEventKind.STACKED, "s2-1", rub("500"), carried_over=True)
    again = await terminals.crediting.record_note(kiosk.terminal, carried, owner="second")
    assert again.event_id == "s1-3"
    assert await kiosk.cash_in_box() == 500_00
    # Once settled, a carried-over note is a new one (the previous session crashed before recording it).
    await terminals.crediting.settle(kiosk.terminal.id, "s1-3")
    fresh = await terminals.crediting.record_note(
        kiosk.terminal, TerminalEvent(TerminalEventKind.STACKED, "s3-1", rub("500"), carried_over=True),
        owner="second")
    assert fresh.event_id == "s3-1"
    assert await kiosk.cash_in_box() == 1000_00


async def test_a_carried_over_note_of_unknown_value_waits_for_a_person(kiosk):
    terminals = kiosk.terminals
    await terminals.store.claim(kiosk.terminal.id, "w")
    record = await terminals.crediting.record_note(
        kiosk.terminal, TerminalEvent(TerminalEventKind.STACKED, "s1-1", None, carried_over=True), owner="w")
    assert record.credited_to == "review" and record.amount is None
    assert await kiosk.cash_in_box() == 0
    assert [e.id for e in await terminals.crediting.to_assign(kiosk.terminal.id)] == [record.id]


async def test_restart_mid_session_before_the_credit_committed(kiosk):
    """The worker dies with a stacked note reported but not recorded: the next worker credits it once."""
    first = kiosk.start_runner("worker-1")
    anna = await kiosk.customer()
    await kiosk.start_session(anna)
    await until(lambda: kiosk.validator.accepting_notes)
    line = await until(lambda: first.lines.get(kiosk.terminal.id))
    held = _HoldNotes(line)
    kiosk.validator.insert(rub("1000"))
    await until(lambda: held.seen, what="the runner to see the note")
    await kiosk.crash_runner(first)
    assert await kiosk.balance(anna.id) == 0
    assert kiosk.validator.phase.name == "stacked"  # still unacknowledged: the device keeps it
    await kiosk.terminals.store.release(kiosk.terminal.id, "worker-1")  # its lease runs out
    kiosk.start_runner("worker-2")
    await until(lambda: _settled(kiosk, 1), what="the carried-over note to be credited")
    assert await kiosk.balance(anna.id) == 1000_00
    notes = await kiosk.notes()
    assert len(notes) == 1 and notes[0].amount == rub("1000")


async def test_restart_mid_session_after_the_credit_committed(kiosk):
    """The worker dies after recording the note, before acknowledging it: nothing is credited twice."""
    first = kiosk.start_runner("worker-1")
    anna = await kiosk.customer()
    await kiosk.start_session(anna)
    await until(lambda: kiosk.validator.accepting_notes)
    line = await until(lambda: first.lines.get(kiosk.terminal.id))
    held = _HoldNotes(line, record_first=True)
    kiosk.validator.insert(rub("500"))
    await until(lambda: held.seen)
    await kiosk.crash_runner(first)
    assert await kiosk.balance(anna.id) == 500_00
    assert kiosk.validator.phase.name == "stacked"
    await kiosk.terminals.store.release(kiosk.terminal.id, "worker-1")
    kiosk.start_runner("worker-2")
    await until(lambda: _settled(kiosk, 1))
    await until(lambda: kiosk.validator.phase.name != "stacked")
    assert await kiosk.balance(anna.id) == 500_00
    assert len(await kiosk.notes()) == 1


async def test_restart_after_the_acknowledgement_before_the_note_was_marked(kiosk):
    """The device heard the ACK, the worker died before marking the note: the next worker marks it
    and credits the customer's next note of the same value as a new one."""
    first = kiosk.start_runner("worker-1")
    anna = await kiosk.customer()
    await kiosk.start_session(anna)
    await until(lambda: kiosk.validator.accepting_notes)
    line = await until(lambda: first.lines.get(kiosk.terminal.id))
    held = _HoldNotes(line, record_first=True, acknowledge=True)
    kiosk.validator.insert(rub("500"))
    await until(lambda: held.seen)
    await kiosk.crash_runner(first)
    assert kiosk.validator.phase.name != "stacked"  # the device moved on
    assert [n.acknowledged_at for n in await kiosk.notes()] == [None]
    await kiosk.terminals.store.release(kiosk.terminal.id, "worker-1")
    kiosk.start_runner("worker-2")
    await until(lambda: _settled(kiosk, 1), what="the first note marked by the next worker")
    await until(lambda: kiosk.validator.accepting_notes)
    kiosk.validator.insert(rub("500"))
    await until(lambda: _settled(kiosk, 2), what="the second note credited")
    assert await kiosk.balance(anna.id) == 1000_00


class _HoldNotes:
    """Stops a line at a stacked note: the worker "dies" there (optionally after recording it, and
    after the device heard the acknowledgement)."""

    def __init__(self, line, record_first: bool = False, acknowledge: bool = False) -> None:
        self.seen = False
        original = line._note

        async def hold(session, terminal, event):
            if record_first:
                await line.runner.terminals.crediting.record_note(terminal, event, owner=line.runner.owner)
            if acknowledge:
                await session.acknowledge(event)
            self.seen = True
            await _forever()

        line._note = hold
        self.original = original


async def _forever():
    import asyncio

    await asyncio.Event().wait()


async def test_a_note_with_nobody_at_the_terminal_is_unclaimed_then_assigned(kiosk, tplatform):
    from core.testing import make_identity

    runner = kiosk.start_runner()
    anna = await kiosk.customer()
    session = await kiosk.start_session(anna)
    await until(lambda: kiosk.validator.accepting_notes)
    line = await until(lambda: runner.lines.get(kiosk.terminal.id))
    original = line._note

    async def session_long_over(session_, terminal, event):
        # The customer's session ended (and its grace passed) while the note was on its way.
        await tplatform.db.execute(
            "UPDATE terminals_sessions SET ended_at = now() - interval '1 hour' WHERE id = $1", session.id)
        await original(session_, terminal, event)

    line._note = session_long_over
    kiosk.validator.insert(rub("100"))
    await until(lambda: _settled(kiosk, 1))
    note = (await kiosk.notes())[0]
    assert note.credited_to == "unclaimed" and await kiosk.balance(anna.id) == 0
    clerk = make_identity("terminals.assign")
    await kiosk.terminals.crediting.assign(note.id, anna.id, actor=clerk)
    assert await kiosk.balance(anna.id) == 100_00
    assert await kiosk.terminals.accounts.unclaimed_total(kiosk.terminal.id, "RUB") == 0
    from litestar.exceptions import ClientException

    with pytest.raises(ClientException):
        await kiosk.terminals.crediting.assign(note.id, anna.id, actor=clerk)
    assert await kiosk.balance(anna.id) == 100_00
