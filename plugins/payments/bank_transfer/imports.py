"""Importing a bank statement: each line once, matched to invoices and payouts by reference."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from litestar.exceptions import ValidationException

from core.contracts.payments import GatewayResult, GatewayStatus, Operation
from plugins.payments.bank_transfer.statement import StatementLine, parse_statement
from plugins.payments.service import Payments, Verdict
from plugins.payments.states import Kind

if TYPE_CHECKING:
    from core.platform import Platform

#: What became of a line.
CREDITED = "credited"              # an invoice is paid (or a payout confirmed) by it
ALREADY_SETTLED = "already_settled"
MISMATCH = "mismatch"              # the amount is not the invoice's: flagged for a person
UNMATCHED = "unmatched"            # no reference of ours in it
DUPLICATE = "duplicate"            # imported before


@dataclass
class ImportSummary:
    outcomes: Counter[str] = field(default_factory=Counter)
    lines: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"outcomes": dict(self.outcomes), "lines": self.lines}


async def import_statement(platform: Platform, text: str, *, gateway: str, currency: str,
                           actor: str) -> ImportSummary:
    """Import every line of a statement, or (if any line cannot be read) none: a 400 lists them all."""
    parsed = parse_statement(text, currency)
    if parsed.errors:
        raise ValidationException(
            f"the statement has {len(parsed.errors)} value(s) that cannot be read; nothing was imported "
            "(correct them, or export the statement again)", extra=parsed.errors[:100])
    summary = ImportSummary()
    for line in parsed.lines:
        outcome, payment_id = await _import_line(platform, line, gateway=gateway, actor=actor)
        summary.outcomes[outcome] += 1
        summary.lines.append({"line_id": line.line_id, "amount": str(line.amount), "outcome": outcome,
                              "payment_id": str(payment_id) if payment_id else None})
    return summary


async def _import_line(platform: Platform, line: StatementLine, *, gateway: str, actor: str) -> tuple[str, Any]:
    payments = platform.service(Payments)
    db = platform.db
    assert db is not None
    async with db.transaction():
        inserted = await db.fetchval(
            """INSERT INTO payments_bank_statement_lines (line_id, booked_on, amount_minor, currency, counterparty,
                   purpose, reference, outcome, imported_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8) ON CONFLICT (line_id) DO NOTHING RETURNING id""",
            line.line_id, line.booked_on, line.amount.minor, line.amount.currency, line.counterparty[:500],
            line.purpose[:2000], line.references[0] if line.references else None, actor[:200])
        if inserted is None:
            return DUPLICATE, None
        row = None
        if line.references:
            row = await db.fetchrow(
                "SELECT id, kind FROM payments_payments WHERE gateway = $1 AND reference = ANY($2::text[]) "
                "ORDER BY created_at DESC LIMIT 1", gateway, list(line.references))
        expected = Kind.TOPUP.value if line.incoming else Kind.WITHDRAWAL.value
        if row is None or row["kind"] != expected:
            await db.execute("UPDATE payments_bank_statement_lines SET outcome = $2 WHERE id = $1", inserted, UNMATCHED)
            return UNMATCHED, None
        received = line.amount if line.incoming else -line.amount
        result = GatewayResult(GatewayStatus.PROCESSED, Operation.STATUS, str(row["id"]), amount=received,
                               provider_status=f"statement line {line.line_id}"[:100])
        applied = await payments.apply_result(row["id"], result, actor=actor, source="statement")
        outcome = {Verdict.CHANGED: CREDITED, Verdict.MISMATCH: MISMATCH}.get(applied.verdict, ALREADY_SETTLED)
        await db.execute("UPDATE payments_bank_statement_lines SET outcome = $2, payment_id = $3 WHERE id = $1",
                         inserted, outcome, row["id"])
        return outcome, row["id"]
