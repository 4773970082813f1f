"""Payment rows: the record type and the SQL that reads and writes them.

Everything here runs on the connection of the caller's transaction (``platform.db``
hands it over), so a status change, its audit event and its ledger transfer commit
together or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from core.contracts.payments import Operation, PaymentRef, Redirect
from core.db.database import Database
from core.money import Money
from plugins.payments.states import FINAL, Kind, Status

COLUMNS = (
    "id, kind, user_id, gateway, amount_minor, currency, status, description, idempotency_key, reference, "
    "provider_status, error_code, error_message, refunded_minor, save_card, card_id, destination, destination_enc, "
    "redirect, "
    "purpose, confirmation_ref, needs_review, review_reason, approved_by, checks, next_check_at, created_at, "
    "updated_at, finished_at"
)


@dataclass(frozen=True)
class PaymentRecord:
    id: UUID
    kind: Kind
    user_id: UUID
    gateway: str
    amount: Money
    status: Status
    description: str
    idempotency_key: str | None
    reference: str
    provider_status: str
    error_code: str
    error_message: str
    refunded: Money
    save_card: bool
    card_id: UUID | None
    destination: Mapping[str, Any]
    #: The encrypted rest of a payout's destination (account number, holder): see ``cards.DESTINATION_FIELD``.
    destination_enc: bytes | None
    redirect: Redirect | None
    purpose: str
    confirmation_ref: str
    needs_review: bool
    review_reason: str
    approved_by: UUID | None
    checks: int
    next_check_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: Any) -> PaymentRecord:
        redirect = row["redirect"]
        return cls(
            id=row["id"], kind=Kind(row["kind"]), user_id=row["user_id"], gateway=row["gateway"],
            amount=Money(row["amount_minor"], row["currency"]), status=Status(row["status"]),
            description=row["description"], idempotency_key=row["idempotency_key"], reference=row["reference"],
            provider_status=row["provider_status"], error_code=row["error_code"], error_message=row["error_message"],
            refunded=Money(row["refunded_minor"], row["currency"]), save_card=row["save_card"], card_id=row["card_id"],
            destination=row["destination"] or {}, destination_enc=row["destination_enc"],
            redirect=Redirect(redirect["url"], redirect.get("method", "GET"),
                              tuple((k, v) for k, v in redirect.get("fields", []))) if redirect else None,
            purpose=row["purpose"], confirmation_ref=row["confirmation_ref"], needs_review=row["needs_review"],
            review_reason=row["review_reason"], approved_by=row["approved_by"], checks=row["checks"],
            next_check_at=row["next_check_at"], created_at=row["created_at"], updated_at=row["updated_at"],
            finished_at=row["finished_at"],
        )

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def ref(self) -> PaymentRef:
        operation = {Kind.WITHDRAWAL: Operation.PAYOUT, Kind.CHARGE: Operation.RECURRING}.get(self.kind,
                                                                                           Operation.PURCHASE)
        return PaymentRef(str(self.id), self.amount, self.reference, self.created_at, operation)

    def as_json(self) -> dict[str, Any]:
        """What the API shows the customer (no provider internals beyond their status word)."""
        return {
            "id": str(self.id),
            "kind": self.kind.value,
            "gateway": self.gateway,
            "amount": str(self.amount.amount),
            "amount_minor": self.amount.minor,
            "currency": self.amount.currency,
            "status": self.status.value,
            "description": self.description,
            "refunded": str(self.refunded.amount),
            "destination": dict(self.destination),
            "error": self.error_message or None,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


def clean(value: Any) -> Any:
    """Text PostgreSQL can store: no NUL characters (hostile callbacks carry them)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def redirect_json(redirect: Redirect | None) -> dict[str, Any] | None:
    if redirect is None:
        return None
    return {"url": redirect.url, "method": redirect.method, "fields": [list(f) for f in redirect.fields]}


class PaymentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, *, payment_id: UUID, kind: Kind, user_id: UUID, gateway: str, amount: Money,
                     status: Status, description: str = "", idempotency_key: str | None = None,
                     save_card: bool = False, card_id: UUID | None = None,
                     destination: Mapping[str, Any] | None = None, destination_enc: bytes | None = None,
                     purpose: str = "") -> tuple[PaymentRecord, bool]:
        """Insert a payment; with an idempotency key already used, return the earlier one (and False)."""
        row = await self.db.fetchrow(
            f"""INSERT INTO payments_payments (id, kind, user_id, gateway, amount_minor, currency, status,
                    description, idempotency_key, save_card, card_id, destination, destination_enc, purpose)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                ON CONFLICT (user_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                RETURNING {COLUMNS}""",
            payment_id, kind.value, user_id, gateway, amount.minor, amount.currency, status.value, clean(description),
            clean(idempotency_key), save_card, card_id, clean(dict(destination or {})), destination_enc, clean(purpose),
        )
        if row is not None:
            return PaymentRecord.from_row(row), True
        existing = await self.db.fetchrow(
            f"SELECT {COLUMNS} FROM payments_payments WHERE user_id = $1 AND kind = $2 AND idempotency_key = $3",
            user_id, kind.value, clean(idempotency_key),
        )
        assert existing is not None
        return PaymentRecord.from_row(existing), False

    async def get(self, payment_id: UUID, *, for_update: bool = False) -> PaymentRecord | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.db.fetchrow(f"SELECT {COLUMNS} FROM payments_payments WHERE id = $1{lock}", payment_id)
        return PaymentRecord.from_row(row) if row else None

    async def update(self, payment_id: UUID, **fields: Any) -> PaymentRecord:
        if "redirect" in fields:
            fields["redirect"] = redirect_json(fields["redirect"])
        if "status" in fields and isinstance(fields["status"], Status):
            fields["status"] = fields["status"].value
        names = list(fields)
        assignments = ", ".join(f"{name} = ${i + 2}" for i, name in enumerate(names))
        row = await self.db.fetchrow(
            f"UPDATE payments_payments SET {assignments}, updated_at = now() WHERE id = $1 RETURNING {COLUMNS}",
            payment_id, *(clean(fields[n]) for n in names),
        )
        assert row is not None, f"payment {payment_id} vanished"
        return PaymentRecord.from_row(row)

    async def event(self, payment_id: UUID | None, event: str, actor: str, *, old: Status | None = None,
                    new: Status | None = None, details: Mapping[str, Any] | None = None) -> None:
        await self.db.execute(
            """INSERT INTO payments_events (payment_id, event, actor, old_status, new_status, details)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            payment_id, event, clean(actor), old.value if old else None, new.value if new else None,
            clean(dict(details or {})),
        )

    async def events(self, payment_id: UUID) -> list[dict[str, Any]]:
        rows = await self.db.fetch(
            "SELECT at, event, actor, old_status, new_status, details FROM payments_events "
            "WHERE payment_id = $1 ORDER BY id", payment_id)
        return [dict(r) for r in rows]

    async def for_user(self, user_id: UUID, limit: int = 50) -> list[PaymentRecord]:
        rows = await self.db.fetch(
            f"SELECT {COLUMNS} FROM payments_payments WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2",
            user_id, limit)
        return [PaymentRecord.from_row(r) for r in rows]

    async def search(self, *, status: str | None = None, kind: str | None = None, gateway: str | None = None,
                     needs_review: bool | None = None, user_id: UUID | None = None,
                     limit: int = 100) -> list[PaymentRecord]:
        clauses, args = [], []
        for column, value in (("status", status), ("kind", kind), ("gateway", gateway), ("user_id", user_id),
                              ("needs_review", needs_review)):
            if value is not None and value != "":
                args.append(value)
                clauses.append(f"{column} = ${len(args)}")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        args.append(limit)
        rows = await self.db.fetch(
            f"SELECT {COLUMNS} FROM payments_payments {where} ORDER BY created_at DESC LIMIT ${len(args)}", *args)
        return [PaymentRecord.from_row(r) for r in rows]

    async def due_for_check(self, now: dt.datetime, limit: int) -> list[UUID]:
        rows = await self.db.fetch(
            """SELECT id FROM payments_payments
               WHERE status IN ('pending', 'unknown', 'approved') AND next_check_at <= $1
               ORDER BY next_check_at LIMIT $2""", now, limit)
        return [r["id"] for r in rows]

    async def touched_between(self, gateway: str, since: dt.datetime, until: dt.datetime) -> list[PaymentRecord]:
        rows = await self.db.fetch(
            f"""SELECT {COLUMNS} FROM payments_payments
                WHERE gateway = $1 AND ((created_at >= $2 AND created_at < $3)
                                        OR (finished_at >= $2 AND finished_at < $3))
                ORDER BY created_at""", gateway, since, until)
        return [PaymentRecord.from_row(r) for r in rows]

    # -- callbacks ------------------------------------------------------------------------------

    async def record_callback(self, *, gateway: str, remote_addr: str, payment_id: UUID | None,
                              claimed: str, verdict: str, reason: str, body: bytes) -> None:
        await self.db.execute(
            """INSERT INTO payments_callbacks (gateway, remote_addr, payment_id, claimed_payment, verdict, reason,
                   body_sha256, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            gateway, clean(remote_addr[:100]), payment_id, clean(claimed[:200]), verdict, clean(reason[:2000]),
            hashlib.sha256(body).hexdigest(), body[:8192].decode("utf-8", "replace").replace("\x00", ""),
        )

    async def callbacks(self, *, payment_id: UUID | None = None, verdicts: Sequence[str] | None = None,
                        limit: int = 100) -> list[dict[str, Any]]:
        clauses, args = [], []
        if payment_id is not None:
            args.append(payment_id)
            clauses.append(f"payment_id = ${len(args)}")
        if verdicts:
            args.append(list(verdicts))
            clauses.append(f"verdict = ANY(${len(args)})")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        args.append(limit)
        rows = await self.db.fetch(
            f"""SELECT id, gateway, received_at, remote_addr, payment_id, claimed_payment, verdict, reason,
                       body_sha256 FROM payments_callbacks {where} ORDER BY id DESC LIMIT ${len(args)}""", *args)
        return [dict(r) for r in rows]
