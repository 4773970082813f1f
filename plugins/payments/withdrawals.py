"""Withdrawals: a payout asked for, confirmed with a one-time code, held, approved, sent.

1. ``request_withdrawal`` records it (``awaiting_confirmation``) and sends the customer a
   code bound to exactly this payout;
2. ``confirm_withdrawal`` checks the code and holds the amount in the ledger (a pending
   transfer); above the threshold it waits for finance (``awaiting_approval``), else it is
   ``approved`` and the ``payments.execute_payout`` task is queued;
3. finance approves (maker-checker, see :mod:`.approvals`) or rejects (the hold is released);
4. ``execute_payout`` sends it to the gateway; the answer goes through
   ``Payments.apply_result``, which posts the hold on success and releases it on failure.

A mixin of :class:`plugins.payments.service.Payments`, split out to keep each file about one flow.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar.exceptions import NotFoundException

from core.contracts.payments import (
    Customer,
    GatewayResult,
    GatewayStatus,
    Operation,
    PayoutDestination,
    PayoutRequest,
)
from core.money import Money
from plugins.payments.base import PaymentConflict, PaymentRefused, now
from plugins.payments.cards import DESTINATION_FIELD
from plugins.payments.records import PaymentRecord
from plugins.payments.states import Kind, Status

EXECUTE_PAYOUT_TASK = "payments.execute_payout"


@dataclass(frozen=True)
class BankAccount:
    account_number: str
    bank_code: str
    holder_name: str
    bank_name: str = ""
    holder_tax_id: str = ""


class WithdrawalFlows:
    """The withdrawal half of the payments service (its attributes come from ``Payments``)."""

    platform: Any
    settings: Any
    store: Any
    postings: Any
    codes: Any
    vault: Any
    cipher: Any


    async def request_withdrawal(self, *, user_id: UUID, amount: Money, gateway: str, card_id: UUID | None = None,
                                 bank_account: BankAccount | None = None,
                                 idempotency_key: str | None = None) -> PaymentRecord:
        """Record a payout request and send the customer a one-time code to confirm it."""
        gw = self.gateway(gateway)
        if not gw.supports_payout or amount.currency not in gw.currencies:
            raise PaymentRefused(f"gateway: {gw.title} cannot pay out {amount.currency}")
        self._limits(amount, self.settings.min_withdrawal, self.settings.max_withdrawal, "withdrawal")
        kinds = getattr(gw, "payout_destinations", frozenset())
        destination: dict[str, Any]
        destination_enc: bytes | None = None
        if card_id is not None:
            if "card" not in kinds:
                raise PaymentRefused(f"destination: {gw.title} pays out to bank accounts, not cards")
            card = await self.vault.card(user_id, card_id)
            if card is None or card.gateway != gw.name:
                raise PaymentRefused(f"card_id: no saved {gw.title} card {card_id} of yours")
            destination = {"kind": "card", "card_id": str(card_id), "masked": card.masked_pan}
        elif bank_account is not None:
            if "bank_account" not in kinds:
                raise PaymentRefused(f"destination: {gw.title} pays out to cards, not bank accounts")
            _check_bank_account(bank_account)
            destination = {"kind": "bank_account", "bank_code": bank_account.bank_code,
                           "bank_name": bank_account.bank_name, "masked": "…" + bank_account.account_number[-4:]}
            secret = json.dumps({"account_number": bank_account.account_number,
                                 "holder_name": bank_account.holder_name,
                                 "holder_tax_id": bank_account.holder_tax_id}, ensure_ascii=False)
            destination_enc = self.cipher.encrypt(secret, context=DESTINATION_FIELD.context)
        else:
            raise PaymentRefused("destination: choose a saved card or give a bank account")
        available = await self.postings.available(user_id, amount.currency)
        if available < amount.minor:
            raise PaymentRefused(f"amount: your available balance is {Money(available, amount.currency)}")
        assert self.platform.db is not None
        async with self.platform.db.transaction():
            payment, created = await self.store.insert(
                payment_id=uuid.uuid4(), kind=Kind.WITHDRAWAL, user_id=user_id, gateway=gw.name, amount=amount,
                status=Status.AWAITING_CONFIRMATION, description=f"Withdrawal of {amount} to {destination['masked']}",
                idempotency_key=idempotency_key, card_id=card_id, destination=destination,
                destination_enc=destination_enc, purpose="withdrawal")
            if not created:
                return payment
            await self.store.event(payment.id, "created", f"user:{user_id}", new=Status.AWAITING_CONFIRMATION,
                                   details={"amount": str(amount), "gateway": gw.name,
                                            "destination": destination["masked"]})
            # In the same transaction: a code that cannot be sent (too many codes, no address)
            # leaves no withdrawal behind that nothing could ever confirm.
            challenge = await self.codes.issue(payment)
            return await self.store.update(payment.id, confirmation_ref=challenge)

    async def confirm_withdrawal(self, *, user_id: UUID, payment_id: UUID, code: str) -> PaymentRecord:
        """Check the customer's code, hold the amount, then queue the payout or wait for finance."""
        payment = await self._own(user_id, payment_id, Kind.WITHDRAWAL)
        if payment.status is not Status.AWAITING_CONFIRMATION:
            raise PaymentConflict(f"this withdrawal is {payment.status.value}; there is nothing to confirm")
        await self.codes.verify(payment, code)  # outside our transaction: a wrong guess must count
        assert self.platform.db is not None
        async with self.platform.db.transaction():
            payment = await self.store.get(payment_id, for_update=True)
            assert payment is not None
            if payment.status is not Status.AWAITING_CONFIRMATION:
                return payment
            hold = await self.postings.hold(payment)
            if not hold.accepted:
                updated = await self.store.update(payment.id, status=Status.FAILED, finished_at=now(),
                                                  error_code=hold.code.value,
                                                  error_message="the balance no longer covers this withdrawal")
                await self.store.event(payment.id, "hold_refused", f"user:{user_id}", old=payment.status,
                                       new=Status.FAILED, details={"ledger": hold.code.value, "detail": hold.detail})
                self._announce(updated, payment.status, Status.FAILED)
                return updated
            threshold = Money.of(self.settings.approval_threshold, payment.amount.currency)
            new = Status.AWAITING_APPROVAL if threshold < payment.amount else Status.APPROVED
            return await self._advance(payment, new, f"user:{user_id}", "confirmed")

    async def _advance(self, payment: PaymentRecord, new: Status, actor: str, event: str,
                       **fields: Any) -> PaymentRecord:
        """A withdrawal step of ours (not the provider's), inside the caller's transaction."""
        if new is Status.APPROVED:
            fields["next_check_at"] = now() + dt.timedelta(seconds=max(self.settings.first_check_after_s, 60))
        updated = await self.store.update(payment.id, status=new, **fields)
        await self.store.event(payment.id, event, actor, old=payment.status, new=new)
        self._announce(updated, payment.status, new)
        if new is Status.APPROVED:
            from core.jobs.runtime import Jobs

            await self.platform.service(Jobs).kick(EXECUTE_PAYOUT_TASK, payment_id=str(payment.id))
        return updated

    async def approve_withdrawal(self, payment_id: UUID, approver: UUID) -> PaymentRecord:
        """Finance agrees to a large payout: it is queued for the provider."""
        assert self.platform.db is not None
        async with self.platform.db.transaction():
            payment = await self._for_update(payment_id, Kind.WITHDRAWAL)
            if payment.status is not Status.AWAITING_APPROVAL:
                raise PaymentConflict(f"this withdrawal is {payment.status.value}, not awaiting approval")
            if payment.user_id == approver:
                raise PaymentConflict("nobody approves their own withdrawal")
            return await self._advance(payment, Status.APPROVED, f"admin:{approver}", "approved",
                                       approved_by=approver)

    async def reject_withdrawal(self, payment_id: UUID, approver: UUID, reason: str) -> PaymentRecord:
        """Finance refuses a payout: the held amount is released."""
        if not reason.strip():
            raise PaymentRefused("reason: say why the withdrawal is rejected")
        assert self.platform.db is not None
        async with self.platform.db.transaction():
            payment = await self._for_update(payment_id, Kind.WITHDRAWAL)
            if payment.status is not Status.AWAITING_APPROVAL:
                raise PaymentConflict(f"this withdrawal is {payment.status.value}, not awaiting approval")
            await self.postings.release_hold(payment)
            return await self._advance(payment, Status.REJECTED, f"admin:{approver}", "rejected",
                                       approved_by=approver, finished_at=now(), error_message=reason[:2000])

    async def cancel_withdrawal(self, *, user_id: UUID, payment_id: UUID) -> PaymentRecord:
        """The customer changes their mind before the payout is sent."""
        assert self.platform.db is not None
        async with self.platform.db.transaction():
            payment = await self._for_update(payment_id, Kind.WITHDRAWAL)
            if payment.user_id != user_id:
                raise NotFoundException(f"no withdrawal {payment_id} of yours")
            if payment.status not in (Status.AWAITING_CONFIRMATION, Status.AWAITING_APPROVAL):
                raise PaymentConflict(f"this withdrawal is {payment.status.value} and can no longer be cancelled")
            if payment.status is Status.AWAITING_APPROVAL:
                await self.postings.release_hold(payment)
            return await self._advance(payment, Status.CANCELED, f"user:{user_id}", "canceled", finished_at=now())

    async def execute_payout(self, payment_id: UUID) -> PaymentRecord | None:
        """Send an approved payout to its gateway (the ``payments.execute_payout`` task)."""
        payment = await self.store.get(payment_id)
        if payment is None or payment.status is not Status.APPROVED:
            return payment  # already sent, or not ours to send: running twice is harmless
        gw = self.gateway(payment.gateway)
        claimed = await self._claim_for_sending(payment.id, Status.APPROVED, "payout_sending")
        if claimed is None:
            return await self.store.get(payment_id)  # another run took it
        destination = self.payout_details(payment)
        token = ""
        if destination.get("kind") == "card" and payment.card_id is not None:
            found = await self.vault.token(payment.user_id, payment.card_id)
            if found is None:
                result = GatewayResult(GatewayStatus.CANCELED, Operation.PAYOUT, str(payment.id),
                                       error_code="card_gone", error_message="the saved card was removed")
                return (await self.apply_result(payment.id, result, actor="payments", source="payout")).payment
            token = found[1]
        request = PayoutRequest(
            payout_id=str(payment.id), amount=payment.amount, description=payment.description,
            customer=Customer(id=str(payment.user_id)),
            destination=PayoutDestination(
                kind=str(destination.get("kind", "")), card_token=token,
                account_number=str(destination.get("account_number", "")),
                bank_code=str(destination.get("bank_code", "")), bank_name=str(destination.get("bank_name", "")),
                holder_name=str(destination.get("holder_name", "")),
                holder_tax_id=str(destination.get("holder_tax_id", ""))),
        )
        result = await self._call(gw.payout(request), Operation.PAYOUT, payment.id, gw.name)
        return (await self.apply_result(payment.id, result, actor=f"gateway:{gw.name}", source="payout")).payment


def _check_bank_account(account: BankAccount) -> None:
    problems = []
    if not account.account_number.isdigit() or not 10 <= len(account.account_number) <= 34:
        problems.append("account_number: 10 to 34 digits")
    if not account.bank_code.isdigit() or len(account.bank_code) != 9:
        problems.append("bank_code: the bank's 9-digit BIC")
    if len(account.holder_name.strip()) < 3:
        problems.append("holder_name: the account holder's full name")
    if problems:
        raise PaymentRefused("; ".join(problems))

