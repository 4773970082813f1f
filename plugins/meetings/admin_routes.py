"""What the arbitration manager does: cases and their register of claims, meetings and their agenda,
convening, the registration journal, paper ballots, opening, closing and the protocol.

Pages under ``/admin/meetings/``, the same actions as JSON under ``/api/v1/admin/meetings/``. Every
route needs ``meetings.organize``; an organizer sees only the cases they run (``meetings.supervise``
sees all), anything else is "not found".
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from core.access import requires
from core.projects import forms
from core.projects.errors import Invalid
from core.web.i18n import gettext as _
from core.web.templating import render
from plugins.meetings import chain
from plugins.meetings.ballots import FORM_LABELS, form_from_json
from plugins.meetings.cases import CaseService
from plugins.meetings.common import ORGANIZE, managed_case
from plugins.meetings.notice import METHODS
from plugins.meetings.protocol import ProtocolService
from plugins.meetings.registration import METHOD_LABELS, RegistrationService
from plugins.meetings.rules import RULES, STAGE_LABELS, Stage, rule
from plugins.meetings.service import MeetingService
from plugins.meetings.tally import percent
from plugins.meetings.tasks import close_and_report
from plugins.meetings.voting import VotingService, describe
from plugins.meetings.web import action, identity, jsonable, path_id, platform_of, service, text_field

GUARDS = [requires("admin.access", ORGANIZE)]
ADMIN = "/admin/meetings"
API = "/api/v1/admin/meetings"


def _int_or_none(fields: dict[str, Any], name: str) -> int | None:
    value = fields.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        raise Invalid(_("a whole number"), field=name)
    return int(text)


def _amount(fields: dict[str, Any], name: str, currency: str, *, required: bool = True) -> int:
    """Amounts come as ``<name>`` in rubles ("1500000.00") or as ``<name>_minor`` in kopecks."""
    if f"{name}_minor" in fields:
        value = fields[f"{name}_minor"]
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        return value  # checked by the service
    if fields.get(name) in (None, ""):
        if required:
            raise Invalid(_("enter the amount"), field=name)
        return 0
    return forms.amount_minor(fields[name], currency, name, allow_zero=True)


def _moment(request: Request[Any, Any, Any], fields: dict[str, Any], name: str) -> Any:
    moment = forms.moment_of(fields.get(name), name, platform_of(request).core.platform.timezone)
    if moment is None:
        raise Invalid(_("give the date and time, e.g. 2026-12-31T10:00:00+03:00"), field=name)
    return moment


# -- cases and the register --------------------------------------------------------------------------


async def cases_view(request: Request[Any, Any, Any]) -> list[Any]:
    return await service(request, CaseService).cases(identity(request))


@get(ADMIN, guards=GUARDS, include_in_schema=False, name="meetings-admin")
async def cases_page(request: Request[Any, Any, Any]) -> Any:
    return render(request, "meetings/admin_cases.html", cases=await cases_view(request), stages=STAGE_LABELS,
                  done=request.query_params.get("done"))


@get(f"{API}/cases", guards=GUARDS, summary="Cases I run", tags=["meetings"])
async def cases_api(request: Request[Any, Any, Any]) -> Any:
    return jsonable(await cases_view(request))


async def _create_case(request: Request[Any, Any, Any], fields: dict[str, Any], _u: list[Any]) -> tuple[Any, str]:
    row = await service(request, CaseService).create_case(
        identity(request), number=text_field(fields, "number"), debtor_name=text_field(fields, "debtor_name"),
        debtor_kind=text_field(fields, "debtor_kind", "company"), stage=text_field(fields, "stage"),
        court=text_field(fields, "court"), debtor_itn=text_field(fields, "debtor_itn"),
        debtor_address=text_field(fields, "debtor_address"), organizer_name=text_field(fields, "organizer_name"))
    return jsonable(row), f"{ADMIN}/cases/{row['id']}"


async def case_view(request: Request[Any, Any, Any]) -> dict[str, Any]:
    case = await service(request, CaseService).case(identity(request), path_id(request, "case_id"))
    claims = await service(request, CaseService).claims(case["id"])
    return {"case": case, "claims": claims, "meetings": await service(request, MeetingService).meetings_of_case(
        case["id"])}


@get(f"{ADMIN}/cases/{{case_id:str}}", guards=GUARDS, include_in_schema=False, name="meetings-admin-case")
async def case_page(request: Request[Any, Any, Any]) -> Any:
    return render(request, "meetings/admin_case.html", **await case_view(request), stages=STAGE_LABELS,
                  methods=METHODS, done=request.query_params.get("done"))


@get(f"{API}/cases/{{case_id:str}}", guards=GUARDS, summary="A case: its register of claims and meetings",
     tags=["meetings"])
async def case_api(request: Request[Any, Any, Any]) -> Any:
    return jsonable(await case_view(request))


async def _add_claim(request: Request[Any, Any, Any], fields: dict[str, Any], _u: list[Any]) -> tuple[Any, str]:
    case_id = path_id(request, "case_id")
    case = await managed_case(platform_of(request).db, identity(request), case_id)
    currency = case["currency"]
    row = await service(request, CaseService).add_claim(
        identity(request), case_id, creditor_name=fields.get("creditor_name"),
        creditor_kind=fields.get("creditor_kind") or "creditor", creditor_itn=fields.get("creditor_itn"),
        user_id=fields.get("user_id") or None, contact=fields.get("contact"),
        principal_minor=_amount(fields, "principal", currency),
        penalty_minor=_amount(fields, "penalty", currency, required=False),
        secured_minor=_amount(fields, "secured", currency, required=False),
        pledge_waived=forms.flag(fields.get("pledge_waived")), late=forms.flag(fields.get("late")),
        court_act=fields.get("court_act"))
    return jsonable(row), f"{ADMIN}/cases/{case_id}?done=claim_added"


async def _create_meeting(request: Request[Any, Any, Any], fields: dict[str, Any], _u: list[Any]
                          ) -> tuple[Any, str]:
    row = await service(request, MeetingService).create(
        identity(request), path_id(request, "case_id"), title=text_field(fields, "title"),
        form=text_field(fields, "form", "in_person"), starts_at=_moment(request, fields, "starts_at"),
        closes_at=_moment(request, fields, "closes_at"), notice_method=text_field(fields, "notice_method"),
        place=text_field(fields, "place"), ballot_visibility=text_field(fields, "ballot_visibility", "open"),
        grounds=text_field(fields, "grounds"), materials=text_field(fields, "materials"),
        convened_by=text_field(fields, "convened_by", "manager"))
    return jsonable(row), f"{ADMIN}/{row['id']}"


# -- a meeting ---------------------------------------------------------------------------------------


async def meeting_view(request: Request[Any, Any, Any]) -> dict[str, Any]:
    meetings = service(request, MeetingService)
    meeting, case = await meetings.managed(identity(request), path_id(request, "meeting_id"))
    items = await meetings.items(meeting["id"])
    quorum, results = (None, [])
    if meeting["status"] in ("open", "closed", "not_held"):
        quorum, results = await meetings.count(meeting)
    live = {str(item["id"]): result.as_json() for item, result in results}
    recorded = {str(i["id"]): i["result"] for i in items if i["result"] is not None}
    return {
        "meeting": meeting, "case": case,
        "items": [{"item": i, "rule": rule(i["decision"]), "form": form_from_json(i["form"]),
                   "result": recorded.get(str(i["id"])) or live.get(str(i["id"]))} for i in items],
        "base": await meetings.vote_base(meeting["id"]),
        "journal": await service(request, RegistrationService).journal(meeting["id"]),
        "ballots": await service(request, VotingService).ballots(meeting["id"]),
        "quorum": quorum,
        "protocol": await service(request, ProtocolService).protocol(meeting["id"]),
    }


@get(f"{ADMIN}/{{meeting_id:uuid}}", guards=GUARDS, include_in_schema=False, name="meetings-admin-meeting")
async def meeting_page(request: Request[Any, Any, Any]) -> Any:
    view = await meeting_view(request)
    signatures = []
    if view["protocol"] is not None:
        signatures = await service(request, ProtocolService).signatures(view["protocol"]["id"])
    return render(request, "meetings/admin_meeting.html", **view, signatures=signatures, rules=RULES,
                  form_labels=FORM_LABELS, method_labels=METHOD_LABELS, describe=describe, percent=percent,
                  form_of=form_from_json,
                  stage=Stage(view["case"]["stage"]), done=request.query_params.get("done"))


@get(f"{API}/{{meeting_id:uuid}}", guards=GUARDS,
     summary="A meeting: agenda, vote base, registration journal, ballots, quorum and results", tags=["meetings"])
async def meeting_api(request: Request[Any, Any, Any]) -> Any:
    view = await meeting_view(request)
    quorum = view["quorum"]
    return {
        "meeting": jsonable(view["meeting"]),
        "case": jsonable(view["case"]),
        "agenda": [{**jsonable(entry["item"]), "result": entry["result"], "cite": entry["rule"].cite}
                   for entry in view["items"]],
        "vote_base": jsonable(view["base"]),
        "journal": jsonable(view["journal"]),
        "ballots": jsonable(view["ballots"]),
        "quorum": None if quorum is None else {
            "present_weight": quorum.present_weight, "notified_weight": quorum.notified_weight,
            "total_weight": quorum.total_weight, "reached": quorum.reached, "share": str(quorum.share)},
        "protocol": jsonable(view["protocol"]),
    }


@get(f"{API}/{{meeting_id:uuid}}/events", guards=GUARDS, summary="The meeting's hash-chained event log, checked",
     tags=["meetings"])
async def events_api(request: Request[Any, Any, Any]) -> Any:
    meeting, _case = await service(request, MeetingService).managed(identity(request), path_id(request, "meeting_id"))
    db = platform_of(request).db
    events = await db.fetch("SELECT * FROM meetings_events WHERE meeting_id = $1 ORDER BY seq", meeting["id"])
    return {"events": jsonable(events), "problems": await chain.verify(db, meeting["id"])}


async def _add_item(request: Request[Any, Any, Any], fields: dict[str, Any], uploads: list[Any]) -> tuple[Any, str]:
    options = fields.get("options") or []
    if isinstance(options, str):
        options = [line for line in options.splitlines() if line.strip()]
    if not isinstance(options, list):
        raise Invalid(_("a list of options"), field="options")
    row = await service(request, MeetingService).add_item(
        identity(request), path_id(request, "meeting_id"), question=text_field(fields, "question"),
        decision=text_field(fields, "decision", "general"), form=text_field(fields, "form", "yes_no"),
        options=[str(o) for o in options], seats=_int_or_none(fields, "seats"),
        minimum=_int_or_none(fields, "min"), maximum=_int_or_none(fields, "max"),
        draft_resolution=text_field(fields, "draft_resolution"), document=uploads[0] if uploads else None)
    return jsonable(row), f"{ADMIN}/{row['meeting_id']}?done=item_added"


def _step(method: str) -> Any:
    async def step(request: Request[Any, Any, Any], fields: dict[str, Any], _u: list[Any]) -> tuple[Any, str]:
        meetings = service(request, MeetingService)
        meeting_id = path_id(request, "meeting_id")
        if method == "close":
            row = await close_and_report(platform_of(request), identity(request), meeting_id)
        elif method == "cancel":
            row = await meetings.cancel(identity(request), meeting_id, text_field(fields, "reason"))
        else:
            row = await getattr(meetings, method)(identity(request), meeting_id)
        return jsonable(row), f"{ADMIN}/{meeting_id}?done={method}"

    step.__name__ = f"_{method}"
    return step


async def _review(request: Request[Any, Any, Any], fields: dict[str, Any], _u: list[Any]) -> tuple[Any, str]:
    meeting_id = path_id(request, "meeting_id")
    if "admit" not in fields:
        raise Invalid(_("admit (true) or refuse (false)"), field="admit")
    row = await service(request, RegistrationService).review(
        identity(request), meeting_id, path_id(request, "participant_id"), admit=forms.flag(fields["admit"]),
        settlement_authority=forms.flag(fields.get("settlement_authority")), note=text_field(fields, "note"))
    return jsonable(row), f"{ADMIN}/{meeting_id}?done=reviewed"


async def _paper_ballot(request: Request[Any, Any, Any], fields: dict[str, Any], _u: list[Any]) -> tuple[Any, str]:
    from plugins.meetings.routes import choices_of

    meeting_id = path_id(request, "meeting_id")
    if fields.get("claim_id") in (None, ""):
        raise Invalid(_("this is required"), field="claim_id")
    rows = await service(request, VotingService).enter_paper(
        identity(request), meeting_id, forms.uuid_of(fields["claim_id"], "claim_id"), choices_of(fields),
        _moment(request, fields, "received_at"))
    return jsonable(rows), f"{ADMIN}/{meeting_id}?done=ballot_entered"


def _case_action(path: str, fn: Any, summary: str, status_code: int = 200) -> Any:
    return action(f"{ADMIN}/cases/{{case_id:str}}/{path}", f"{API}/cases/{{case_id:str}}/{path}", fn,
                  guards=GUARDS, summary=summary, status_code=status_code)


def _meeting_action(path: str, fn: Any, summary: str, status_code: int = 200) -> Any:
    return action(f"{ADMIN}/{{meeting_id:uuid}}/{path}", f"{API}/{{meeting_id:uuid}}/{path}", fn, guards=GUARDS,
                  summary=summary, status_code=status_code)


ADMIN_ROUTES = [
    cases_page, cases_api, case_page, case_api, meeting_page, meeting_api, events_api,
    action(f"{ADMIN}/cases", f"{API}/cases", _create_case, guards=GUARDS, summary="Open a bankruptcy case",
           status_code=201),
    _case_action("claims", _add_claim, "Add a line to the register of claims", 201),
    _case_action("meetings", _create_meeting, "Draft a meeting of creditors", 201),
    _meeting_action("items", _add_item, "Put a question on the agenda, with its decision type and ballot form", 201),
    _meeting_action("convene", _step("convene"), "Send the notice and freeze the register into the vote base"),
    _meeting_action("open", _step("open"), "Open the meeting for voting"),
    _meeting_action("close", _step("close"), "Close, count every item, make the protocol"),
    _meeting_action("cancel", _step("cancel"), "Cancel a meeting that has not started"),
    _meeting_action("participants/{participant_id:str}/review", _review,
                    "Admit or refuse a power of attorney or a video identification"),
    _meeting_action("paper-ballots", _paper_ballot, "Enter an absentee ballot that came by post", 201),
]
