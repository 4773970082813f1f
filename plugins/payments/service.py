"""The payments service: top-ups, withdrawals, card charges and what providers tell us.

``platform.service(Payments)`` is the public API of the plugin. Gateways only speak
their provider's protocol; everything that decides (the state machine, the ledger
postings, idempotency and the audit trail) happens here, and every answer from a
provider, whichever way it came (the reply to our call, a callback, the janitor's status
query, a bank statement, a person in the admin area), goes through one door:
:meth:`Payments.apply_result`.

Two rules keep money right:

* Network calls to providers never happen inside a database transaction: a slow
  provider must not hold row locks, and a failure must not roll back what we recorded.
* Each status change, its ledger transfer (with a deterministic id) and its audit event
  commit together. Re-applying the same answer is harmless: the status is already there
  and the transfer already exists.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar.exceptions import NotFoundException

from core.access.pii import PiiCipher
from core.contracts.payments import (
    CallbackReply,
    CallbackRequest,
    Customer,
    GatewayResult,
    GatewayStatus,
    Notification,
    Operation,
    PaymentGateway,
    PaymentRequest,
)
from core.money import Money, to_minor
from plugins.payments.base import PaymentConflict, PaymentRefused, now, parse_uuid
from plugins.payments.cards import DESTINATION_FIELD, CardInfo, CardVault
from plugins.payments.confirmation import WithdrawalCodes
from plugins.payments.postings import Postings
from plugins.payments.records import PaymentRecord, PaymentStore, clean
from plugins.payments.states import FINAL, FROM_GATEWAY, HOLDING, UNSETTLED, Kind, Status, can_move
from plugins.payments.withdrawals import BankAccount, WithdrawalFlows

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.payments.settings import PaymentsSettings

log = logging.getLogger(__name__)

#: The public API of the payments plugin, for routes and other plugins.
__all__ = ["Applied", "BankAccount", "PaymentConflict", "PaymentRefused", "Payments", "Verdict", "parse_uuid"]

CALLBACK_PATH = "/api/v1/payments/callbacks/{gateway}"
#: Seconds a payout or card charge being sent is left alone by the janitor (longer than a gateway waits).
SENDING_GRACE_S = 120
RETURN_PATH = "/payments/return/{payment_id}"


class Verdict(StrEnum):
    CHANGED = "accepted"          # the payment moved to the status the answer reports
    DUPLICATE = "duplicate"       # it was there already (a replay, a retry)
    STALE = "stale"               # the answer is older than what we know; nothing changes
    MISMATCH = "mismatch"         # the amount or currency is not the payment's: flagged, nothing moves
    UNKNOWN_PAYMENT = "unknown_payment"


@dataclass(frozen=True)
class Applied:
    payment: PaymentRecord | None
    verdict: Verdict


class Payments(WithdrawalFlows):
    def __init__(self, platform: Platform, settings: PaymentsSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.store = PaymentStore(platform.db)  # type: ignore[arg-type]
        self.postings = Postings(platform)
        self.codes = WithdrawalCodes(platform)

    # -- configuration ------------------------------------------------------------------------------

    @cached_property
    def cipher(self) -> PiiCipher:
        # Looked up on first use: services are handed over all at once at start-up.
        return self.platform.service(PiiCipher)

    @cached_property
    def vault(self) -> CardVault:
        return CardVault(self.platform.db, self.cipher)  # type: ignore[arg-type]

    def payout_details(self, payment: PaymentRecord) -> dict[str, Any]:
        """A payout's full destination (account number, holder), decrypted: for the gateway and finance."""
        details = dict(payment.destination)
        if payment.destination_enc is not None:
            details.update(json.loads(self.cipher.decrypt(payment.destination_enc,
                                                          context=DESTINATION_FIELD.context)))
        return details

    @property
    def currency(self) -> str:
        return self.settings.currency or self.platform.core.platform.currency

    @property
    def base_url(self) -> str:
        return self.platform.core.web.base_url.rstrip("/")

    def callback_url(self, gateway: str) -> str:
        return self.base_url + CALLBACK_PATH.format(gateway=gateway)

    def return_url(self, payment_id: UUID) -> str:
        return self.base_url + RETURN_PATH.format(payment_id=payment_id)

    def gateways(self) -> list[PaymentGateway]:
        return list(self.platform.registry("payment_gateways"))

    def gateway(self, name: str) -> PaymentGateway:
        registry = self.platform.registry("payment_gateways")
        if name not in registry:
            raise NotFoundException(f"no payment gateway named {name!r}; enabled: {', '.join(registry.names()) or 'none'}")
        return registry.get(name)

    def topup_gateways(self, currency: str | None = None) -> list[PaymentGateway]:
        currency = currency or self.currency
        return [g for g in self.gateways() if g.supports_redirect and currency in g.currencies]

    def payout_gateways(self, currency: str | None = None) -> list[PaymentGateway]:
        currency = currency or self.currency
        return [g for g in self.gateways() if g.supports_payout and currency in g.currencies]

    def money(self, amount: Any, currency: str | None = None) -> Money:
        """An amount typed by a person or a program, exactly, or a 422 saying what is wrong."""
        currency = currency or self.currency
        try:
            return Money(to_minor(str(amount).strip().replace(",", ".").replace(" ", ""), currency), currency)
        except ValueError as exc:
            raise PaymentRefused(f"amount: {exc}") from None

    def _limits(self, amount: Money, low: Any, high: Any, what: str) -> None:
        if amount.minor <= 0:
            raise PaymentRefused(f"amount: a {what} must be more than zero")
        if amount.currency != self.currency:
            raise PaymentRefused(f"currency: {what}s are in {self.currency}, not {amount.currency}")
        if amount < Money.of(low, self.currency) or Money.of(high, self.currency) < amount:
            raise PaymentRefused(f"amount: a {what} must be between {low} and {high} {self.currency}")

    # -- talking to gateways ---------------------------------------------------------------------------

    async def _call(self, call: Awaitable[GatewayResult], operation: Operation, payment_id: UUID,
                    gateway: str) -> GatewayResult:
        """A gateway call whose bugs become an UNDEFINED result (the janitor sorts it out)."""
        try:
            result = await call
        except Exception as exc:
            log.exception("payment gateway %s raised during %s of %s", gateway, operation.value, payment_id)
            return GatewayResult(GatewayStatus.UNDEFINED, operation, str(payment_id), error_code="gateway_error",
                                 error_message=f"the gateway failed: {exc!r}"[:500])
        if not isinstance(result, GatewayResult):
            return GatewayResult(GatewayStatus.UNDEFINED, operation, str(payment_id), error_code="gateway_error",
                                 error_message=f"the gateway answered {type(result).__name__}, not a GatewayResult")
        return result

    # -- the one door for providers' answers ----------------------------------------------------------------

    async def apply_result(self, payment_id: UUID, result: GatewayResult, *, actor: str,
                           source: str) -> Applied:
        """Bring the payment in line with what the provider reports, exactly once.

        ``actor`` says who reported it (``callback:fondy``, ``janitor``, ``admin:<id>``),
        ``source`` which way (``purchase``, ``callback``, ``status``, ``statement``...).
        """
        db = self.platform.db
        assert db is not None
        async with db.transaction():
            payment = await self.store.get(payment_id, for_update=True)
            if payment is None:
                return Applied(None, Verdict.UNKNOWN_PAYMENT)
            if result.amount is not None and result.amount != payment.amount:
                # Never credit a different amount than the payment's: a person looks at it.
                reason = f"{source} from {actor} reports {result.amount}, the payment is {payment.amount}"
                payment = await self.store.update(payment.id, needs_review=True, review_reason=reason)
                await self.store.event(payment.id, "amount_mismatch", actor,
                                       details={"source": source, "reported": str(result.amount),
                                                "expected": str(payment.amount), "status": result.status.value})
                return Applied(payment, Verdict.MISMATCH)
            new = FROM_GATEWAY[result.status]
            fields: dict[str, Any] = {}
            if result.reference and result.reference != payment.reference:
                fields["reference"] = result.reference[:200]
            if result.provider_status and result.provider_status != payment.provider_status:
                fields["provider_status"] = result.provider_status[:100]
            if result.redirect is not None:
                fields["redirect"] = result.redirect
            if new == payment.status:
                if new in UNSETTLED:
                    fields.update(self._next_check(payment.checks + 1))
                if fields:
                    payment = await self.store.update(payment.id, **fields)
                return Applied(payment, Verdict.DUPLICATE)
            if not can_move(payment.kind, payment.status, new):
                await self.store.event(payment.id, "stale_result", actor, old=payment.status,
                                       details={"source": source, "reported": new.value,
                                                "provider_status": result.provider_status})
                if payment.kind is Kind.WITHDRAWAL and new is Status.SUCCEEDED:
                    payment = await self.store.update(
                        payment.id, needs_review=True,
                        review_reason=f"the provider reports the payout paid after it {payment.status.value}")
                return Applied(payment, Verdict.STALE)
            return Applied(await self._move(payment, new, result, actor, source, fields), Verdict.CHANGED)

    async def _move(self, payment: PaymentRecord, new: Status, result: GatewayResult, actor: str, source: str,
                    fields: dict[str, Any]) -> PaymentRecord:
        """Change status with its money movement and audit event (inside apply_result's transaction).

        The ledger transfer comes last: it locks the platform's busy gateway account until the
        commit, so nothing else should happen between the two.
        """
        fields["status"] = new
        if new in FINAL:
            fields["finished_at"] = now()
            fields["next_check_at"] = None
        elif new in UNSETTLED:
            fields.update(self._next_check(0))
        if new in (Status.FAILED, Status.CANCELED, Status.UNKNOWN):
            fields["error_code"] = result.error_code[:100]
            fields["error_message"] = result.error_message[:2000]
        elif new is Status.SUCCEEDED:
            fields["error_code"], fields["error_message"] = "", ""
        updated = await self.store.update(payment.id, **fields)
        if new is Status.SUCCEEDED and result.card is not None and payment.save_card and payment.kind is Kind.TOPUP:
            card_id = await self.vault.save(user_id=payment.user_id, gateway=payment.gateway, card=result.card,
                                            source_payment_id=payment.id)
            await self.store.event(payment.id, "card_saved", actor, details={"card_id": str(card_id),
                                                                              "card": result.card.masked_pan})
        event = "late_success" if payment.status in (Status.FAILED, Status.CANCELED) else "status_changed"
        await self.store.event(payment.id, event, actor, old=payment.status, new=new,
                               details={"source": source, "provider_status": result.provider_status,
                                        "error": result.error_message[:500]})
        await self._post(payment, new)
        self._announce(updated, payment.status, new)
        return updated

    async def _post(self, payment: PaymentRecord, new: Status) -> None:
        """The ledger side of a status change."""
        if payment.kind in (Kind.TOPUP, Kind.CHARGE):
            if new is Status.SUCCEEDED:
                await self.postings.credit(payment)
        elif payment.kind is Kind.WITHDRAWAL and payment.status in HOLDING:
            if new is Status.SUCCEEDED:
                await self.postings.settle_hold(payment)
            elif new in (Status.FAILED, Status.CANCELED, Status.REJECTED):
                await self.postings.release_hold(payment)

    async def _claim_for_sending(self, payment_id: UUID, expected: Status, event: str) -> PaymentRecord | None:
        """Move a payment from ``expected`` to ``unknown`` just before asking a provider to move money.

        Whoever claims it is the only one who sends it: a task delivered twice, the janitor or a
        retried request finds it taken and sends nothing. If we die between the call and recording
        its answer, the payment is ``unknown`` and the janitor asks the provider what happened,
        instead of sending it again (a provider refuses a repeated order id with an error that
        reads like a decline, and releasing the hold then would pay the customer twice).
        """
        assert self.platform.db is not None
        async with self.platform.db.transaction():
            payment = await self.store.get(payment_id, for_update=True)
            if payment is None or payment.status is not expected:
                return None
            # The janitor waits until the call is surely over: asked sooner, the provider may not know it yet.
            next_check = now() + dt.timedelta(seconds=max(self.settings.first_check_after_s, SENDING_GRACE_S))
            updated = await self.store.update(payment.id, status=Status.UNKNOWN, checks=0, next_check_at=next_check)
            await self.store.event(payment.id, event, "payments", old=expected, new=Status.UNKNOWN)
            return updated

    def _next_check(self, checks: int) -> dict[str, Any]:
        delay = min(self.settings.first_check_after_s * (2 ** min(checks, 16)), self.settings.max_check_interval_s)
        if checks == 0:
            delay = self.settings.first_check_after_s
        return {"checks": checks, "next_check_at": now() + dt.timedelta(seconds=delay)}

    def _announce(self, payment: PaymentRecord, old: Status, new: Status) -> None:
        platform = self.platform

        async def emit() -> None:
            await platform.plugins.emit("on_payment_status_changed", platform=platform, payment=payment,
                                        old_status=old.value, new_status=new.value)

        assert platform.db is not None
        platform.db.after_commit(emit)

    # -- top-ups ---------------------------------------------------------------------------------------------

    async def start_topup(self, *, user_id: UUID, amount: Money, gateway: str, save_card: bool = False,
                          idempotency_key: str | None = None, customer: Customer | None = None,
                          description: str = "") -> PaymentRecord:
        """Record a top-up and ask the gateway for the page the customer pays on."""
        gw = self.gateway(gateway)
        if not gw.supports_redirect:
            raise PaymentRefused(f"gateway: {gw.title} does not take payments from customers")
        if amount.currency not in gw.currencies:
            raise PaymentRefused(f"gateway: {gw.title} does not take {amount.currency}")
        self._limits(amount, self.settings.min_topup, self.settings.max_topup, "top-up")
        if save_card and not gw.supports_recurring:
            save_card = False  # nothing to save with this provider
        description = description or f"Top-up of the balance, {amount}"
        assert self.platform.db is not None
        async with self.platform.db.transaction():
            payment, created = await self.store.insert(
                payment_id=uuid.uuid4(), kind=Kind.TOPUP, user_id=user_id, gateway=gw.name, amount=amount,
                status=Status.NEW, description=description, idempotency_key=idempotency_key, save_card=save_card,
                purpose="topup")
            if created:
                await self.store.event(payment.id, "created", f"user:{user_id}", new=Status.NEW,
                                       details={"amount": str(amount), "gateway": gw.name, "save_card": save_card})
        if not created and payment.status is not Status.NEW:
            return payment  # the same request again: the same payment
        request = PaymentRequest(
            payment_id=str(payment.id), amount=amount, description=description,
            customer=customer or Customer(id=str(user_id)), return_url=self.return_url(payment.id),
            callback_url=self.callback_url(gw.name), save_card=save_card,
        )
        result = await self._call(gw.purchase(request), Operation.PURCHASE, payment.id, gw.name)
        applied = await self.apply_result(payment.id, result, actor=f"gateway:{gw.name}", source="purchase")
        assert applied.payment is not None
        return applied.payment

    async def charge_saved_card(self, *, user_id: UUID, card_id: UUID, amount: Money, purpose: str,
                                idempotency_key: str, description: str = "") -> PaymentRecord:
        """Charge a saved card without the customer (recurring); on success the balance is credited.

        For other plugins (loans' automatic debiting): ``idempotency_key`` names the
        charge in the caller's terms (``"loan:<id>:2026-11-22"``), so retrying never
        charges twice. The money lands on the customer's balance; the caller moves it on.
        """
        found = await self.vault.token(user_id, card_id)
        if found is None:
            raise NotFoundException(f"card {card_id} is not a saved card of this customer")
        card, token = found
        gw = self.gateway(card.gateway)
        if not gw.supports_recurring:
            raise PaymentRefused(f"gateway: {gw.title} cannot charge saved cards")
        if amount.minor <= 0:
            raise PaymentRefused("amount: a charge must be more than zero")
        assert self.platform.db is not None
        async with self.platform.db.transaction():
            payment, created = await self.store.insert(
                payment_id=uuid.uuid4(), kind=Kind.CHARGE, user_id=user_id, gateway=gw.name, amount=amount,
                status=Status.NEW, description=description or f"Charge of a saved card for {purpose}",
                idempotency_key=idempotency_key, card_id=card_id, purpose=purpose,
                destination={"card": card.masked_pan})
            if created:
                await self.store.event(payment.id, "created", f"plugin:{purpose}", new=Status.NEW,
                                       details={"amount": str(amount), "card_id": str(card_id)})
        if not created and payment.status is not Status.NEW:
            return payment
        if await self._claim_for_sending(payment.id, Status.NEW, "charge_sending") is None:
            return await self.get(payment.id)  # a concurrent retry of the same charge sent it
        request = PaymentRequest(payment_id=str(payment.id), amount=amount, description=payment.description,
                                 customer=Customer(id=str(user_id)), callback_url=self.callback_url(gw.name),
                                 card_token=token)
        result = await self._call(gw.charge(request), Operation.RECURRING, payment.id, gw.name)
        await self.vault.used(card_id)
        applied = await self.apply_result(payment.id, result, actor=f"gateway:{gw.name}", source="recurring")
        assert applied.payment is not None
        return applied.payment

    # -- callbacks -----------------------------------------------------------------------------------------------

    async def handle_callback(self, gateway_name: str, callback: CallbackRequest) -> CallbackReply:
        """Verify, audit and apply one provider callback; return the acknowledgement to send."""
        gw = self.gateway(gateway_name)
        try:
            note = gw.parse_callback(callback)
        except Exception:
            log.exception("gateway %s failed to parse a callback", gw.name)
            note = Notification(False, problem="malformed: the gateway could not read it")
        claimed = note.payment_id
        payment_id = parse_uuid(claimed)
        if not note.verified or note.result is None:
            verdict = "malformed" if note.problem.startswith("malformed") else "forged"
            await self._refuse_callback(gw, callback, payment_id, claimed, verdict, note.problem or "not verified")
            return gw.acknowledge(note, False)
        payment = await self.store.get(payment_id) if payment_id else None
        if payment is None or payment.gateway != gw.name:
            await self._refuse_callback(gw, callback, payment_id if payment else None, claimed, "unknown_payment",
                                        f"no {gw.name} payment {claimed!r}")
            return gw.acknowledge(note, False)
        result = note.result
        if result.amount is None and result.status is GatewayStatus.PROCESSED:
            # The callback does not say how much: ask the provider before crediting anything.
            confirmed = await self._call(gw.status(payment.ref), Operation.STATUS, payment.id, gw.name)
            if confirmed.status is not GatewayStatus.PROCESSED or confirmed.amount is None:
                await self._refuse_callback(gw, callback, payment.id, claimed, "unconfirmed",
                                            f"the provider's status answer is {confirmed.status.value}")
                return gw.acknowledge(note, False)
            result = confirmed
        body = callback.body
        if note.result.card is not None and note.result.card.token:
            # A card token charges the card: it is kept encrypted with the card, never in plain text here.
            body = body.replace(note.result.card.token.encode(), b"[card token]")
        assert self.platform.db is not None
        async with self.platform.db.transaction():  # the answer and its record commit together
            applied = await self.apply_result(payment.id, result, actor=f"callback:{gw.name}", source="callback")
            await self.store.record_callback(gateway=gw.name, remote_addr=callback.remote_addr,
                                             payment_id=payment.id, claimed=claimed, verdict=applied.verdict.value,
                                             reason=result.provider_status, body=body)
        if applied.verdict is Verdict.MISMATCH:
            await self._audit("payments.callback_mismatch", payment.id, gw.name, callback.remote_addr,
                              applied.payment.review_reason if applied.payment else "")
        return gw.acknowledge(note, applied.verdict is not Verdict.MISMATCH)

    async def _refuse_callback(self, gw: PaymentGateway, callback: CallbackRequest, payment_id: UUID | None,
                               claimed: str, verdict: str, reason: str) -> None:
        log.warning("refused %s callback from %s: %s (%s)", gw.name, callback.remote_addr, verdict, reason)
        await self.store.record_callback(gateway=gw.name, remote_addr=callback.remote_addr, payment_id=payment_id,
                                         claimed=claimed, verdict=verdict, reason=reason, body=callback.body)
        if payment_id is not None and await self.store.get(payment_id) is not None:
            await self.store.event(payment_id, f"callback_{verdict}", f"callback:{gw.name}",
                                   details={"reason": reason, "from": callback.remote_addr})
        await self._audit(f"payments.callback_{verdict}", payment_id, gw.name, callback.remote_addr, reason)

    async def _audit(self, action: str, payment_id: UUID | None, gateway: str, remote_addr: str, reason: str) -> None:
        """Security events (refused callbacks) also go to the platform's audit log."""
        from core.access.audit import AuditLog

        await self.platform.service(AuditLog).record(
            action=action, target=f"payment:{payment_id}" if payment_id else f"gateway:{gateway}",
            actor=f"callback:{gateway}", details={"gateway": gateway, "from": remote_addr, "reason": clean(reason)})

    # -- the janitor --------------------------------------------------------------------------------------------

    async def check(self, payment_id: UUID, *, actor: str = "janitor") -> PaymentRecord | None:
        """Ask the provider about one unsettled payment (Kill Bill's janitor step)."""
        payment = await self.store.get(payment_id)
        if payment is None:
            return None
        if payment.status is Status.APPROVED:
            return await self.execute_payout(payment.id)  # a queued payout whose task was lost
        if payment.status not in UNSETTLED:
            return payment
        gateway = self.platform.registry("payment_gateways")
        if payment.gateway not in gateway:
            return await self.store.update(payment.id, needs_review=True, next_check_at=None,
                                           review_reason=f"gateway {payment.gateway} is no longer enabled")
        gw = gateway.get(payment.gateway)
        result = await self._call(gw.status(payment.ref), Operation.STATUS, payment.id, gw.name)
        if result.status is GatewayStatus.UNDEFINED:
            # The question failed, not the payment: ask again later.
            current = await self.store.update(payment.id, **self._next_check(payment.checks + 1))
            await self.store.event(payment.id, "check_failed", actor,
                                   details={"error": result.error_message[:500], "code": result.error_code})
        else:
            applied = await self.apply_result(payment.id, result, actor=actor, source="status")
            current = applied.payment or payment
        if current.status in UNSETTLED and not current.needs_review and (
                now() - current.created_at).total_seconds() > self.settings.review_after_hours * 3600:
            current = await self.store.update(
                current.id, needs_review=True,
                review_reason=f"still {current.status.value} after {self.settings.review_after_hours} hours")
        return current

    async def run_janitor(self, *, at: dt.datetime | None = None, limit: int | None = None) -> dict[str, int]:
        """Check every payment that is due; return how many ended in each status."""
        due = await self.store.due_for_check(at or now(), limit or self.settings.janitor_batch)
        outcome: dict[str, int] = {}
        for payment_id in due:
            try:
                payment = await self.check(payment_id)
            except Exception:
                log.exception("janitor failed on payment %s", payment_id)
                outcome["errors"] = outcome.get("errors", 0) + 1
                continue
            if payment is not None:
                outcome[payment.status.value] = outcome.get(payment.status.value, 0) + 1
        return outcome

    # -- admin actions ---------------------------------------------------------------------------------------------

    async def mark_paid(self, payment_id: UUID, actor: str, note: str = "") -> PaymentRecord:
        """A person confirms, from the bank or the provider's dashboard, that the money moved."""
        payment = await self.store.get(payment_id)
        if payment is None:
            raise NotFoundException(f"no payment {payment_id}")
        if payment.status not in (Status.PENDING, Status.UNKNOWN, Status.APPROVED, Status.NEW):
            raise PaymentConflict(f"this payment is {payment.status.value}; only unsettled ones can be marked paid")
        result = GatewayResult(GatewayStatus.PROCESSED, Operation.STATUS, str(payment.id), amount=payment.amount,
                               provider_status=f"confirmed by a person{': ' + note if note else ''}"[:100])
        applied = await self.apply_result(payment.id, result, actor=actor, source="manual")
        assert applied.payment is not None
        return applied.payment

    async def refund(self, payment_id: UUID, amount: Money, actor: str, refund_id: str | None = None) -> PaymentRecord:
        """Give (part of) a pay-in back to the customer's card; their balance pays for it.

        ``refund_id`` names this refund (the approval it carries out): asked again with the
        same id, it is not sent to the provider a second time.
        """
        payment = await self.store.get(payment_id)
        if payment is None:
            raise NotFoundException(f"no payment {payment_id}")
        if payment.kind is Kind.WITHDRAWAL or payment.status is not Status.SUCCEEDED:
            raise PaymentConflict(f"only succeeded pay-ins can be refunded; this one is {payment.status.value}")
        gw = self.gateway(payment.gateway)
        remaining = payment.amount - payment.refunded
        if amount.currency != payment.amount.currency or amount.minor <= 0 or remaining < amount:
            raise PaymentRefused(f"amount: at most {remaining} can be refunded")
        if not gw.supports_refund or (amount != remaining and not gw.supports_partial_refund):
            raise PaymentRefused(f"gateway: {gw.title} cannot refund {'part of ' if amount != remaining else ''}this")
        refund_id = refund_id or f"{payment.id}:{uuid.uuid4().hex[:12]}"
        assert self.platform.db is not None
        async with self.platform.db.transaction():
            held = await self.postings.hold_refund(payment, refund_id, amount)
            if not held.accepted:
                raise PaymentConflict(f"the customer's balance does not cover the refund ({held.code.value})")
            if not held.created:
                return await self._refund_seen_before(payment, refund_id, actor)
            await self.store.event(payment.id, "refund_started", actor, details={"amount": str(amount),
                                                                                  "refund_id": refund_id})
        result = await self._call(gw.refund(payment.ref, amount, refund_id), Operation.REFUND, payment.id, gw.name)
        async with self.platform.db.transaction():
            payment = await self._for_update(payment_id, payment.kind)
            if result.status is GatewayStatus.PROCESSED:
                await self.postings.settle_refund(refund_id)
                refunded = payment.refunded + amount
                fields: dict[str, Any] = {"refunded_minor": refunded.minor}
                if refunded == payment.amount:
                    fields["status"] = Status.REFUNDED
                updated = await self.store.update(payment.id, **fields)
                await self.store.event(payment.id, "refunded", actor, old=payment.status, new=updated.status,
                                       details={"amount": str(amount), "refund_id": refund_id})
                if updated.status is not payment.status:
                    self._announce(updated, payment.status, updated.status)
                return updated
            if result.status not in (GatewayStatus.ERROR, GatewayStatus.CANCELED):
                # Pending or unknown at the provider: the amount stays held until a person settles it.
                await self.store.event(payment.id, "refund_unsettled", actor,
                                       details={"refund_id": refund_id, "status": result.status.value})
                return await self.store.update(
                    payment.id, needs_review=True,
                    review_reason=f"refund {refund_id} is {result.status.value} at the provider; the amount is held")
            await self.postings.release_refund(refund_id)
            await self.store.event(payment.id, "refund_failed", actor,
                                   details={"refund_id": refund_id, "error": result.error_message})
        # Raised once the release is committed (inside the transaction it would undo it).
        raise PaymentRefused(f"the provider refused the refund: {result.error_message or result.error_code}")

    async def _refund_seen_before(self, payment: PaymentRecord, refund_id: str, actor: str) -> PaymentRecord:
        """A refund started before (its task delivered again): never sent to the provider twice."""
        settled = any(e["event"] in ("refunded", "refund_failed") and (e["details"] or {}).get("refund_id") == refund_id
                      for e in await self.store.events(payment.id))
        if settled:
            return payment  # done, one way or the other
        # It was sent, and whatever the provider answered was never recorded: a person finds out.
        await self.store.event(payment.id, "refund_repeated", actor, details={"refund_id": refund_id})
        return await self.store.update(
            payment.id, needs_review=True,
            review_reason=f"refund {refund_id} was sent before and its outcome is not recorded; "
                          "ask the provider (it was not sent again)")

    async def refund_task(self, payment_id: UUID, amount_minor: int, actor: str,
                          refund_id: str | None = None) -> PaymentRecord | None:
        """The ``payments.execute_refund`` task: a refund approved by two people."""
        payment = await self.get(payment_id)
        try:
            return await self.refund(payment_id, Money(amount_minor, payment.amount.currency), actor, refund_id)
        except (PaymentRefused, PaymentConflict) as exc:
            # Recorded in the payment's history by refund(); a retry would fail the same way.
            log.warning("refund of %s refused: %s", payment_id, exc.detail)
            return await self.get(payment_id)

    async def clear_review(self, payment_id: UUID, actor: str, note: str) -> PaymentRecord:
        assert self.platform.db is not None
        async with self.platform.db.transaction():
            payment = await self._for_update(payment_id, None)
            await self.store.event(payment.id, "review_cleared", actor, details={"note": note[:2000],
                                                                                  "was": payment.review_reason})
            return await self.store.update(payment.id, needs_review=False, review_reason="")

    # -- reading --------------------------------------------------------------------------------------------------

    async def get(self, payment_id: UUID) -> PaymentRecord:
        payment = await self.store.get(payment_id)
        if payment is None:
            raise NotFoundException(f"no payment {payment_id}")
        return payment

    async def _own(self, user_id: UUID, payment_id: UUID, kind: Kind | None = None) -> PaymentRecord:
        payment = await self.store.get(payment_id)
        if payment is None or payment.user_id != user_id or (kind is not None and payment.kind is not kind):
            raise NotFoundException(f"no {kind.value if kind else 'payment'} {payment_id} of yours")
        return payment

    async def _for_update(self, payment_id: UUID, kind: Kind | None) -> PaymentRecord:
        payment = await self.store.get(payment_id, for_update=True)
        if payment is None or (kind is not None and payment.kind is not kind):
            raise NotFoundException(f"no {kind.value if kind else 'payment'} {payment_id}")
        return payment

    async def payment_of(self, user_id: UUID, payment_id: UUID) -> PaymentRecord:
        return await self._own(user_id, payment_id)

    async def history(self, user_id: UUID, limit: int = 50) -> list[PaymentRecord]:
        return await self.store.for_user(user_id, limit)

    async def cards(self, user_id: UUID) -> list[CardInfo]:
        return await self.vault.cards(user_id)

    async def remove_card(self, user_id: UUID, card_id: UUID) -> None:
        if not await self.vault.revoke(user_id, card_id):
            raise NotFoundException(f"no saved card {card_id} of yours")

    async def available_balance(self, user_id: UUID, currency: str | None = None) -> Money:
        currency = currency or self.currency
        return Money(await self.postings.available(user_id, currency), currency)

    async def events(self, payment_id: UUID) -> list[dict[str, Any]]:
        return await self.store.events(payment_id)
