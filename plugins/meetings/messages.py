"""Telling people about meetings: the notice, review of their registration, results, signing.

Messages go through :class:`core.notifications.service.NotificationService` (in-app and the user's
first address), inside the caller's transaction: nothing is sent unless the step commits. Creditors
the platform cannot reach (no account linked to their claim) are told by post, as the law has it;
the notice's event in the chain records how many were reached here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from core.notifications.service import NotificationService


def local_time(platform: Any, moment: Any) -> str:
    """A moment as people of the deployment read it, in any language: ``2026-12-01 10:00 (Europe/Moscow)``."""
    zone = platform.core.platform.timezone
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})"


def _params(platform: Any, meeting: Any, case: Any) -> dict[str, Any]:
    return {"meeting_id": str(meeting["id"]), "title": meeting["title"], "case_number": case["number"],
            "debtor": case["debtor_name"], "starts": local_time(platform, meeting["starts_at"]),
            "closes": local_time(platform, meeting["closes_at"]), "form": meeting["form"], "place": meeting["place"]}


async def _send(platform: Any, users: Iterable[UUID], kind: str, params: Mapping[str, Any]) -> int:
    service = platform.service(NotificationService)
    sent = 0
    for user_id in dict.fromkeys(u for u in users if u is not None):
        await service.notify(user_id, kind, dict(params))
        sent += 1
    return sent


async def convened(platform: Any, meeting: Any, case: Any, claims: list[Any]) -> int:
    return await _send(platform, (c["user_id"] for c in claims), "meetings.convened", _params(platform, meeting, case))


async def participants_and_base(platform: Any, meeting_id: UUID) -> list[UUID]:
    rows = await platform.db.fetch(
        """SELECT user_id FROM meetings_participants WHERE meeting_id = $1 AND status = 'admitted'
           UNION SELECT c.user_id FROM meetings_vote_base b JOIN meetings_claims c ON c.id = b.claim_id
           WHERE b.meeting_id = $1 AND c.user_id IS NOT NULL""", meeting_id)
    return [r["user_id"] for r in rows]


async def to_base(platform: Any, meeting: Any, case: Any, kind: str, extra: Mapping[str, Any] | None = None) -> int:
    users = await participants_and_base(platform, meeting["id"])
    return await _send(platform, users, kind, {**_params(platform, meeting, case), **(extra or {})})


async def results(platform: Any, meeting: Any, case: Any) -> int:
    users = [*await participants_and_base(platform, meeting["id"]), case["organizer_id"]]
    return await _send(platform, users, "meetings.results", {**_params(platform, meeting, case), "status": meeting["status"]})


async def registration_reviewed(platform: Any, meeting: Any, case: Any, user_id: UUID, admitted: bool,
                                note: str) -> None:
    await _send(platform, [user_id], "meetings.admitted" if admitted else "meetings.refused",
                {**_params(platform, meeting, case), "note": note})


async def registration_waiting(platform: Any, meeting: Any, case: Any, creditor: str) -> None:
    await _send(platform, [case["organizer_id"]], "meetings.registration_waiting",
                {**_params(platform, meeting, case), "creditor": creditor})
