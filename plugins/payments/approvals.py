"""Maker-checker for the payments plugin's sensitive actions (``core.access`` approvals).

* ``payments.approve_payout``: a withdrawal above the threshold is paid out only when a
  person from finance asks for it and a second one approves;
* ``payments.refund``: money goes back to a customer's card;
* ``payments.mark_paid``: a person says money arrived (or left) without the provider or
  the bank statement saying so.

Each action is checked when it is asked for and again when it is approved (the payment
may have moved in between), and nobody acts on their own payment. Admin routes hand the
request to ``Approvals.perform``; with maker-checker off the action runs at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from litestar.exceptions import PermissionDeniedException

from core.access.approvals import ActionContext, ApprovalAction
from core.access.audit import AuditLog
from core.money import Money
from plugins.payments.service import PaymentConflict, PaymentRefused, Payments
from plugins.payments.states import UNSETTLED, Kind, Status

if TYPE_CHECKING:
    from core.access import Identity
    from core.platform import Platform

APPROVE_PAYOUT = "payments.approve_payout"
REFUND = "payments.refund"
MARK_PAID = "payments.mark_paid"
EXECUTE_REFUND_TASK = "payments.execute_refund"


async def _payment(platform: Platform, payload: dict[str, Any], identity: Identity) -> Any:
    payment = await platform.service(Payments).get(UUID(str(payload["payment_id"])))
    if identity.user_id is not None and payment.user_id == identity.user_id:
        raise PermissionDeniedException("nobody acts on their own payment")
    return payment


# -- approving a large payout ---------------------------------------------------------------------------


async def check_payout(platform: Platform, payload: dict[str, Any], identity: Identity) -> None:
    payment = await _payment(platform, payload, identity)
    if payment.kind is not Kind.WITHDRAWAL or payment.status is not Status.AWAITING_APPROVAL:
        raise PaymentConflict(f"this payment is a {payment.kind.value} {payment.status.value}, "
                              "not a withdrawal awaiting approval")


async def run_payout(platform: Platform, payload: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    approver = ctx.acting.user_id
    assert approver is not None
    payment = await platform.service(Payments).approve_withdrawal(UUID(str(payload["payment_id"])), approver)
    await platform.service(AuditLog).record(action="payments.payout_approved", actor=ctx.acting,
                                            target=f"payment:{payment.id}",
                                            details={"amount": str(payment.amount), "maker": str(ctx.maker.user_id)})
    return {"status": payment.status.value}


# -- refunds --------------------------------------------------------------------------------------------------


async def check_refund(platform: Platform, payload: dict[str, Any], identity: Identity) -> None:
    payment = await _payment(platform, payload, identity)
    payments = platform.service(Payments)
    gateway = payments.gateway(payment.gateway)
    amount = Money(int(payload["amount_minor"]), payment.amount.currency)
    remaining = payment.amount - payment.refunded
    if payment.kind is Kind.WITHDRAWAL or payment.status is not Status.SUCCEEDED:
        raise PaymentConflict(f"only succeeded pay-ins can be refunded; this one is {payment.status.value}")
    if amount.minor <= 0 or remaining < amount:
        raise PaymentRefused(f"amount: at most {remaining} can be refunded")
    if not gateway.supports_refund or (amount != remaining and not gateway.supports_partial_refund):
        raise PaymentRefused(f"gateway: {gateway.title} cannot refund {'part of ' if amount != remaining else ''}this")


async def run_refund(platform: Platform, payload: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    # The provider is called by a task after this transaction commits: never over the network inside it.
    from core.jobs.runtime import Jobs

    actor = f"admin:{ctx.maker.user_id}" + (f"+{ctx.checker.user_id}" if ctx.checker else "")
    # The refund's id goes with the task, so a task delivered twice refunds once.
    refund_id = f"{payload['payment_id']}:{ctx.approval_id or uuid4()}"
    await platform.service(Jobs).kick(EXECUTE_REFUND_TASK, payment_id=str(payload["payment_id"]),
                                      amount_minor=int(payload["amount_minor"]), actor=actor, refund_id=refund_id)
    await platform.service(AuditLog).record(action="payments.refund_approved", actor=ctx.acting,
                                            target=f"payment:{payload['payment_id']}", details=dict(payload))
    return {"queued": True}


# -- marking paid by hand -------------------------------------------------------------------------------------


async def check_mark_paid(platform: Platform, payload: dict[str, Any], identity: Identity) -> None:
    payment = await _payment(platform, payload, identity)
    if payment.status not in (*UNSETTLED, Status.APPROVED, Status.NEW):
        raise PaymentConflict(f"this payment is {payment.status.value}; only unsettled ones can be marked paid")


async def run_mark_paid(platform: Platform, payload: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    actor = f"admin:{ctx.maker.user_id}" + (f"+{ctx.checker.user_id}" if ctx.checker else "")
    payment = await platform.service(Payments).mark_paid(UUID(str(payload["payment_id"])), actor,
                                                         str(payload.get("note", "")))
    await platform.service(AuditLog).record(action="payments.marked_paid", actor=ctx.acting,
                                            target=f"payment:{payment.id}",
                                            details={"note": payload.get("note", ""), "amount": str(payment.amount)})
    return {"status": payment.status.value}


def _describe(verb: str) -> Any:
    def describe(payload: dict[str, Any]) -> str:
        return f"{verb} {payload.get('summary', '')} (payment {payload['payment_id']})"

    return describe


ACTIONS = [
    ApprovalAction(name=APPROVE_PAYOUT, permission=APPROVE_PAYOUT, run=run_payout, check=check_payout,
                   describe=_describe("Pay out")),
    ApprovalAction(name=REFUND, permission=REFUND, run=run_refund, check=check_refund,
                   describe=_describe("Refund")),
    ApprovalAction(name=MARK_PAID, permission=MARK_PAID, run=run_mark_paid, check=check_mark_paid,
                   describe=_describe("Mark paid")),
]
