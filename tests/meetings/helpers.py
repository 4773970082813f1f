"""A case with a register of claims and a convened meeting, driven over the JSON API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.users.testing import latest_code, make_user
from plugins.meetings.service import MeetingService

ORGANIZER = ("admin.access", "meetings.organize")
#: A Monday morning; the meeting is ten days later, voting closes two hours after it starts.
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
STARTS = NOW + dt.timedelta(days=10)
CLOSES = STARTS + dt.timedelta(hours=2)


def set_clock(platform: Any, moment: dt.datetime) -> None:
    platform.service(MeetingService).clock.set(moment)


async def organizer(platform: Any, client_as: Any) -> Any:
    """An arbitration manager: a real account (the results are sent to them too)."""
    user = await make_user(platform, display_name="Ivanov I. I., arbitration manager",
                           roles=("customer", "meeting_organizer"))
    http = await client_as(*ORGANIZER, user_id=user.id)
    http.user = user  # type: ignore[attr-defined]
    return http


async def creditor(platform: Any, client_as: Any, name: str) -> tuple[Any, Any]:
    user = await make_user(platform, display_name=name)
    http = await client_as(user_id=user.id)
    http.user = user  # type: ignore[attr-defined]
    return user, http


async def case_with_claims(admin: Any, claims: list[dict[str, Any]], *, stage: str = "observation",
                           number: str = "А40-1000/2026") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    r = await admin.post("/api/v1/admin/meetings/cases", json={
        "number": number, "debtor_name": "ООО «Ромашка»", "debtor_kind": "company", "stage": stage,
        "court": "Арбитражный суд г. Москвы", "debtor_itn": "7707083893"})
    assert r.status_code == 201, r.text
    case = r.json()
    rows = []
    for claim in claims:
        r = await admin.post(f"/api/v1/admin/meetings/cases/{case['id']}/claims", json=claim)
        assert r.status_code == 201, r.text
        rows.append(r.json())
    return case, rows


async def draft_meeting(admin: Any, case_id: str, items: list[dict[str, Any]], *, form: str = "in_person"
                        ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    r = await admin.post(f"/api/v1/admin/meetings/cases/{case_id}/meetings", json={
        "title": "First meeting of creditors", "form": form, "starts_at": STARTS.isoformat(),
        "closes_at": CLOSES.isoformat(), "notice_method": "electronic", "place": "https://kopilka.example/meetings"})
    assert r.status_code == 201, r.text
    meeting = r.json()
    added = []
    for item in items:
        r = await admin.post(f"/api/v1/admin/meetings/{meeting['id']}/items", json=item)
        assert r.status_code == 201, r.text
        added.append(r.json())
    return meeting, added


async def vote(platform: Any, http: Any, meeting_id: str, claim_id: str, choices: dict[str, Any]) -> Any:
    """Ask for the code, read it from the outbox, cast the same answers with it."""
    r = await http.post(f"/api/v1/meetings/{meeting_id}/ballots/code", json={"claim_id": claim_id,
                                                                             "choices": choices})
    assert r.status_code == 201, r.text
    code = await latest_code(platform, http.user.login)
    return await http.post(f"/api/v1/meetings/{meeting_id}/ballots", json={
        "claim_id": claim_id, "choices": choices, "challenge_id": r.json()["challenge_id"], "code": code})
