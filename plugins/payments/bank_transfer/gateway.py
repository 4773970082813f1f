"""Bank transfer: an invoice with a payment reference, settled by the bank statement.

There is no provider API: the customer pays the invoice from their own bank, and the
money shows up on the platform's bank statement with the invoice's reference in the
purpose. ``purchase`` answers PENDING with the way to the invoice page; ``status`` reads
the statement (``statement_url``, when the bank offers one; the sandbox bank does) and
finds the reference; without one, finance imports statements or marks invoices paid.
Payouts to bank accounts are payment orders that finance sends; they stay PENDING
until the statement (or a person) shows them gone.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

import httpx

from core.contracts.payments import (
    GatewayDefaults,
    GatewayResult,
    GatewayStatus,
    Operation,
    PaymentRef,
    PaymentRequest,
    PayoutRequest,
    Redirect,
)
from core.money import Money
from plugins.payments.bank_transfer.reference import reference_for
from plugins.payments.bank_transfer.statement import StatementLine, parse_statement
from plugins.payments.wire import Wire

INVOICE_PATH = "/payments/invoices/{payment_id}"


class BankTransferGateway(GatewayDefaults):
    name = "bank_transfer"
    title = "Bank transfer"
    supports_redirect = True
    supports_payout = True
    payout_destinations = frozenset({"bank_account"})

    def __init__(self, *, currency: str = "RUB", invoice_days: int = 5, statement_url: str | None = None,
                 reference_prefix: str = "KP", timeout_s: float = 30, configured: bool = True,
                 transport: httpx.AsyncBaseTransport | None = None, name: str = "bank_transfer") -> None:
        self.name = name
        self.currency = currency
        self.currencies = frozenset({currency})
        self.invoice_days = invoice_days
        self.statement_url = statement_url
        self.reference_prefix = reference_prefix
        self.configured = configured
        self.wire = Wire(timeout_s, transport)

    def reference(self, payment_id: str) -> str:
        return reference_for(UUID(payment_id), self.reference_prefix)

    async def purchase(self, request: PaymentRequest) -> GatewayResult:
        if not self.configured:
            return GatewayResult(GatewayStatus.CANCELED, Operation.PURCHASE, request.payment_id,
                                 error_code="not_configured",
                                 error_message="the platform's bank details are not set up; no invoice was issued")
        if request.amount.currency != self.currency:
            return GatewayResult(GatewayStatus.CANCELED, Operation.PURCHASE, request.payment_id,
                                 error_code="currency_not_supported",
                                 error_message=f"invoices are issued in {self.currency}")
        return GatewayResult(GatewayStatus.PENDING, Operation.PURCHASE, request.payment_id, amount=request.amount,
                             reference=self.reference(request.payment_id), provider_status="invoice issued",
                             redirect=Redirect(INVOICE_PATH.format(payment_id=request.payment_id)))

    async def payout(self, request: PayoutRequest) -> GatewayResult:
        destination = request.destination
        if destination.kind != "bank_account" or not destination.account_number:
            return GatewayResult(GatewayStatus.CANCELED, Operation.PAYOUT, request.payout_id,
                                 error_code="unsupported_destination",
                                 error_message="bank transfers go to bank accounts only")
        return GatewayResult(GatewayStatus.PENDING, Operation.PAYOUT, request.payout_id, amount=request.amount,
                             reference=self.reference(request.payout_id), provider_status="payment order to send",
                             details={"account": destination.masked, "bank_code": destination.bank_code})

    async def statement(self, since: dt.date) -> list[StatementLine] | GatewayResult:
        """The bank's statement lines from ``since``, or the UNDEFINED result of failing to read it."""
        assert self.statement_url
        answer = await self.wire.get(self.statement_url, params={"from": since.isoformat()})
        if isinstance(answer, GatewayResult):
            return answer
        parsed = parse_statement(answer, self.currency)
        return parsed.lines

    async def status(self, payment: PaymentRef) -> GatewayResult:
        reference = payment.reference or self.reference(payment.payment_id)
        age = dt.datetime.now(dt.UTC) - payment.created_at if payment.created_at else dt.timedelta(0)
        # An unpaid invoice lapses; a payout order waits for finance however long it takes
        # (they may have sent it already: only the statement or a person can tell).
        overdue = payment.operation is not Operation.PAYOUT and age > dt.timedelta(days=self.invoice_days)
        if not self.statement_url:
            # Nobody to ask: finance imports statements or marks the invoice paid.
            return GatewayResult(GatewayStatus.CANCELED if overdue else GatewayStatus.PENDING, Operation.STATUS,
                                 payment.payment_id, reference=reference, provider_status="no statement feed")
        since = (payment.created_at or dt.datetime.now(dt.UTC)).date() - dt.timedelta(days=1)
        lines = await self.statement(since)
        if isinstance(lines, GatewayResult):
            return GatewayResult(lines.status, Operation.STATUS, payment.payment_id, error_code=lines.error_code,
                                 error_message=lines.error_message)
        matching = [line for line in lines if reference in line.references]
        if not matching:
            return GatewayResult(GatewayStatus.CANCELED if overdue else GatewayStatus.PENDING, Operation.STATUS,
                                 payment.payment_id, reference=reference, provider_status="not on the statement")
        received = sum((Money(abs(line.amount.minor), line.amount.currency) for line in matching),
                       Money(0, payment.amount.currency))
        return GatewayResult(GatewayStatus.PROCESSED, Operation.STATUS, payment.payment_id, amount=received,
                             reference=reference, provider_status="on the statement",
                             details={"lines": [line.line_id for line in matching]})
