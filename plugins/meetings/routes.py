"""What creditors see and do: their meetings, registration, voting with a code, results, the protocol.

Pages under ``/meetings/``, the same actions as JSON under ``/api/v1/meetings/``. A non-draft
meeting is visible to any signed-in user who has its address (its notice is public); registering,
voting and signing need a line of its register (see ``registration.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.response import Redirect

from core.access import requires_login
from core.projects.errors import Invalid, NotFound
from core.web.i18n import gettext as _
from core.web.templating import render
from plugins.meetings.ballots import form_from_json
from plugins.meetings.common import fetch_case, fetch_meeting, manages
from plugins.meetings.protocol import ProtocolService
from plugins.meetings.registration import METHOD_LABELS, RegistrationService
from plugins.meetings.rules import STAGE_LABELS, Stage, rule
from plugins.meetings.service import MeetingService
from plugins.meetings.tally import percent
from plugins.meetings.voting import VotingService, describe
from plugins.meetings.web import action, identity, jsonable, path_id, platform_of, service, text_field

GUARDS = [requires_login]


# -- reading ---------------------------------------------------------------------------------------


async def visible_meeting(request: Request[Any, Any, Any]) -> tuple[Any, Any]:
    """The meeting and its case; drafts and cancelled ones only for those who run the case."""
    db = platform_of(request).db
    meeting_id = path_id(request, "meeting_id")
    meeting = await fetch_meeting(db, meeting_id)
    case = await fetch_case(db, meeting["case_id"])
    if meeting["status"] == "draft" and not manages(identity(request), case):
        raise NotFound(_("no meeting %(id)s", id=meeting_id))
    return meeting, case


def results_visible(meeting: Any) -> bool:
    """Open voting shows the running count; closed voting shows nothing until the meeting closes."""
    return meeting["status"] in ("closed", "not_held") or (
        meeting["status"] == "open" and meeting["ballot_visibility"] == "open")


async def meeting_view(request: Request[Any, Any, Any]) -> dict[str, Any]:
    meeting, case = await visible_meeting(request)
    meetings = service(request, MeetingService)
    registration = service(request, RegistrationService)
    user_id = identity(request).user_id
    items = await meetings.items(meeting["id"])
    view: dict[str, Any] = {
        "meeting": meeting, "case": case, "stage_label": STAGE_LABELS[Stage(case["stage"])],
        "items": [{"item": i, "rule": rule(i["decision"]), "form": form_from_json(i["form"])} for i in items],
        "claims": await registration.claims_of_user(meeting["id"], user_id),
        "participations": await registration.of_user(meeting["id"], user_id),
        "ballots": [], "quorum": None, "results": {},
    }
    for participation in view["participations"]:
        if participation["status"] == "admitted":
            view["ballots"] += await service(request, VotingService).ballots_of_claim(meeting["id"],
                                                                                     participation["claim_id"])
    if results_visible(meeting):
        view["quorum"], results = await meetings.count(meeting)
        if meeting["status"] in ("closed", "not_held"):  # what was recorded when it closed, not a recount
            view["results"] = {str(i["id"]): i["result"] for i in items}
        else:
            view["results"] = {str(item["id"]): result.as_json() for item, result in results}
    view["protocol"] = await service(request, ProtocolService).protocol(meeting["id"])
    return view


def view_json(view: Mapping[str, Any]) -> dict[str, Any]:
    quorum = view["quorum"]
    return {
        "meeting": jsonable(view["meeting"]),
        "case": jsonable({k: view["case"][k] for k in ("id", "number", "court", "debtor_name", "stage",
                                                       "organizer_name", "currency")}),
        "agenda": [{**jsonable(entry["item"]), "cite": entry["rule"].cite, "base": entry["rule"].base.value,
                    "result": view["results"].get(str(entry["item"]["id"]))} for entry in view["items"]],
        "claims": jsonable(view["claims"]),
        "participations": jsonable(view["participations"]),
        "ballots": jsonable(view["ballots"]),
        "quorum": None if quorum is None else {
            "present_weight": quorum.present_weight, "notified_weight": quorum.notified_weight,
            "total_weight": quorum.total_weight, "reached": quorum.reached, "share": str(quorum.share)},
        "protocol": jsonable(view["protocol"]),
    }


@get("/meetings", guards=GUARDS, include_in_schema=False, name="meetings-list")
async def meetings_page(request: Request[Any, Any, Any]) -> Any:
    rows = await service(request, RegistrationService).meetings_of_user(identity(request).user_id)
    return render(request, "meetings/list.html", meetings=rows, done=request.query_params.get("done"))


@get("/api/v1/meetings", guards=GUARDS, summary="Meetings I am called to or registered for", tags=["meetings"])
async def meetings_api(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return jsonable(await service(request, RegistrationService).meetings_of_user(identity(request).user_id))


@get("/meetings/{meeting_id:str}", guards=GUARDS, include_in_schema=False, name="meetings-meeting")
async def meeting_page(request: Request[Any, Any, Any]) -> Any:
    view = await meeting_view(request)
    return render(request, "meetings/meeting.html", **view, describe=describe, percent=percent,
                  method_labels=METHOD_LABELS, done=request.query_params.get("done"))


@get("/api/v1/meetings/{meeting_id:str}", guards=GUARDS, summary="A meeting: agenda, my claims, my ballots, results",
     tags=["meetings"])
async def meeting_api(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return view_json(await meeting_view(request))


@get("/meetings/{meeting_id:str}/protocol.pdf", guards=GUARDS, include_in_schema=False, name="meetings-protocol")
async def protocol_pdf(request: Request[Any, Any, Any]) -> Response[bytes]:
    meeting, _case = await visible_meeting(request)
    _protocol, data = await service(request, ProtocolService).pdf(meeting["id"])
    return Response(data, media_type="application/pdf",
                    headers={"content-disposition": f'inline; filename="protocol-{meeting["id"]}.pdf"'})


@get("/meetings/{meeting_id:str}/room", guards=GUARDS, include_in_schema=False, name="meetings-room")
async def room_page(request: Request[Any, Any, Any]) -> Any:
    meeting, case = await visible_meeting(request)
    page = render(request, "meetings/room.html", meeting=meeting, case=case,
                  ice_servers=json.dumps(platform_of(request).settings("meetings").ice_servers))
    # The site forbids the camera and microphone everywhere (core.users); this page is where they are used.
    page.headers["permissions-policy"] = "camera=(self), microphone=(self), geolocation=()"
    return page


# -- registration ----------------------------------------------------------------------------------


def page_of(request: Request[Any, Any, Any], message: str = "") -> str:
    path = f"/meetings/{request.path_params['meeting_id']}"
    return f"{path}?done={message}" if message else path


async def _register(request: Request[Any, Any, Any], fields: dict[str, Any], _uploads: list[Any]) -> tuple[Any, str]:
    """``method`` "identity" (the claim is linked to this account, or its INN matches the profile), or
    "code" with ``challenge_id`` and ``code`` from ``registrations/code``."""
    registration = service(request, RegistrationService)
    meeting_id = path_id(request, "meeting_id")
    claim_id = _claim(fields)
    method = text_field(fields, "method", "identity")
    if method == "identity":
        row = await registration.register_identity(identity(request), meeting_id, claim_id)
    elif method == "code":
        row = await registration.register_with_code(identity(request), meeting_id, claim_id,
                                                    _uuid(fields, "challenge_id"), text_field(fields, "code"))
    else:
        raise Invalid(_("identity or code (a power of attorney goes to registrations/request)"), field="method")
    return jsonable(row), page_of(request, "registered")


async def _registration_code(request: Request[Any, Any, Any], fields: dict[str, Any], _uploads: list[Any]
                             ) -> tuple[Any, str]:
    challenge = await service(request, RegistrationService).send_code(identity(request),
                                                                      path_id(request, "meeting_id"), _claim(fields))
    body = {"challenge_id": str(challenge.id), "sent_to": challenge.sent_to,
            "expires_at": challenge.expires_at.isoformat()}
    return body, page_of(request) + "?" + urlencode({"challenge": str(challenge.id), "claim": str(fields["claim_id"])})


async def _registration_request(request: Request[Any, Any, Any], fields: dict[str, Any], uploads: list[Any]
                                ) -> tuple[Any, str]:
    """A power of attorney (``document``, multipart) or a video identification, for the organizer to review."""
    from core.projects import forms

    row = await service(request, RegistrationService).request(
        identity(request), path_id(request, "meeting_id"), _claim(fields), text_field(fields, "method"),
        document=uploads[0] if uploads else None, settlement_authority=forms.flag(fields.get("settlement_authority")))
    return jsonable(row), page_of(request, "requested")


# -- voting ----------------------------------------------------------------------------------------


def choices_of(fields: Mapping[str, Any]) -> Any:
    """The answers of a ballot: ``choices`` as JSON ({item id: answer}), or a page's fields
    ``vote.<item>`` (for / against / abstain / option:N), ``alloc.<item>.<n>`` and ``opinion.<item>``."""
    if "choices" in fields:
        raw = fields["choices"]
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise Invalid(_("the answers are not valid JSON"), field="choices") from None
        return raw
    choices: dict[str, dict[str, Any]] = {}
    for key, value in fields.items():
        kind, _dot, rest = key.partition(".")
        if kind == "vote" and value:
            if str(value).startswith("option:"):
                choices.setdefault(rest, {})["option"] = str(value)[7:]
            else:
                choices.setdefault(rest, {})["vote"] = value
        elif kind == "alloc" and str(value).strip() not in ("", "0"):
            item, _dot, index = rest.partition(".")
            choices.setdefault(item, {}).setdefault("allocation", {})[index] = str(value).strip()
        elif kind == "opinion" and str(value).strip():
            choices.setdefault(rest, {})["opinion"] = value
    return choices


async def _ballot_code(request: Request[Any, Any, Any], fields: dict[str, Any], _uploads: list[Any]
                       ) -> tuple[Any, str]:
    """Check the answers and send a code that confirms exactly them."""
    challenge, prepared = await service(request, VotingService).request_code(
        identity(request), path_id(request, "meeting_id"), _claim(fields), choices_of(fields))
    body = {"challenge_id": str(challenge.id), "sent_to": challenge.sent_to,
            "expires_at": challenge.expires_at.isoformat(), "ballots": prepared.payload["ballots"]}
    answers = json.dumps({item: answer["choice"] | ({"opinion": answer["opinion"]} if answer["opinion"] else {})
                          for item, answer in prepared.payload["ballots"].items()})
    return body, page_of(request) + "?" + urlencode({"ballot_challenge": str(challenge.id),
                                                     "claim": str(prepared.claim_id), "choices": answers})


async def _cast(request: Request[Any, Any, Any], fields: dict[str, Any], _uploads: list[Any]) -> tuple[Any, str]:
    """The same answers again with the code: recorded, one ballot per item, never changed."""
    rows = await service(request, VotingService).cast(
        identity(request), path_id(request, "meeting_id"), _claim(fields), choices_of(fields),
        _uuid(fields, "challenge_id"), text_field(fields, "code"))
    return jsonable(rows), page_of(request, "voted")


# -- signing the protocol --------------------------------------------------------------------------


async def _signature_code(request: Request[Any, Any, Any], _fields: dict[str, Any], _uploads: list[Any]
                          ) -> tuple[Any, str]:
    challenge = await service(request, ProtocolService).start_signing(identity(request),
                                                                      path_id(request, "meeting_id"))
    return ({"challenge_id": challenge.challenge_id, "details": dict(challenge.details)},
            page_of(request) + f"?sign_challenge={challenge.challenge_id}")


async def _sign(request: Request[Any, Any, Any], fields: dict[str, Any], _uploads: list[Any]) -> tuple[Any, str]:
    row = await service(request, ProtocolService).finish_signing(
        identity(request), path_id(request, "meeting_id"), text_field(fields, "challenge_id"),
        text_field(fields, "code"))
    return jsonable(row), page_of(request, "signed")


def _claim(fields: Mapping[str, Any]) -> Any:
    return _uuid(fields, "claim_id")


def _uuid(fields: Mapping[str, Any], name: str) -> Any:
    from core.projects import forms

    if fields.get(name) in (None, ""):
        raise Invalid(_("this is required"), field=name)
    return forms.uuid_of(fields[name], name)


def _both(path: str, fn: Any, summary: str, status_code: int = 200) -> Any:
    return action(f"/meetings/{{meeting_id:str}}/{path}", f"/api/v1/meetings/{{meeting_id:str}}/{path}", fn,
                  guards=GUARDS, summary=summary, status_code=status_code)


@get("/meetings/{meeting_id:str}/vote", guards=GUARDS, include_in_schema=False, name="meetings-vote-redirect")
async def vote_redirect(request: Request[Any, Any, Any]) -> Redirect:
    return Redirect(page_of(request), status_code=303)


ROUTES = [
    meetings_page, meetings_api, meeting_page, meeting_api, protocol_pdf, room_page, vote_redirect,
    _both("registrations", _register, "Register for a creditor: own account, or a code sent to the claim's contact",
          201),
    _both("registrations/code", _registration_code, "Send a registration code to the contact in the claim", 201),
    _both("registrations/request", _registration_request,
          "Ask to be admitted with a power of attorney or by video identification", 201),
    _both("ballots/code", _ballot_code, "Send a code that confirms exactly these answers", 201),
    _both("ballots", _cast, "Cast the ballot: the same answers and the code", 201),
    _both("protocol/signature-code", _signature_code, "Send a code to sign the protocol", 201),
    _both("protocol/signatures", _sign, "Sign the protocol with the code", 201),
]
