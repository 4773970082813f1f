"""Encashment: the cash box is emptied and its money starts its way to the bank.

An admin records a collection when the collector takes the cash box (the device reports it
removed). In one transaction, under the terminal's row lock (so no note is credited half
before, half after), the cash box account's balance moves to the cash-in-transit account and
the collection is filed with its report: the notes the device reported stacked since the last
collection, by denomination, and the ledger's amount. The two agree unless notes of unknown
value were assigned by hand; the report shows both.

The collection's id comes from the admin's form, so sending the form twice records one
collection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from core.access.audit import AuditLog
from core.ledger import Ledger, transfer_id
from core.web.i18n import gettext as _
from plugins.terminals import records
from plugins.terminals.accounts import TerminalAccounts
from plugins.terminals.records import CollectionRecord, Conflict, not_found

if TYPE_CHECKING:
    from core.access import Identity
    from core.platform import Platform


class Encashment:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.accounts = TerminalAccounts(platform)

    @property
    def db(self) -> Any:
        return self.platform.db

    async def collect(self, terminal_id: str, *, collection_id: UUID, collector: str = "", seal: str = "",
                      note: str = "", actor: Identity | None = None) -> CollectionRecord:
        collector = records.text_field("collector", collector, 200)
        seal = records.text_field("seal", seal, 100)
        note = records.text_field("note", note, 2000)
        async with self.db.transaction() as conn:
            terminal = await conn.fetchrow("SELECT id, currency FROM terminals_terminals WHERE id = $1 FOR UPDATE",
                                           str(terminal_id)[:40])
            if terminal is None:
                raise not_found(_("terminal"), terminal_id)
            done = await conn.fetchrow("SELECT * FROM terminals_collections WHERE id = $1", collection_id)
            if done is not None:
                if done["terminal_id"] != terminal["id"]:
                    raise Conflict(_("this collection was recorded for another terminal"))
                return CollectionRecord.of(done)
            currency = terminal["currency"]
            since = await conn.fetchval(
                "SELECT coalesce(max(last_event_id), 0) FROM terminals_collections WHERE terminal_id = $1",
                terminal["id"])
            counts = await conn.fetch(
                """SELECT amount_minor, count(*) AS notes, max(id) AS last FROM terminals_events
                    WHERE terminal_id = $1 AND kind = 'stacked' AND id > $2 AND amount_minor IS NOT NULL
                    GROUP BY amount_minor""", terminal["id"], since)
            last_event = await conn.fetchval(
                "SELECT coalesce(max(id), $2) FROM terminals_events WHERE terminal_id = $1 AND kind = 'stacked'",
                terminal["id"], since)
            breakdown = {str(r["amount_minor"]): r["notes"] for r in counts}
            in_box = await self.accounts.cash_in_box(terminal["id"], currency)
            transfer = None
            if in_box > 0:
                cashbox = await self.accounts.cashbox(terminal["id"], currency)
                in_transit = await self.accounts.in_transit(currency)
                transfer = transfer_id("terminals", "collection", collection_id)
                result = await self.platform.service(Ledger).transfer(
                    id=transfer, debit_account_id=in_transit.id, credit_account_id=cashbox.id, amount=in_box,
                    currency=currency, code="terminals.collection",
                    metadata={"terminal": terminal["id"], "collection_id": str(collection_id)})
                if not result.accepted:
                    raise Conflict(_("the ledger refused the transfer: %(code)s", code=result.code.value))
            row = await conn.fetchrow(
                """INSERT INTO terminals_collections (id, terminal_id, recorded_by, collector, seal, note, currency,
                       amount_minor, notes, breakdown, last_event_id, transfer_id)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *""",
                collection_id, terminal["id"], actor.user_id if actor else None, collector, seal, note, currency,
                in_box, sum(r["notes"] for r in counts), breakdown, last_event, transfer)
            collection = CollectionRecord.of(row)
            await self.platform.service(AuditLog).record(
                action="terminals.collected", target=f"terminal:{terminal['id']}", actor=actor,
                details={"collection": collection.number, "amount": str(collection.amount), "notes": collection.notes,
                         "seal": seal})
        return collection

    async def get(self, collection_id: UUID) -> CollectionRecord:
        row = await self.db.fetchrow("SELECT * FROM terminals_collections WHERE id = $1", collection_id)
        if row is None:
            raise not_found(_("collection"), collection_id)
        return CollectionRecord.of(row)

    async def list(self, terminal_id: str | None = None, limit: int = 100) -> list[CollectionRecord]:
        rows = await self.db.fetch(
            """SELECT * FROM terminals_collections WHERE ($1::text IS NULL OR terminal_id = $1)
                ORDER BY number DESC LIMIT $2""", terminal_id, limit)
        return [CollectionRecord.of(r) for r in rows]

    async def since_last(self, terminal_id: str) -> tuple[int, dict[int, int]]:
        """Notes stacked since the last collection: their count, and the count per denomination."""
        rows = await self.db.fetch(
            """SELECT amount_minor, count(*) AS notes FROM terminals_events
                WHERE terminal_id = $1 AND kind = 'stacked' AND amount_minor IS NOT NULL
                  AND id > (SELECT coalesce(max(last_event_id), 0) FROM terminals_collections WHERE terminal_id = $1)
                GROUP BY amount_minor ORDER BY amount_minor""", terminal_id)
        breakdown = {r["amount_minor"]: r["notes"] for r in rows}
        return sum(breakdown.values()), breakdown
