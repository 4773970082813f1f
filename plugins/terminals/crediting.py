"""What a terminal's device reported, recorded; every stacked note credited exactly once.

A stacked note becomes one ledger transfer from the terminal's cash box to the wallet of the
customer at the terminal (or, with nobody there, to the terminal's unclaimed account). Its id
is ``transfer_id("terminals", "note", terminal, event_id)`` and its event row is unique on
(terminal, event_id): the same report read again, after a lost acknowledgement or a restart,
finds both and moves nothing.

Across sessions the driver's event ids differ, so a note the device still reports when a
session opens (``carried_over``) is matched to the last note this terminal recorded but never
saw acknowledged: the device cannot report a new note before the previous one was
acknowledged, and the runner never acknowledges before it has recorded. A recorded note is
marked acknowledged once the driver has heard the device move on; notes still unmarked after
the first poll of a session were acknowledged after all (the marking was lost with the
previous worker) and are marked then.

Every write that credits checks, under the terminal's row lock, that this worker still holds
the terminal's lease: a worker that lost it cannot credit what the new holder will credit.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from uuid import UUID

from core.access.audit import AuditLog
from core.contracts.terminals import TerminalEvent, TerminalEventKind
from core.ledger import Ledger, transfer_id
from core.money import Money
from core.web.i18n import gettext as _
from plugins.terminals.accounts import TerminalAccounts
from plugins.terminals.records import Conflict, EventRecord, Refused, TerminalRecord, not_found

if TYPE_CHECKING:
    from core.access import Identity
    from core.platform import Platform
    from plugins.terminals.settings import TerminalsSettings

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker holds the terminal now; this one must let the line go."""


class PostingRefused(Exception):
    """The ledger refused a transfer a note needed (the detail says why)."""


def note_transfer_id(terminal_id: str, event_id: str) -> UUID:
    return transfer_id("terminals", "note", terminal_id, event_id)


