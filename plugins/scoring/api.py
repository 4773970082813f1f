"""The scoring JSON API for admins and integrators, under ``/api/v1/scoring``.

``GET /inquiries`` (the log, filtered), ``GET /inquiries/{id}`` (an inquiry, its answers and
decisions, no personal data), ``GET /inquiries/{id}/report`` (the applicant and the reports,
audited), ``POST /inquiries`` (ask one provider, idempotent by ``request_id``),
``POST /assessments`` (ask the policy's providers and decide, idempotent by ``reference``),
``GET /assessments/{reference}`` (decide again from what is stored). Bad input is a 400 or
422 naming the field; an unknown inquiry a 404; a request id reused for someone else a 409.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, post
from litestar.params import Body, FromPath, FromQuery
from pydantic import BaseModel, ConfigDict, Field

from core.contracts.scoring import ScoringRequest
from plugins.scoring.admin_routes import (
    INQUIRE,
    REPORTS,
    VIEW,
    audit,
    default_currency,
    filters_from,
    http_error,
    inquiry_uuid,
    scoring,
)
from plugins.scoring.inputs import APPLICANT_FIELDS, applicant_from, loan_from
from plugins.scoring.records import Inquiry
from plugins.scoring.service import ScoringError

# -- the API -----------------------------------------------------------------------------------------------


class ApplicantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    last_name: str = Field(max_length=100, examples=["БОГДАНОВ"])
    first_name: str = Field(max_length=100, examples=["БОГДАН"])
    middle_name: str = Field("", max_length=100)
    birth_date: str = Field("", description="YYYY-MM-DD", examples=["1974-08-20"])
    taxpayer_number: str = Field("", max_length=20, examples=["2726020593"])
    passport: str = Field("", max_length=40, examples=["001013900"])
    phone: str = Field("", max_length=40)
    gender: str = Field("", description="male, female or empty")


class LoanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    consent_ref: str = Field(max_length=200, description="Where the applicant's consent to the inquiry is kept",
                             examples=["consent:2026-11-22:0001"])
    reference: str = Field("", max_length=200, description="What the inquiry is for", examples=["loan-application:42"])
    applicant: ApplicantIn
    amount: str | None = Field(None, description="Decimal string in the currency's units", examples=["5000.00"])
    currency: str | None = Field(None, examples=["UAH"])
    term_days: int | None = Field(None, gt=0, le=36500)


class InquiryIn(LoanIn):
    provider: str = Field(examples=["ubki"])
    request_id: str = Field(max_length=200, description="Asking again with the same id never pays twice")
    report_type: str = Field("", max_length=50)


class AssessmentIn(LoanIn):
    providers: list[str] | None = Field(None, description="Default: those of the policy, in its order")
    user_id: UUID | None = Field(None, description="The platform user the application is from")


def _parts(request: Request[Any, Any, Any], data: LoanIn) -> tuple[Any, Any, Any]:
    applicant = applicant_from(data.applicant.model_dump(), "applicant.")
    amount, term = loan_from({"amount": data.amount, "currency": data.currency, "term_days": data.term_days},
                             default_currency(request))
    return applicant, amount, term


def _inquiry_json(inquiry: Inquiry) -> dict[str, Any]:
    return inquiry.as_json() | {"url": f"/admin/scoring/inquiries/{inquiry.id}"}


@get("/api/v1/scoring/inquiries", guards=[VIEW], tags=["scoring"], summary="The inquiry log")
async def api_inquiries(request: Request[Any, Any, Any], provider: FromQuery[str | None] = None,
                        status: FromQuery[str | None] = None, reference: FromQuery[str | None] = None,
                        taxpayer_number: FromQuery[str | None] = None, since: FromQuery[str | None] = None,
                        until: FromQuery[str | None] = None, limit: FromQuery[int] = 50,
                        offset: FromQuery[int] = 0) -> list[dict[str, Any]]:
    service = scoring(request)
    filters = filters_from(request, service, provider=provider, status=status, reference=reference,
                           taxpayer_number=taxpayer_number, since=since, until=until)
    found = await service.search(filters, limit=max(1, min(limit, 500)), offset=max(0, min(offset, 1_000_000)))
    return [_inquiry_json(i) for i in found]


@get("/api/v1/scoring/inquiries/{inquiry_id:str}", guards=[VIEW], tags=["scoring"],
     summary="An inquiry and its answers (no personal data)")
async def api_inquiry(request: Request[Any, Any, Any], inquiry_id: FromPath[str]) -> dict[str, Any]:
    service = scoring(request)
    try:
        inquiry = await service.get(inquiry_uuid(inquiry_id))
    except ScoringError as exc:
        raise http_error(exc) from None
    history = await service.store.history(inquiry.id)
    return _inquiry_json(inquiry) | {
        "answers": [{"id": r["id"], "attempt": r["attempt"], "source": r["source"], "status": r["status"],
                     "score": r["score"], "error_code": r["error_code"], "received_at": r["received_at"].isoformat()}
                    for r in history],
        "decisions": [{"id": str(d.id), "outcome": d.outcome, "reasons": d.reasons, "reference": d.reference,
                       "created_at": d.created_at.isoformat()} for d in await service.decisions(inquiry_id=inquiry.id)]}


@get("/api/v1/scoring/inquiries/{inquiry_id:str}/report", guards=[REPORTS], tags=["scoring"],
     summary="The applicant and the reports (audited)")
async def api_report(request: Request[Any, Any, Any], inquiry_id: FromPath[str]) -> dict[str, Any]:
    service = scoring(request)
    try:
        inquiry = await service.get(inquiry_uuid(inquiry_id), with_personal=True)
    except ScoringError as exc:
        raise http_error(exc) from None
    await audit(request, "scoring.report.viewed", inquiry.id, provider=inquiry.provider, via="api")
    applicant = inquiry.applicant
    return _inquiry_json(inquiry) | {
        "applicant": {name: (getattr(applicant, name).isoformat() if name == "birth_date" and applicant.birth_date
                             else getattr(applicant, name)) for name in APPLICANT_FIELDS} if applicant else None,
        "answers": [r.as_json() | {"details": dict(r.report.details) if r.report else {},
                                   "factors": {k: str(v) if not isinstance(v, bool | int) else v
                                               for k, v in (r.report.factors if r.report else {}).items()},
                                   "document": r.report.document if r.report else ""} for r in inquiry.history]}


@post("/api/v1/scoring/inquiries", guards=[INQUIRE], tags=["scoring"], status_code=200,
      summary="Ask one provider (idempotent by request_id)")
async def api_inquire(request: Request[Any, Any, Any], data: Annotated[InquiryIn, Body()]) -> dict[str, Any]:
    service = scoring(request)
    try:
        applicant, amount, term = _parts(request, data)
        inquiry = await service.inquire(data.provider, ScoringRequest(
            request_id=data.request_id, applicant=applicant, amount=amount, term_days=term,
            consent_ref=data.consent_ref, report_type=data.report_type), reference=data.reference)
    except ScoringError as exc:
        raise http_error(exc) from None
    await audit(request, "scoring.inquiry.requested", inquiry.id, provider=inquiry.provider, via="api",
                reference=inquiry.reference)
    return _inquiry_json(inquiry)


@post("/api/v1/scoring/assessments", guards=[INQUIRE], tags=["scoring"], status_code=200,
      summary="Ask the policy's providers and decide (idempotent by reference)")
async def api_assess(request: Request[Any, Any, Any], data: Annotated[AssessmentIn, Body()]) -> dict[str, Any]:
    service = scoring(request)
    try:
        applicant, amount, term = _parts(request, data)
        assessment = await service.assess(data.reference, applicant, consent_ref=data.consent_ref, amount=amount,
                                          term_days=term, providers=data.providers, user_id=data.user_id)
    except ScoringError as exc:
        raise http_error(exc) from None
    for inquiry in assessment.inquiries:
        await audit(request, "scoring.inquiry.requested", inquiry.id, provider=inquiry.provider, via="api",
                    reference=assessment.reference)
    return assessment.as_json()


@get("/api/v1/scoring/assessments/{reference:str}", guards=[VIEW], tags=["scoring"],
     summary="Decide again from the stored answers (asks no provider)")
async def api_assessment(request: Request[Any, Any, Any], reference: FromPath[str]) -> dict[str, Any]:
    try:
        return (await scoring(request).assessment(reference)).as_json()
    except ScoringError as exc:
        raise http_error(exc) from None


API_ROUTES = [api_inquiries, api_inquiry, api_report, api_inquire, api_assess, api_assessment]
