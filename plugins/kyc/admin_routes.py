"""The reviewers' side: the queue, a submission decrypted (each view audited), and the decisions.

Pages under ``/admin/kyc``, the same under ``/api/v1/admin/kyc``; everything needs
``kyc.review``. A reviewer cannot decide on their own documents; approving a customer whose
checks did not all pass needs a note saying why; rejecting always needs one (the customer
reads it).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from core.access import identity_of, requires
from core.users.service import Users
from core.users.web import describe, read_form
from core.web.i18n import gettext as _
from core.web.templating import render
from plugins.kyc.records import STATE_LABELS, STATUS_LABELS, CheckRecord, State, Submission
from plugins.kyc.routes import latest_per_check
from plugins.kyc.service import FLAG_TEXTS, KycService, SubmissionView

GUARD = {"guards": [requires("admin.access", "kyc.review")]}
TAGS = ["kyc admin"]
QUEUES = (State.REVIEW, State.CHECKING, State.VERIFIED, State.REJECTED)
N_ = str
DONE = {
    "approved": N_("The customer is verified."),
    "rejected": N_("The submission is rejected; the customer is told why."),
    "rechecked": N_("The checks run again."),
}


class DecisionBody(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


def kyc_of(request: Request[Any, Any, Any]) -> KycService:
    return request.app.state.platform.service(KycService)


def state_of(value: str | None) -> State:
    try:
        state = State(value or State.REVIEW.value)
    except ValueError:
        state = None
    if state not in QUEUES:
        raise ValidationException(
            f"state: one of {', '.join(s.value for s in QUEUES)}",
            extra=[{"key": "state", "message": "not a queue", "source": "query"}],
        )
    return state


def cursor_of(value: str | None) -> tuple[dt.datetime, UUID] | None:
    """``<updated_at ISO>_<id>``: where the previous page ended."""
    if not value:
        return None
    stamp, _sep, ident = value.rpartition("_")
    try:
        moment = dt.datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            raise ValueError
        return moment, UUID(ident)
    except ValueError:
        raise ValidationException("after: not a cursor from a previous page",
                                  extra=[{"key": "after", "message": "not a cursor", "source": "query"}]) from None


def cursor(submission: Submission) -> str:
    return f"{submission.updated_at.isoformat()}_{submission.id}"


def submission_json(s: Submission) -> dict[str, Any]:
    return {
        **s.public(),
        "user_id": str(s.user_id),
        "round": s.round,
        "checks": list(s.checks),
        "flags": [{"code": f, "text": FLAG_TEXTS.get(f, f)} for f in s.flags],
        "decided_by": str(s.decided_by) if s.decided_by else None,
        "decision_reason": s.decision_reason,
        "erased": s.erased_at is not None,
    }


def record_json(r: CheckRecord) -> dict[str, Any]:
    return {
        "id": r.id, "check": r.check, "round": r.round, "attempt": r.attempt, "status": r.status.value,
        "reasons": list(r.reasons), "reference": r.reference, "at": r.created_at.isoformat(),
        "retry_at": r.retry_at.isoformat() if r.retry_at else None, "details": r.details,
    }


async def queue_page_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    kyc = kyc_of(request)
    state = state_of(request.query_params.get("state"))
    items = await kyc.queue((state,), after=cursor_of(request.query_params.get("after")), limit=50)
    return {"state": state, "items": items, "names": await names_of(request, items), "counts": await kyc.counts(),
            "queues": QUEUES,
            "state_labels": STATE_LABELS, "next_cursor": cursor(items[-1]) if len(items) == 50 else None,
            "flag_texts": FLAG_TEXTS}


async def names_of(request: Request[Any, Any, Any], items: list[Submission]) -> dict[UUID, str]:
    """The customers' names as their accounts give them (the documents' names stay encrypted)."""
    users = request.app.state.platform.service(Users)
    names = {}
    for user_id in {s.user_id for s in items}:
        try:
            names[user_id] = (await users.get(user_id)).name
        except NotFoundException:
            names[user_id] = str(user_id)
    return names


@get("/admin/kyc", include_in_schema=False, **GUARD)
async def queue_page(request: Request[Any, Any, Any]) -> Template:
    return render(request, "kyc/admin/queue.html", **await queue_page_context(request))


async def detail_context(request: Request[Any, Any, Any], submission_id: UUID) -> dict[str, Any]:
    kyc = kyc_of(request)
    view: SubmissionView = await kyc.review_view(submission_id, viewer=identity_of(request))
    titles = {c.name: c.title for c in kyc.checks()}
    return {
        "view": view, "s": view.submission, "titles": titles, "state_labels": STATE_LABELS,
        "status_labels": STATUS_LABELS, "flag_texts": FLAG_TEXTS,
        "latest": latest_per_check(view.results, view.submission.round),
        "own": view.submission.user_id == identity_of(request).user_id,
    }


@get("/admin/kyc/submissions/{submission_id:uuid}", include_in_schema=False, **GUARD)
async def detail_page(request: Request[Any, Any, Any], submission_id: FromPath[UUID]) -> Template:
    done = DONE.get(request.query_params.get("done") or "")
    return render(request, "kyc/admin/detail.html", flash=_(done) if done else None, errors={},
                  **await detail_context(request, submission_id))


def _decision_page(action: str, verb: str):
    async def handler(request: Request[Any, Any, Any], submission_id: FromPath[UUID]) -> Any:
        form = await read_form(request)
        try:
            await _decide(request, action, submission_id, form.get("reason", ""))
        except HTTPException as exc:
            message, fields = describe(exc)
            return render(request, "kyc/admin/detail.html", status_code=exc.status_code, error=message,
                          errors=fields, reason=form.get("reason", ""), **await detail_context(request, submission_id))
        return Redirect(f"/admin/kyc/submissions/{submission_id}?done={action}", status_code=303)

    handler.__name__ = f"{action}_page"
    return post(f"/admin/kyc/submissions/{{submission_id:uuid}}/{verb}",
                include_in_schema=False, name=f"kyc.{action}", **GUARD)(handler)


async def _decide(request: Request[Any, Any, Any], action: str, submission_id: UUID, reason: str) -> Submission:
    kyc = kyc_of(request)
    identity = identity_of(request)
    if action == "approved":
        return await kyc.approve(submission_id, by=identity, reason=reason)
    if action == "rejected":
        return await kyc.reject(submission_id, by=identity, reason=reason)
    return await kyc.recheck(submission_id, by=identity)


approve_page = _decision_page("approved", "approve")
reject_page = _decision_page("rejected", "reject")
recheck_page = _decision_page("rechecked", "recheck")


@get("/api/v1/admin/kyc/submissions", tags=TAGS, summary="Submissions in one state, oldest first", **GUARD)
async def api_queue(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """``?state=review`` (``checking``, ``verified``, ``rejected``) and ``&after=`` the previous page's ``next``."""
    kyc = kyc_of(request)
    state = state_of(request.query_params.get("state"))
    items = await kyc.queue((state,), after=cursor_of(request.query_params.get("after")), limit=50)
    return {"items": [submission_json(s) for s in items], "next": cursor(items[-1]) if len(items) == 50 else None,
            "counts": await kyc.counts()}