class Crediting:
    def __init__(self, platform: Platform, settings: TerminalsSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.accounts = TerminalAccounts(platform)

    @property
    def db(self) -> Any:
        return self.platform.db

    async def _hold_lease(self, conn: Any, terminal_id: str, owner: str) -> None:
        holder = await conn.fetchval("SELECT lease_owner FROM terminals_terminals WHERE id = $1 FOR UPDATE",
                                     terminal_id)
        if holder != owner:
            raise LeaseLost(f"terminal {terminal_id} is held by {holder or 'nobody'}")

    # -- notes -----------------------------------------------------------------------------------------

    async def record_note(self, terminal: TerminalRecord, event: TerminalEvent, *, owner: str) -> EventRecord:
        """Credit a stacked note once; returns its record (the earlier one for a repeat)."""
        if event.kind is not TerminalEventKind.STACKED:
            raise ValueError(f"not a stacked note: {event}")
        if event.amount is not None and event.amount.currency != terminal.currency:
            raise ValueError(f"a {event.amount.currency} note on a {terminal.currency} terminal")
        async with self.db.transaction() as conn:
            await self._hold_lease(conn, terminal.id, owner)
            if event.carried_over:
                earlier = await conn.fetchrow(
                    """SELECT * FROM terminals_events WHERE terminal_id = $1 AND kind = 'stacked'
                          AND acknowledged_at IS NULL ORDER BY id DESC LIMIT 1""", terminal.id)
                if earlier is not None and (event.amount is None or earlier["amount_minor"] in (None,
                                                                                               event.amount.minor)):
                    return EventRecord.of(earlier)  # the note the previous session recorded
            existing = await conn.fetchrow("SELECT * FROM terminals_events WHERE terminal_id = $1 AND event_id = $2",
                                           terminal.id, event.event_id)
            if existing is not None:
                return EventRecord.of(existing)
            await self._settle_stale(conn, terminal.id)
            session = await self._session_for(conn, terminal.id)
            if event.amount is None:
                # A note carried over from a session that never recorded it, whose value the device no
                # longer tells (ID-003's VEND VALID has none): a person counts and assigns it.
                return await self._insert(conn, terminal, event, session, credited_to="review",
                                          detail=event.detail or "value unknown")
            return await self._credit(conn, terminal, event, session)

    async def _credit(self, conn: Any, terminal: TerminalRecord, event: TerminalEvent, session: Any) -> EventRecord:
        amount = event.amount
        assert amount is not None
        cashbox = await self.accounts.cashbox(terminal.id, amount.currency)
        if session is not None:
            target, credited_to = await self.accounts.wallet(session["user_id"], amount.currency), "customer"
        else:
            target, credited_to = await self.accounts.unclaimed(terminal.id, amount.currency), "unclaimed"
        transfer = note_transfer_id(terminal.id, event.event_id)
        result = await self.platform.service(Ledger).transfer(
            id=transfer, debit_account_id=cashbox.id, credit_account_id=target.id, amount=amount.minor,
            currency=amount.currency, code="terminals.note",
            metadata={"terminal": terminal.id, "event_id": event.event_id,
                      "session_id": str(session["id"]) if session else None})
        if not result.accepted:
            raise PostingRefused(f"ledger refused {transfer}: {result.code.value} {result.detail}".strip())
        record = await self._insert(conn, terminal, event, session, credited_to=credited_to, transfer=transfer)
        if session is not None:
            await conn.execute(
                """UPDATE terminals_sessions
                      SET notes = notes + 1, total_minor = total_minor + $2,
                          expires_at = CASE WHEN ended_at IS NULL
                                            THEN greatest(expires_at, now() + make_interval(secs => $3))
                                            ELSE expires_at END
                    WHERE id = $1""", session["id"], amount.minor, self.settings.session_idle_s)
        return record

    async def _session_for(self, conn: Any, terminal_id: str) -> Any:
        """The session a note stacked now belongs to: the open one, or one that ended moments ago."""
        return await conn.fetchrow(
            """SELECT * FROM terminals_sessions
                WHERE terminal_id = $1
                  AND (ended_at IS NULL OR ended_at > now() - make_interval(secs => $2))
                ORDER BY (ended_at IS NULL) DESC, started_at DESC LIMIT 1""",
            terminal_id, self.settings.session_grace_s)

    async def _insert(self, conn: Any, terminal: TerminalRecord, event: TerminalEvent, session: Any, *,
                      credited_to: str = "", transfer: UUID | None = None, detail: str | None = None) -> EventRecord:
        row = await conn.fetchrow(
            """INSERT INTO terminals_events (terminal_id, event_id, kind, detail, amount_minor, currency, session_id,
                   user_id, credited_to, transfer_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               ON CONFLICT (terminal_id, event_id) DO NOTHING RETURNING *""",
            terminal.id, event.event_id[:100], event.kind.value, (event.detail if detail is None else detail)[:300],
            event.amount.minor if event.amount else None, event.amount.currency if event.amount else None,
            session["id"] if session else None, session["user_id"] if session else None, credited_to, transfer)
        if row is None:
            row = await conn.fetchrow("SELECT * FROM terminals_events WHERE terminal_id = $1 AND event_id = $2",
                                      terminal.id, event.event_id[:100])
        return EventRecord.of(row)

    async def settle(self, terminal_id: str, event_id: str) -> None:
        """The device heard the acknowledgement of this note."""
        await self.db.execute(
            """UPDATE terminals_events SET acknowledged_at = now()
                WHERE terminal_id = $1 AND event_id = $2 AND acknowledged_at IS NULL""", terminal_id, event_id)

    async def settle_stale(self, terminal_id: str) -> None:
        """The device reports no note left over: every recorded note was acknowledged."""
        await self._settle_stale(self.db, terminal_id)

    @staticmethod
    async def _settle_stale(conn: Any, terminal_id: str) -> None:
        await conn.execute(
            """UPDATE terminals_events SET acknowledged_at = now()
                WHERE terminal_id = $1 AND kind = 'stacked' AND acknowledged_at IS NULL""", terminal_id)

    # -- everything else the device says ----------------------------------------------------------------

    async def record_event(self, terminal: TerminalRecord, event: TerminalEvent) -> EventRecord:
        """Keep a returned or rejected note, a fault or a state change in the terminal's log."""
        async with self.db.transaction() as conn:
            session = await conn.fetchrow(
                "SELECT id, user_id FROM terminals_sessions WHERE terminal_id = $1 AND ended_at IS NULL",
                terminal.id)
            return await self._insert(conn, terminal, event, session)

    async def record_line(self, terminal: TerminalRecord, event_id: str, detail: str) -> None:
        """Something about the line itself (opened, lost), from the runner."""
        await self.db.execute(
            """INSERT INTO terminals_events (terminal_id, event_id, kind, detail) VALUES ($1, $2, 'line', $3)
               ON CONFLICT (terminal_id, event_id) DO NOTHING""", terminal.id, event_id[:100], detail[:300])

    # -- reading ------------------------------------------------------------------------------------------

    async def events(self, terminal_id: str, *, kinds: tuple[str, ...] | None = None, before_id: int | None = None,
                     limit: int = 100) -> list[EventRecord]:
        rows = await self.db.fetch(
            """SELECT * FROM terminals_events
                WHERE terminal_id = $1 AND ($2::text[] IS NULL OR kind = ANY($2))
                  AND ($3::bigint IS NULL OR id < $3)
                ORDER BY id DESC LIMIT $4""",
            terminal_id, list(kinds) if kinds else None, before_id, max(1, min(limit, 500)))
        return [EventRecord.of(r) for r in rows]

    async def to_assign(self, terminal_id: str | None = None) -> list[EventRecord]:
        """Notes credited to nobody (unclaimed) or of unknown value (review), not yet given to anyone."""
        rows = await self.db.fetch(
            """SELECT * FROM terminals_events WHERE credited_to IN ('unclaimed', 'review') AND assigned_to IS NULL
                  AND ($1::text IS NULL OR terminal_id = $1) ORDER BY id""", terminal_id)
        return [EventRecord.of(r) for r in rows]

    # -- giving an unclaimed note to its owner ----------------------------------------------------------------

    async def assign(self, event_row_id: int, user_id: UUID, *, amount: Money | None = None,
                     actor: Identity | None = None) -> EventRecord:
        """Credit an unclaimed note (or one of unknown value: ``amount`` as counted) to a customer."""
        async with self.db.transaction() as conn:
            row = await conn.fetchrow("SELECT * FROM terminals_events WHERE id = $1 FOR UPDATE", event_row_id)
            if row is None or row["credited_to"] not in ("unclaimed", "review"):
                raise not_found(_("unclaimed note"), event_row_id)
            if row["assigned_to"] is not None:
                raise Conflict(_("this note was given to a customer already"))
            terminal_id = row["terminal_id"]
            currency = row["currency"] or await conn.fetchval(
                "SELECT currency FROM terminals_terminals WHERE id = $1", terminal_id)
            if row["credited_to"] == "unclaimed":
                value = Money(row["amount_minor"], currency)
                source = await self.accounts.unclaimed(terminal_id, currency)
            else:
                if amount is None or amount.minor <= 0 or amount.currency != currency:
                    raise Refused(_("amount: the note's value in %(currency)s, as counted", currency=currency))
                value = amount
                source = await self.accounts.cashbox(terminal_id, currency)
            wallet = await self.accounts.wallet(user_id, currency)
            transfer = transfer_id("terminals", "assign", terminal_id, row["event_id"])
            result = await self.platform.service(Ledger).transfer(
                id=transfer, debit_account_id=source.id, credit_account_id=wallet.id, amount=value.minor,
                currency=currency, code="terminals.note_assigned",
                metadata={"terminal": terminal_id, "event_id": row["event_id"]})
            if not result.accepted:
                raise Conflict(_("the ledger refused the transfer: %(code)s", code=result.code.value))
            updated = await conn.fetchrow(
                """UPDATE terminals_events SET assigned_to = $2, assigned_at = now(),
                          amount_minor = coalesce(amount_minor, $3), currency = coalesce(currency, $4)
                    WHERE id = $1 RETURNING *""", event_row_id, user_id, value.minor, currency)
            await self.platform.service(AuditLog).record(
                action="terminals.note_assigned", target=f"terminal:{terminal_id}", actor=actor,
                details={"event": row["event_id"], "user_id": str(user_id), "amount": str(value),
                         "was": row["credited_to"]})
        return EventRecord.of(updated)
