"""Demo data: two emulated terminals in the lobby (CashCode CCNET and JCM ID-003), a few notes
in the first one's cash box.

The terminals' port is ``emulator``: in the sandbox the worker puts their driver's emulator on
a pseudo-terminal and drives it like a real device. Anna (anna@example.com) gets a deposit from
it (a session and two notes, credited the way the runner credits them), so its pages have
something to show. Idempotent: a second run finds the terminal and the notes.
"""

from __future__ import annotations

import uuid
from typing import Any

from core.contracts.terminals import TerminalEvent, TerminalEventKind
from core.money import Money
from core.users.service import Users
from plugins.terminals.records import Conflict
from plugins.terminals.service import Terminals

TERMINAL = "lobby-1"
#: The second demo terminal, on the ID-003 driver.
SECOND_TERMINAL = "lobby-2"
DEMO = uuid.UUID("6f1f7c3e-2b0a-4a57-9d8e-7e4a11a10001")
DEMO_OWNER = "demo"
#: The demo terminals' kiosk keys, for the demo's kiosk screens (a real terminal gets a random one).
KIOSK_KEY = "lobby-demo-kiosk"
SECOND_KIOSK_KEY = "lobby-2-demo-kiosk"


async def load(platform: Any, progress: Any) -> None:
    terminals = platform.service(Terminals)
    drivers = terminals.store.driver_names()
    if "id003" in drivers:
        await _terminal(platform, progress, SECOND_TERMINAL, "id003", "Lobby terminal 2 (JCM)", SECOND_KIOSK_KEY)
    if "ccnet" not in drivers:
        return
    terminal = await _terminal(platform, progress, TERMINAL, "ccnet", "Lobby terminal 1 (CashCode)", KIOSK_KEY)
    anna = await platform.service(Users).find("anna@example.com")
    if anna is None or await terminals.deposits.of_user(anna.id, limit=1):
        return
    # Anna's earlier visit: recorded as the runner records one (a session, two stacked notes).
    session = uuid.uuid5(DEMO, "session")
    async with platform.db.transaction() as conn:
        await conn.execute(
            """INSERT INTO terminals_sessions (id, terminal_id, user_id, currency, started_at, expires_at)
               VALUES ($1, $2, $3, $4, now() - interval '2 days', now() + interval '1 minute')""",
            session, terminal.id, anna.id, terminal.currency)
        # The notes are credited the way the runner credits them, under a lease the demo holds briefly.
        await conn.execute("UPDATE terminals_terminals SET lease_owner = $2 WHERE id = $1", terminal.id, DEMO_OWNER)
        for index, amount in enumerate(("1000", "500")):
            note = TerminalEvent(TerminalEventKind.STACKED, f"demo-{index}", Money.of(amount, terminal.currency))
            await terminals.crediting.record_note(terminal, note, owner=DEMO_OWNER)
            await terminals.crediting.settle(terminal.id, note.event_id)
        await conn.execute("UPDATE terminals_sessions SET ended_at = started_at + interval '2 minutes', "
                           "end_reason = 'finished' WHERE id = $1", session)
        await conn.execute("UPDATE terminals_terminals SET lease_owner = NULL WHERE id = $1", terminal.id)
    progress("demo terminal deposit")


async def _terminal(platform: Any, progress: Any, terminal_id: str, driver: str, title: str, kiosk_key: str) -> Any:
    """The demo terminal, created on the first run."""
    terminals = platform.service(Terminals)
    try:
        terminal, _key = await terminals.store.create({
            "id": terminal_id, "title": title, "driver": driver,
            "port": "emulator" if platform.core.platform.sandbox else "/dev/ttyUSB0",
            "location": "Head office, ground floor lobby"}, kiosk_key=kiosk_key)
        progress(f"demo terminal {terminal_id}")
    except Conflict:
        terminal = await terminals.store.get(terminal_id)
    return terminal
