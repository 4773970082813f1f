"""Admin pages and admin API of the scoring plugin.

Pages: ``/admin/scoring`` (the inquiry log, with filters), ``/admin/scoring/inquiries/{id}``
(an inquiry's answers and decisions, no personal data), ``/admin/scoring/inquiries/{id}/report``
(the applicant and the reports: needs ``scoring.reports.view``, each look audited),
``/admin/scoring/new`` (run an inquiry or a full assessment). The JSON API is in :mod:`.api`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.exceptions import ClientException, NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from core.access import identity_of, requires
from core.access.audit import AuditLog
from core.contracts.scoring import ScoringRequest, ScoringStatus
from core.web.templating import render
from plugins.scoring.inputs import applicant_from, loan_from
from plugins.scoring.records import IN_PROGRESS
from plugins.scoring.service import (
    RequestIdConflict,
    ScoringError,
    ScoringService,
    UnknownInquiry,
)
from plugins.scoring.store import InquiryFilter

VIEW = requires("scoring.view")
REPORTS = requires("scoring.view", "scoring.reports.view")
INQUIRE = requires("scoring.inquire")
PAGE_SIZE = 50
STATUSES = [IN_PROGRESS, *(s.value for s in ScoringStatus)]


def scoring(request: Request[Any, Any, Any]) -> ScoringService:
    return request.app.state.platform.service(ScoringService)


def default_currency(request: Request[Any, Any, Any]) -> str:
    service = scoring(request)
    return service.settings.currency or service.platform.core.platform.currency


async def audit(request: Request[Any, Any, Any], action: str, inquiry_id: Any, **details: Any) -> None:
    await request.app.state.platform.service(AuditLog).record(action=action, target=f"scoring.inquiry:{inquiry_id}",
                                                              details=details, actor=identity_of(request))


def inquiry_uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise NotFoundException(f"no inquiry {value!r}: not an inquiry id") from None


def http_error(exc: ScoringError) -> Exception:
    """The HTTP answer for a refused request, naming the field."""
    if isinstance(exc, UnknownInquiry):
        return NotFoundException(exc.message)
    if isinstance(exc, RequestIdConflict):
        return ClientException(str(exc), status_code=409)
    return ValidationException(str(exc), extra=[{"key": exc.field, "message": exc.message}])


def _date(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.UTC)
    except ValueError:
        raise ValidationException(f"{name}: a date as YYYY-MM-DD") from None


def filters_from(request: Request[Any, Any, Any], service: ScoringService, *, provider: str | None, status: str | None,
                 reference: str | None, taxpayer_number: str | None, since: str | None, until: str | None
                 ) -> InquiryFilter:
    """The log's filters, checked: an unknown value is a 400 naming the filter, not a query."""
    names = service.platform.registry("scoring_providers").names()
    if provider and provider not in names:
        raise ValidationException(f"provider: one of {', '.join(names)}")
    if status and status not in STATUSES:
        raise ValidationException(f"status: one of {', '.join(STATUSES)}")
    itn = (taxpayer_number or "").strip()
    if itn and not (itn.isdigit() and len(itn) <= 12):
        raise ValidationException("taxpayer_number: digits only")
    until_at = _date(until, "until")
    return InquiryFilter(provider=provider or None, status=status or None, reference=(reference or "").strip()[:200]
                         or None, subject_bidx=service.subject_index_of_itn(itn) if itn else None,
                         since=_date(since, "since"), until=until_at + dt.timedelta(days=1) if until_at else None)


# -- pages --------------------------------------------------------------------------------------------------


