"""Voting: every ballot confirmed by a one-time code bound to exactly the choices it carries.

A participant sends the answers for one or more items (one item in the room, the whole absentee
bulletin at once) and gets a code; the code's payload is the meeting, the creditor, the user and the
canonical answers, so it confirms nothing else: another choice, another creditor, a second use, all
fail. Ballots are append-only rows, each also an event of the meeting's hash chain. A creditor
has one counted ballot per item; there is no changing it (as with a paper ballot handed in).

Who may vote on an item: the creditor's admitted participant, while the meeting is open and before
its closing time, if the creditor has votes at this stage, or (settlement, asset substitution) is a
secured creditor whose "for" the decision needs. A representative votes on a settlement agreement
only with a power of attorney that says so (art. 150 p.2).

The organizer enters paper ballots (absentee ballots sent by post): they may be invalid (both boxes
ticked) and, when received after the deadline, are kept but not counted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from asyncpg import UniqueViolationError
from litestar.exceptions import PermissionDeniedException

from core.access import Identity
from core.access.audit import AuditLog
from core.access.confirmations import Challenge, Confirmations
from core.projects.errors import Conflict, Invalid, NotFound
from core.web.i18n import gettext as _
from plugins.meetings import chain
from plugins.meetings.ballots import INVALID, Answer, BallotError, ItemForm, Shape, form_from_json, normalise
from plugins.meetings.common import Clock, actor_of, as_uuid, fetch_meeting, managed_meeting
from plugins.meetings.registration import RegistrationService
from plugins.meetings.rules import rule

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.meetings.settings import MeetingsSettings

BALLOT_PURPOSE = "meetings.ballot"
MAX_ITEMS_PER_BALLOT = 50


@dataclass(frozen=True)
class Prepared:
    meeting: Any
    claim_id: UUID
    participant: Any
    answers: list[tuple[Any, Answer]]
    payload: dict[str, Any]


def describe(form: ItemForm, choice: Mapping[str, Any]) -> str:
    """A choice in words, for the code message and the pages."""
    if choice.get("invalid"):
        return _("invalid ballot")
    vote = choice.get("vote")
    if vote == "for":
        return _("for")
    if vote == "abstain":
        return _("abstain")
    if vote == "against":
        return _("against") if form.shape is Shape.BINARY else _("against every option")
    if "option" in choice:
        return form.options[int(choice["option"])]
    parts = [f"{form.options[int(i)]}: {v}" for i, v in choice.get("allocation", {}).items()]
    return "; ".join(parts)


class VotingService:
    def __init__(self, platform: Platform, settings: MeetingsSettings, clock: Clock) -> None:
        self.platform = platform
        self.settings = settings
        self.clock = clock

    @property
    def db(self) -> Any:
        return self.platform.db

    @property
    def registration(self) -> RegistrationService:
        return self.platform.service(RegistrationService)

    def _check_open(self, meeting: Any) -> None:
        if meeting["status"] != "open":
            raise Conflict(_("voting is not open: the meeting is %(status)s", status=_(meeting["status"])))
        if self.clock.now() >= meeting["closes_at"]:
            raise Conflict(_("voting closed at %(time)s", time=meeting["closes_at"].isoformat(timespec="minutes")))

    async def _answers(self, meeting: Any, claim_id: UUID, raw: Any, base: Any, participant: Any | None, *,
                       paper: bool = False) -> list[tuple[Any, Answer]]:
        if not isinstance(raw, Mapping) or not raw:
            raise Invalid(_("give an answer for at least one question"), field="choices")
        if len(raw) > MAX_ITEMS_PER_BALLOT:
            raise Invalid(_("too many questions on one ballot"), field="choices")
        items = {str(i["id"]): i for i in await self.db.fetch(
            "SELECT * FROM meetings_items WHERE meeting_id = $1", meeting["id"])}
        voted = {r["item_id"] for r in await self.db.fetch(
            "SELECT item_id FROM meetings_ballots WHERE meeting_id = $1 AND claim_id = $2 AND NOT late",
            meeting["id"], claim_id)}
        secured = base["secured_minor"] > 0 and not base["pledge_waived"]
        answers = []
        for key, value in raw.items():
            where = f"choices.{key}"
            item = items.get(str(key))
            if item is None:
                raise Invalid(_("no such question in this meeting"), field=where)
            the_rule = rule(item["decision"])
            if base["weight_minor"] <= 0 and not (the_rule.secured_unanimity and secured):
                raise Conflict(_("question %(n)s: this creditor has no votes on it at this stage", n=item["position"]))
            if item["id"] in voted:
                raise Conflict(_("question %(n)s: this creditor has already voted", n=item["position"]))
            if (the_rule.special_authority and participant is not None and not participant["settlement_authority"]):
                raise PermissionDeniedException(_(
                    "question %(n)s: a representative votes on a settlement agreement only with a power of attorney "
                    "that says so (127-FZ art. 150 p.2)", n=item["position"]))
            form = form_from_json(item["form"])
            if paper and isinstance(value, Mapping) and value.get("invalid"):
                answers.append((item, Answer(dict(INVALID))))
                continue
            try:
                answer = normalise(form, value, votes_available=base["weight_minor"] * max(form.seats, 1),
                                   where=where)
            except BallotError as exc:
                raise Invalid(str(exc), field=exc.field) from None
            answers.append((item, answer))
        return sorted(answers, key=lambda pair: pair[0]["position"])

    async def prepare(self, identity: Identity, meeting_id: UUID, claim_id: UUID, raw: Any) -> Prepared:
        meeting = await fetch_meeting(self.db, meeting_id)
        participant = await self.registration.admitted(meeting_id, identity.user_id, claim_id)
        self._check_open(meeting)
        answers = await self._answers(meeting, claim_id, raw, participant, participant)
        payload = {"meeting": str(meeting_id), "claim": str(claim_id), "user": str(identity.user_id),
                   "ballots": {str(item["id"]): answer.as_payload() for item, answer in answers}}
        return Prepared(meeting, claim_id, participant, answers, payload)

    async def request_code(self, identity: Identity, meeting_id: UUID, claim_id: UUID, raw: Any
                           ) -> tuple[Challenge, Prepared]:
        prepared = await self.prepare(identity, meeting_id, claim_id, raw)
        creditor = await self.db.fetchval("SELECT creditor_name FROM meetings_claims WHERE id = $1", claim_id)
        lines = "; ".join(f"{item['position']}: {describe(form_from_json(item['form']), a.choice)}"
                          for item, a in prepared.answers)
        challenge = await self.platform.service(Confirmations).issue(
            purpose=BALLOT_PURPOSE, payload=prepared.payload, user_id=identity.user_id,
            summary=_("Ballot of %(creditor)s: %(lines)s", creditor=creditor, lines=lines[:300]))
        return challenge, prepared

    async def cast(self, identity: Identity, meeting_id: UUID, claim_id: UUID, raw: Any, challenge_id: Any,
                   code: str) -> list[Any]:
        """Check the code against exactly these answers, then record them (one code: one bulletin)."""
        prepared = await self.prepare(identity, meeting_id, claim_id, raw)
        await self.platform.service(Confirmations).verify(
            as_uuid(challenge_id, "challenge_id"), str(code or ""), purpose=BALLOT_PURPOSE,
            payload=prepared.payload, user_id=identity.user_id)
        return await self._record(identity, prepared.meeting, claim_id, prepared.participant, prepared.answers,
                                  source="online", confirmation_id=as_uuid(challenge_id, "challenge_id"))

    async def enter_paper(self, identity: Identity, meeting_id: UUID, claim_id: UUID, raw: Any,
                          received_at: dt.datetime) -> list[Any]:
        """A ballot that came by post, typed in by the organizer; late ones are kept, never counted."""
        meeting, _case = await managed_meeting(self.db, identity, meeting_id)
        if meeting["status"] != "open":
            raise Conflict(_("paper ballots are entered while the meeting is open"))
        base = await self.db.fetchrow("SELECT * FROM meetings_vote_base WHERE meeting_id = $1 AND claim_id = $2",
                                      meeting_id, claim_id)
        if base is None:
            raise NotFound(_("no creditor %(id)s in this meeting's register", id=claim_id))
        if received_at.tzinfo is None:
            raise Invalid(_("give the time with its time zone"), field="received_at")
        late = received_at > meeting["closes_at"]
        answers = await self._answers(meeting, claim_id, raw, base, None, paper=True)
        return await self._record(identity, meeting, claim_id, None, answers, source="paper", received_at=received_at,
                                  late=late, weight_base=base)

    async def _record(self, identity: Identity, meeting: Any, claim_id: UUID, participant: Any | None,
                      answers: list[tuple[Any, Answer]], *, source: str, confirmation_id: UUID | None = None,
                      received_at: dt.datetime | None = None, late: bool = False, weight_base: Any = None) -> list[Any]:
        weight = (participant or weight_base)["weight_minor"]
        rows = []
        try:
            async with self.db.transaction():
                locked = await fetch_meeting(self.db, meeting["id"], lock=True)
                if source == "online":
                    self._check_open(locked)
                elif locked["status"] != "open":
                    raise Conflict(_("paper ballots are entered while the meeting is open"))
                received = received_at or self.clock.now()
                for item, answer in answers:
                    ballot_id = uuid.uuid4()
                    seq = await chain.append(self.db, meeting["id"], "ballot", {
                        "ballot": str(ballot_id), "item": str(item["id"]), "position": item["position"],
                        "claim": str(claim_id), "weight_minor": weight, "choice": answer.choice,
                        "opinion": answer.opinion, "source": source, "late": late,
                        "confirmation": str(confirmation_id) if confirmation_id else None,
                        "received_at": received.isoformat()}, actor_of(identity))
                    rows.append(await self.db.fetchrow(
                        """INSERT INTO meetings_ballots (id, meeting_id, item_id, claim_id, participant_id, cast_by,
                               choice, opinion, weight_minor, confirmation_id, source, received_at, late, event_seq)
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *""",
                        ballot_id, meeting["id"], item["id"], claim_id, participant["id"] if participant else None,
                        identity.user_id, answer.choice, answer.opinion, weight, confirmation_id, source, received,
                        late, seq))
                await self.platform.service(AuditLog).record(
                    action="meetings.ballot_cast", target=f"meeting:{meeting['id']}", actor=identity,
                    details={"claim": str(claim_id), "items": len(rows), "source": source, "late": late})
        except UniqueViolationError:
            raise Conflict(_("this creditor has already voted on one of these questions")) from None
        return rows

    # -- reading ---------------------------------------------------------------------------------------

    async def ballots_of_claim(self, meeting_id: UUID, claim_id: UUID) -> list[Any]:
        return await self.db.fetch(
            """SELECT b.*, i.position, i.form FROM meetings_ballots b JOIN meetings_items i ON i.id = b.item_id
               WHERE b.meeting_id = $1 AND b.claim_id = $2 ORDER BY i.position""", meeting_id, claim_id)

    async def ballots(self, meeting_id: UUID) -> list[Any]:
        return await self.db.fetch(
            """SELECT b.*, i.position, i.form, c.creditor_name FROM meetings_ballots b
               JOIN meetings_items i ON i.id = b.item_id JOIN meetings_claims c ON c.id = b.claim_id
               WHERE b.meeting_id = $1 ORDER BY i.position, b.created_at""", meeting_id)
