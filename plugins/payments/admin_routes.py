"""Admin screens and admin API of the payments plugin.

``/admin/payments`` (search, needs-review), ``/admin/payments/{id}`` (history, callbacks,
actions), ``/admin/payments/withdrawals`` (finance approvals), ``/admin/payments/callbacks``
(refused callbacks), ``/admin/payments/reconciliation``; JSON under ``/api/v1/admin/payments``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from pydantic import BaseModel, ConfigDict, Field

from core.access import identity_of, requires
from core.access.approvals import Approvals, Outcome
from core.access.audit import AuditLog
from core.web.templating import render
from plugins.payments import approvals
from plugins.payments.reconciliation import Reconciler
from plugins.payments.records import clean
from plugins.payments.routes import form_of, payment_json, payment_uuid, service
from plugins.payments.states import Kind, Status

VIEW = requires("payments.view")
MANAGE = requires("payments.manage")
APPROVE = requires("payments.approve_payout")
REFUND = requires("payments.refund")
MARK_PAID = requires("payments.mark_paid")


def admin_id(request: Request[Any, Any, Any]) -> UUID:
    identity = identity_of(request)
    assert identity.user_id is not None
    return identity.user_id


def actor(request: Request[Any, Any, Any]) -> str:
    return f"admin:{admin_id(request)}"


async def _audit(request: Request[Any, Any, Any], action: str, payment_id: UUID, **details: Any) -> None:
    await request.app.state.platform.service(AuditLog).record(action=action, target=f"payment:{payment_id}",
                                                              details=clean(details), actor=identity_of(request))


async def _ask(request: Request[Any, Any, Any], action: str, payment: Any, **payload: Any) -> Outcome:
    """Hand a sensitive action to maker-checker: it runs now, or when a second person approves."""
    summary = f"{payment.amount} {payment.kind.value} {payment.destination.get('masked', '')}".strip()
    return await request.app.state.platform.service(Approvals).perform(
        identity_of(request), action, clean({"payment_id": str(payment.id), "summary": summary, **payload}))


def known_gateway(request: Request[Any, Any, Any], name: str | None) -> str | None:
    """A gateway filter, checked: an unknown name is a 400, not something to send to the database."""
    if not name:
        return None
    names = request.app.state.platform.registry("payment_gateways").names()
    if name not in names:
        raise ValidationException(f"gateway: one of {', '.join(names)}")
    return name


@get("/admin/payments", guards=[VIEW], include_in_schema=False, name="payments-admin")
async def admin_list(request: Request[Any, Any, Any]) -> Template:
    query = request.query_params
    filters = {
        "status": query.get("status") if query.get("status") in set(Status) else None,
        "kind": query.get("kind") if query.get("kind") in set(Kind) else None,
        "gateway": known_gateway(request, query.get("gateway")),
    }
    review = query.get("review") == "1"
    payments = await service(request).store.search(**filters, needs_review=True if review else None)
    return render(request, "payments/admin/list.html", payments=payments, filters=filters, review=review,
                  statuses=list(Status), kinds=list(Kind), gateways=service(request).gateways())


@get("/admin/payments/withdrawals", guards=[VIEW], include_in_schema=False)
async def admin_withdrawals(request: Request[Any, Any, Any]) -> Template:
    waiting = await service(request).store.search(status=Status.AWAITING_APPROVAL.value, kind=Kind.WITHDRAWAL.value)
    return render(request, "payments/admin/withdrawals.html", payments=waiting)


@get("/admin/payments/callbacks", guards=[VIEW], include_in_schema=False)
async def admin_callbacks(request: Request[Any, Any, Any]) -> Template:
    refused = await service(request).store.callbacks(
        verdicts=["forged", "malformed", "unknown_payment", "mismatch", "unconfirmed"])
    return render(request, "payments/admin/callbacks.html", callbacks=refused)


@get("/admin/payments/reconciliation", guards=[VIEW], include_in_schema=False)
async def admin_reconciliations(request: Request[Any, Any, Any]) -> Template:
    reports = await Reconciler(request.app.state.platform).reports()
    return render(request, "payments/admin/reconciliations.html", reports=reports)


@get("/admin/payments/reconciliation/{report_id:int}", guards=[VIEW], include_in_schema=False)
async def admin_reconciliation(request: Request[Any, Any, Any], report_id: FromPath[int]) -> Template:
    found = await Reconciler(request.app.state.platform).report(report_id)
    if found is None:
        raise NotFoundException(f"no reconciliation report {report_id}")
    report, items = found
    return render(request, "payments/admin/reconciliation.html", report=report, items=items)


@get("/admin/payments/{payment_id:str}", guards=[VIEW], include_in_schema=False)
async def admin_detail(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Template:
    payments = service(request)
    payment = await payments.get(payment_uuid(payment_id))
    return render(request, "payments/admin/detail.html", payment=payment, events=await payments.events(payment.id),
                  callbacks=await payments.store.callbacks(payment_id=payment.id),
                  gateway=payments.platform.registry("payment_gateways").get(payment.gateway)
                  if payment.gateway in payments.platform.registry("payment_gateways") else None,
                  message=request.query_params.get("done", ""))


def _back(payment_id: Any, done: str) -> Redirect:
    return Redirect(f"/admin/payments/{payment_id}?done={done}", status_code=303)


@post("/admin/payments/{payment_id:str}/check", guards=[MANAGE], include_in_schema=False, status_code=303)
async def admin_check(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Redirect:
    parsed = payment_uuid(payment_id)
    await service(request).check(parsed, actor=actor(request))
    return _back(parsed, "checked")


@post("/admin/payments/{payment_id:str}/mark-paid", guards=[MARK_PAID], include_in_schema=False, status_code=303)
async def admin_mark_paid(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Redirect:
    payment = await service(request).get(payment_uuid(payment_id))
    note = (await form_of(request)).get("note", "")
    outcome = await _ask(request, approvals.MARK_PAID, payment, note=note)
    return _back(payment.id, outcome.status)


@post("/admin/payments/{payment_id:str}/approve", guards=[APPROVE], include_in_schema=False, status_code=303)
async def admin_approve(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Redirect:
    payment = await service(request).get(payment_uuid(payment_id))
    outcome = await _ask(request, approvals.APPROVE_PAYOUT, payment)
    return _back(payment.id, outcome.status)


@post("/admin/payments/{payment_id:str}/reject", guards=[APPROVE], include_in_schema=False, status_code=303)
async def admin_reject(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Redirect:
    parsed = payment_uuid(payment_id)
    reason = (await form_of(request)).get("reason", "")
    await service(request).reject_withdrawal(parsed, admin_id(request), reason)
    await _audit(request, "payments.reject_payout", parsed, reason=reason)
    return _back(parsed, "rejected")


@post("/admin/payments/{payment_id:str}/refund", guards=[REFUND], include_in_schema=False, status_code=303)
async def admin_refund(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Redirect:
    payments = service(request)
    payment = await payments.get(payment_uuid(payment_id))
    amount = payments.money((await form_of(request)).get("amount", ""), payment.amount.currency)
    outcome = await _ask(request, approvals.REFUND, payment, amount_minor=amount.minor)
    return _back(payment.id, outcome.status)


@post("/admin/payments/{payment_id:str}/clear-review", guards=[MANAGE], include_in_schema=False, status_code=303)
async def admin_clear_review(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Redirect:
    parsed = payment_uuid(payment_id)
    note = (await form_of(request)).get("note", "")
    await service(request).clear_review(parsed, actor(request), note)
    await _audit(request, "payments.clear_review", parsed, note=note)
    return _back(parsed, "review-cleared")


# -- admin API -----------------------------------------------------------------------------------------------------


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=2000)


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: str = Field(examples=["100.00"])


@get("/api/v1/admin/payments", guards=[VIEW], tags=["payments admin"], summary="Search payments")
async def api_admin_list(request: Request[Any, Any, Any], status: FromQuery[Status | None] = None,
                         kind: FromQuery[Kind | None] = None, gateway: FromQuery[str | None] = None,
                         needs_review: FromQuery[bool | None] = None) -> list[dict[str, Any]]:
    found = await service(request).store.search(status=status.value if status else None,
                                                kind=kind.value if kind else None,
                                                gateway=known_gateway(request, gateway), needs_review=needs_review)
    return [payment_json(p) | {"user_id": str(p.user_id), "needs_review": p.needs_review,
                               "review_reason": p.review_reason} for p in found]


@get("/api/v1/admin/payments/{payment_id:str}", guards=[VIEW], tags=["payments admin"],
     summary="A payment with its audit trail")
async def api_admin_payment(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> dict[str, Any]:
    payments = service(request)
    payment = await payments.get(payment_uuid(payment_id))
    events = await payments.events(payment.id)
    return payment_json(payment) | {
        "user_id": str(payment.user_id), "needs_review": payment.needs_review, "reference": payment.reference,
        "provider_status": payment.provider_status,
        "events": [{**e, "at": e["at"].isoformat()} for e in events]}


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {"outcome": outcome.status, "approval_id": str(outcome.approval_id) if outcome.approval_id else None,
            "result": dict(outcome.result or {})}


@post("/api/v1/admin/payments/{payment_id:str}/approve", guards=[APPROVE], tags=["payments admin"],
      status_code=200, summary="Approve a withdrawal above the threshold (maker-checker: a second person confirms)")
async def api_admin_approve(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> dict[str, Any]:
    payment = await service(request).get(payment_uuid(payment_id))
    return _outcome_json(await _ask(request, approvals.APPROVE_PAYOUT, payment))


@post("/api/v1/admin/payments/{payment_id:str}/reject", guards=[APPROVE], tags=["payments admin"],
      status_code=200, summary="Reject a withdrawal; its hold is released")
async def api_admin_reject(request: Request[Any, Any, Any], payment_id: FromPath[str], data: JSONBody[DecisionIn]) -> dict[str, Any]:
    parsed = payment_uuid(payment_id)
    payment = await service(request).reject_withdrawal(parsed, admin_id(request), data.reason)
    await _audit(request, "payments.reject_payout", parsed, reason=data.reason)
    return payment_json(payment)


@post("/api/v1/admin/payments/{payment_id:str}/refund", guards=[REFUND], tags=["payments admin"],
      status_code=200, summary="Refund (part of) a pay-in to the customer's card (maker-checker)")
async def api_admin_refund(request: Request[Any, Any, Any], payment_id: FromPath[str],
                           data: JSONBody[RefundIn]) -> dict[str, Any]:
    payments = service(request)
    payment = await payments.get(payment_uuid(payment_id))
    amount = payments.money(data.amount, payment.amount.currency)
    return _outcome_json(await _ask(request, approvals.REFUND, payment, amount_minor=amount.minor))


@post("/api/v1/admin/payments/{payment_id:str}/mark-paid", guards=[MARK_PAID], tags=["payments admin"],
      status_code=200, summary="Say the money moved, from the bank or the provider's dashboard (maker-checker)")
async def api_admin_mark_paid(request: Request[Any, Any, Any], payment_id: FromPath[str],
                              data: JSONBody[DecisionIn]) -> dict[str, Any]:
    payment = await service(request).get(payment_uuid(payment_id))
    return _outcome_json(await _ask(request, approvals.MARK_PAID, payment, note=data.reason))


@post("/api/v1/admin/payments/{payment_id:str}/check", guards=[MANAGE], tags=["payments admin"],
      status_code=200, summary="Ask the provider about a payment now")
async def api_admin_check(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> dict[str, Any]:
    payment = await service(request).check(payment_uuid(payment_id), actor=actor(request))
    if payment is None:
        raise NotFoundException(f"no payment {payment_id}")
    return payment_json(payment)


ADMIN_ROUTES = [
    admin_list, admin_withdrawals, admin_callbacks, admin_reconciliations, admin_reconciliation, admin_detail,
    admin_check, admin_mark_paid, admin_approve, admin_reject, admin_refund, admin_clear_review,
    api_admin_list, api_admin_payment, api_admin_approve, api_admin_reject, api_admin_refund, api_admin_mark_paid,
    api_admin_check,
]