@get("/api/v1/admin/kyc/submissions/{submission_id:uuid}", tags=TAGS,
     summary="A submission decrypted, with its checks' history (audited)", **GUARD)
async def api_detail(request: Request[Any, Any, Any], submission_id: FromPath[UUID]) -> dict[str, Any]:
    view = await kyc_of(request).review_view(submission_id, viewer=identity_of(request))
    return {**submission_json(view.submission), "person": view.values,
            "results": [record_json(r) for r in view.results]}


def _decision_api(action: str, verb: str, summary: str):
    async def handler(request: Request[Any, Any, Any], submission_id: FromPath[UUID],
                      data: Annotated[DecisionBody | None, Body()] = None) -> dict[str, Any]:
        moved = await _decide(request, action, submission_id, data.reason if data else "")
        return submission_json(moved)

    handler.__name__ = f"api_{verb}"
    return post(f"/api/v1/admin/kyc/submissions/{{submission_id:uuid}}/{verb}", tags=TAGS, summary=summary,
                status_code=200, **GUARD)(handler)


api_approve = _decision_api("approved", "approve", "Verify the customer (a reason is needed when a check did not pass)")
api_reject = _decision_api("rejected", "reject", "Reject the submission, telling the customer why")
api_recheck = _decision_api("rechecked", "recheck", "Run every check again")

ADMIN_ROUTES = [queue_page, detail_page, approve_page, reject_page, recheck_page, api_queue, api_detail,
                api_approve, api_reject, api_recheck]
