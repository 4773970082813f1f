"""Demo data: one emulated CashCode terminal in the lobby, with a few notes in its cash box.

The terminal's port is ``emulator``: in the sandbox the worker puts a CCNET emulator on a
pseudo-terminal and drives it like a real device. Anna (anna@example.com) gets a deposit from
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
DEMO = uuid.UUID("6f1f7c3e-2b0a-4a57-9d8e-7e4a11a10001")
DEMO_OWNER = "demo"
#: The demo terminal's kiosk key, for the demo's kiosk screen (a real terminal gets a random one).
KIOSK_KEY = "lobby-demo-kiosk"


async def load(platform: Any, progress: Any) -> None:
    terminals = platform.service(Terminals)
    if "ccnet" not in terminals.store.driver_names():
        return
    try:
        terminal, _key = await terminals.store.create({
            "id": TERMINAL, "title": "Lobby terminal", "driver": "ccnet",
            "port": "emulator" if platform.core.platform.sandbox else "/dev/ttyUSB0",
            "location": "Head office, ground floor lobby"}, kiosk_key=KIOSK_KEY)
        progress(f"demo terminal {TERMINAL}")
    except Conflict:
        terminal = await terminals.store.get(TERMINAL)
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