@get("/admin/scoring", guards=[VIEW], include_in_schema=False, name="scoring-admin")
async def log_page(request: Request[Any, Any, Any], provider: FromQuery[str | None] = None,
                   status: FromQuery[str | None] = None, reference: FromQuery[str | None] = None,
                   taxpayer_number: FromQuery[str | None] = None, since: FromQuery[str | None] = None,
                   until: FromQuery[str | None] = None, page: FromQuery[int] = 1) -> Template:
    service = scoring(request)
    filters = filters_from(request, service, provider=provider, status=status, reference=reference,
                           taxpayer_number=taxpayer_number, since=since, until=until)
    page = max(1, min(page, 10_000))
    found = await service.search(filters, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    query = {k: v for k, v in {"provider": provider, "status": status, "reference": reference,
                                "taxpayer_number": taxpayer_number, "since": since, "until": until}.items() if v}
    return render(request, "scoring/admin/inquiries.html", inquiries=found[:PAGE_SIZE], more=len(found) > PAGE_SIZE,
                  page=page, query=query, providers=service.providers(), statuses=STATUSES,
                  can_inquire=identity_of(request).can("scoring.inquire"))


@get("/admin/scoring/inquiries/{inquiry_id:str}", guards=[VIEW], include_in_schema=False)
async def inquiry_page(request: Request[Any, Any, Any], inquiry_id: FromPath[str]) -> Template:
    service = scoring(request)
    try:
        inquiry = await service.get(inquiry_uuid(inquiry_id))
    except ScoringError as exc:
        raise http_error(exc) from None
    history = [r for r in await service.store.history(inquiry.id)]
    identity = identity_of(request)
    return render(request, "scoring/admin/inquiry.html", inquiry=inquiry, history=history,
                  decisions=await service.decisions(inquiry_id=inquiry.id),
                  can_read_report=identity.can("scoring.reports.view"), can_inquire=identity.can("scoring.inquire"),
                  flash=request.query_params.get("done", ""))


@get("/admin/scoring/inquiries/{inquiry_id:str}/report", guards=[REPORTS], include_in_schema=False)
async def report_page(request: Request[Any, Any, Any], inquiry_id: FromPath[str]) -> Template:
    """The applicant and every report, decrypted; each look is in the audit log."""
    service = scoring(request)
    try:
        inquiry = await service.get(inquiry_uuid(inquiry_id), with_personal=True)
    except ScoringError as exc:
        raise http_error(exc) from None
    await audit(request, "scoring.report.viewed", inquiry.id, provider=inquiry.provider)
    return render(request, "scoring/admin/report.html", inquiry=inquiry, applicant=inquiry.applicant,
                  history=inquiry.history)


@get("/admin/scoring/new", guards=[INQUIRE], include_in_schema=False)
async def new_page(request: Request[Any, Any, Any]) -> Template:
    service = scoring(request)
    return render(request, "scoring/admin/new.html", providers=service.providers(), form={}, error=None,
                  currency=default_currency(request))


@post("/admin/scoring/new", guards=[INQUIRE], include_in_schema=False, status_code=303)
async def new_submit(request: Request[Any, Any, Any]) -> Redirect | Template:
    service = scoring(request)
    form = {k: v.replace("\x00", "") for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        applicant = applicant_from(form)
        amount, term = loan_from(form, default_currency(request))
        reference = form.get("reference", "").strip()
        consent = form.get("consent_ref", "")
        chosen = form.get("provider", "")
        if chosen == "policy":
            assessment = await service.assess(reference, applicant, consent_ref=consent, amount=amount,
                                              term_days=term)
            target = assessment.inquiries[0].id if len(assessment.inquiries) == 1 else None
            for inquiry in assessment.inquiries:
                await audit(request, "scoring.inquiry.requested", inquiry.id, provider=inquiry.provider,
                            reference=reference)
            if target is None:
                return Redirect(f"/admin/scoring?reference={reference}", status_code=303)
        else:
            inquiry = await service.inquire(chosen, ScoringRequest(
                request_id=form.get("request_id", "").strip() or f"admin:{reference or dt.datetime.now(dt.UTC)}",
                applicant=applicant, amount=amount, term_days=term, consent_ref=consent,
                report_type=form.get("report_type", "").strip()), reference=reference)
            await audit(request, "scoring.inquiry.requested", inquiry.id, provider=inquiry.provider,
                        reference=reference)
            target = inquiry.id
    except ScoringError as exc:
        safe = {k: v for k, v in form.items() if k != "_csrf"}
        return render(request, "scoring/admin/new.html", status_code=409 if isinstance(exc, RequestIdConflict)
                      else 422, providers=service.providers(), form=safe, error=str(exc),
                      currency=default_currency(request))
    return Redirect(f"/admin/scoring/inquiries/{target}", status_code=303)


@post("/admin/scoring/inquiries/{inquiry_id:str}/retry", guards=[INQUIRE], include_in_schema=False,
      status_code=303)
async def retry_submit(request: Request[Any, Any, Any], inquiry_id: FromPath[str]) -> Redirect:
    service = scoring(request)
    try:
        inquiry = await service.retry(inquiry_uuid(inquiry_id))
    except ScoringError as exc:
        raise http_error(exc) from None
    await audit(request, "scoring.inquiry.retried", inquiry.id, provider=inquiry.provider, status=inquiry.status)
    return Redirect(f"/admin/scoring/inquiries/{inquiry.id}?done=retried", status_code=303)


ADMIN_ROUTES = [log_page, inquiry_page, report_page, new_page, new_submit, retry_submit]
