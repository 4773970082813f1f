"""The customer's side: the verification page (``/kyc``) and the API (``/api/v1/kyc/...``).

The page shows where the customer stands, the form (its fields are those the enabled
checks read), and their earlier submissions. A mistake shows the form again with the
message next to each wrong field and what was typed kept. A customer reaches only their
own submissions: another's id answers 404.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.exceptions import HTTPException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from core.access import identity_of, requires_login
from core.users.web import describe, read_form
from core.web.i18n import gettext as _
from core.web.templating import render
from plugins.kyc.documents import KIND_FIELDS, KIND_TITLES
from plugins.kyc.records import STATE_LABELS, STATUS_LABELS, CheckRecord, State
from plugins.kyc.service import KycService

SIGNED_IN = {"guards": [requires_login]}
TAGS = ["kyc"]
Short = Annotated[str, msgspec.Meta(max_length=100)]
Long = Annotated[str, msgspec.Meta(max_length=300)]
N_ = str
DONE = {"sent": N_("Thank you: your documents are being checked.")}


class SubmissionBody(msgspec.Struct):
    """The person and their documents; which documents are needed: ``GET /api/v1/kyc``."""

    last_name: Short
    first_name: Short
    birth_date: Short
    consent: bool
    middle_name: Short = ""
    birth_place: Long = ""
    itn: Short = ""
    passport_number: Short = ""
    passport_issued_on: Short = ""
    passport_issuer_code: Short = ""
    passport_issuer: Long = ""
    snils: Short = ""


def kyc_of(request: Request[Any, Any, Any]) -> KycService:
    return request.app.state.platform.service(KycService)


def user_of(request: Request[Any, Any, Any]) -> UUID:
    return identity_of(request).user_id  # type: ignore[return-value]


def result_view(record: CheckRecord, titles: dict[str, str]) -> dict[str, Any]:
    """A check's latest answer for its owner: whether it passed, not what the provider said."""
    return {
        "check": record.check,
        "title": titles.get(record.check, record.check),
        "status": record.status.value,
        "attempt": record.attempt,
        "at": record.created_at.isoformat(),
    }


def latest_per_check(records: list[CheckRecord], round_: int) -> list[CheckRecord]:
    latest: dict[str, CheckRecord] = {}
    for record in records:
        if record.round == round_:
            latest[record.check] = record
    return list(latest.values())


async def page_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    kyc = kyc_of(request)
    verification = await kyc.status(user_of(request))
    titles = {c.name: c.title for c in kyc.checks()}
    results: list[CheckRecord] = []
    if verification.submission is not None:
        history = await kyc.store.history(verification.submission.id)
        results = latest_per_check(history, verification.submission.round)
    return {
        "verification": verification,
        "state_labels": STATE_LABELS,
        "status_labels": STATUS_LABELS,
        "titles": titles,
        "results": results,
        "history": await kyc.history(user_of(request)),
        "kinds": kyc.offered_kinds(),
        "required": kyc.required_kinds(),
        "kind_titles": KIND_TITLES,
        "checking": verification.state is State.CHECKING,
    }


@get("/kyc", name="kyc.page", include_in_schema=False, **SIGNED_IN)
async def page(request: Request[Any, Any, Any]) -> Template:
    done = request.query_params.get("done")
    return render(request, "kyc/page.html", values={}, errors={}, flash=_(DONE[done]) if done in DONE else None,
                  **await page_context(request))


@post("/kyc", include_in_schema=False, **SIGNED_IN)
async def submit_form(request: Request[Any, Any, Any]) -> Any:
    form = await read_form(request)
    try:
        await kyc_of(request).submit(user_of(request), form)
    except HTTPException as exc:
        message, fields = describe(exc)
        values = {k: v for k, v in form.items() if k in _FORM_FIELDS}
        return render(request, "kyc/page.html", status_code=exc.status_code, error=message, errors=fields,
                      values=values, **await page_context(request))
    return Redirect("/kyc?done=sent", status_code=303)


_FORM_FIELDS = {"last_name", "first_name", "middle_name", "birth_date", "birth_place", "consent",
                *(f for fields in KIND_FIELDS.values() for f in fields)}


@get("/api/v1/kyc", tags=TAGS, summary="My verification: its state, and the documents it needs", **SIGNED_IN)
async def api_status(request: Request[Any, Any, Any]) -> dict[str, Any]:
    kyc = kyc_of(request)
    verification = await kyc.status(user_of(request))
    return {
        **verification.public(),
        "documents": {kind: {"fields": list(KIND_FIELDS[kind]), "required": kind in kyc.required_kinds()}
                      for kind in kyc.offered_kinds()},
        "checks": [{"name": c.name, "title": c.title, "documents": sorted(c.document_kinds)} for c in kyc.checks()],
    }


@post("/api/v1/kyc/submissions", tags=TAGS, summary="Send my documents to be verified (replaces earlier ones)",
      status_code=201, **SIGNED_IN)
async def api_submit(request: Request[Any, Any, Any], data: Annotated[SubmissionBody, Body()]) -> dict[str, Any]:
    submission = await kyc_of(request).submit(user_of(request), msgspec.structs.asdict(data))
    return submission.public()


@get("/api/v1/kyc/submissions", tags=TAGS, summary="My submissions, newest first", **SIGNED_IN)
async def api_history(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [s.public() for s in await kyc_of(request).history(user_of(request))]


@get("/api/v1/kyc/submissions/{submission_id:uuid}", tags=TAGS, summary="One of my submissions and its checks",
     **SIGNED_IN)
async def api_submission(request: Request[Any, Any, Any], submission_id: FromPath[UUID]) -> dict[str, Any]:
    kyc = kyc_of(request)
    view = await kyc.own_submission(user_of(request), submission_id)
    titles = {c.name: c.title for c in kyc.checks()}
    latest = latest_per_check(view.results, view.submission.round)
    return {**view.submission.public(), "checks": [result_view(r, titles) for r in latest]}


ROUTES = [page, submit_form, api_status, api_submit, api_history, api_submission]
