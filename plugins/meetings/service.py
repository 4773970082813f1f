"""A meeting's life: draft, agenda, notice (convening), open, close and count.

* **draft**: the organizer sets the form (in person with remote participation, or absentee), the
  dates, how creditors are told, and the agenda, each item with its decision type and ballot form;
* **convened**: the notice went out in time (``notice.py``) and the register was frozen into the vote
  base; creditors register (``registration.py``);
* **open**: voting (``voting.py``) until the organizer closes an in-person meeting or the absentee
  deadline passes;
* **closed** (or **not_held** without a quorum): every item counted (``tally.py``), the protocol made
  and sent for signing (``protocol.py``).

Every step is an event in the meeting's hash chain (``chain.py``) and an entry of the audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import TYPE_CHECKING, Any
from uuid import UUID

from core.access import Identity
from core.access.audit import AuditLog
from core.access.confirmations import canonical
from core.access.inputs import plain_text
from core.files import FileError, Files
from core.projects.errors import Conflict, Invalid, NotFound
from core.web.i18n import gettext as _
from plugins.meetings import chain, messages
from plugins.meetings.ballots import BallotError, build_form, form_from_json
from plugins.meetings.common import Clock, actor_of, fetch_case, fetch_meeting, managed_case, managed_meeting
from plugins.meetings.notice import EFRSB_MIN_CREDITORS, METHODS, latest_notice_date
from plugins.meetings.rules import RULES, Claim, Stage, rule, weights
from plugins.meetings.tally import ItemResult, Quorum, Voter, quorum, tally

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.meetings.settings import MeetingsSettings

FORMS = ("in_person", "absentee")
VISIBILITY = ("open", "closed")
CONVENERS = ("manager", "committee", "creditors")
#: Statuses in which the register is frozen and people may register.
REGISTERING = ("convened", "open")


def base_digest(rows: list[Any]) -> str:
    """SHA-256 of the vote base, in claim order: printed in the protocol."""
    lines = [
        {k: (str(v) if isinstance(v, UUID) else v) for k, v in dict(r).items() if k != "meeting_id"}
        for r in sorted(rows, key=lambda r: str(r["claim_id"]))
    ]
    return hashlib.sha256(canonical({"base": lines}).encode()).hexdigest()


class MeetingService:
    def __init__(self, platform: Platform, settings: MeetingsSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.clock = Clock()

    @property
    def db(self) -> Any:
        return self.platform.db

    @property
    def audit(self) -> AuditLog:
        return self.platform.service(AuditLog)

    # -- reading ---------------------------------------------------------------------------------

    async def meeting(self, meeting_id: UUID) -> Any:
        return await fetch_meeting(self.db, meeting_id)

    async def managed(self, identity: Identity, meeting_id: UUID) -> tuple[Any, Any]:
        return await managed_meeting(self.db, identity, meeting_id)

    async def meetings_of_case(self, case_id: UUID) -> list[Any]:
        return await self.db.fetch("SELECT * FROM meetings_meetings WHERE case_id = $1 ORDER BY starts_at DESC",
                                   case_id)

    async def items(self, meeting_id: UUID) -> list[Any]:
        return await self.db.fetch("SELECT * FROM meetings_items WHERE meeting_id = $1 ORDER BY position",
                                   meeting_id)

    async def item(self, meeting_id: UUID, item_id: UUID) -> Any:
        row = await self.db.fetchrow("SELECT * FROM meetings_items WHERE id = $1 AND meeting_id = $2", item_id,
                                     meeting_id)
        if row is None:
            raise NotFound(_("no agenda item %(id)s in this meeting", id=item_id))
        return row

    async def vote_base(self, meeting_id: UUID) -> list[Any]:
        return await self.db.fetch(
            "SELECT * FROM meetings_vote_base WHERE meeting_id = $1 ORDER BY weight_minor DESC, creditor_name",
            meeting_id)

    async def voters(self, meeting_id: UUID) -> dict[str, Voter]:
        return {str(r["claim_id"]): Voter(r["weight_minor"], r["secured_minor"] > 0 and not r["pledge_waived"],
                                          r["notified"])
                for r in await self.vote_base(meeting_id)}

    async def present(self, meeting: Any) -> set[str]:
        """Who attends: registered participants in person; in absentee form, whose ballots came in time."""
        if meeting["form"] == "absentee":
            rows = await self.db.fetch(
                "SELECT DISTINCT claim_id FROM meetings_ballots WHERE meeting_id = $1 AND NOT late", meeting["id"])
        else:
            rows = await self.db.fetch(
                "SELECT claim_id FROM meetings_participants WHERE meeting_id = $1 AND status = 'admitted'",
                meeting["id"])
        return {str(r["claim_id"]) for r in rows}

    async def ballots_of_item(self, item_id: UUID) -> dict[str, dict[str, Any]]:
        rows = await self.db.fetch("SELECT claim_id, choice FROM meetings_ballots WHERE item_id = $1 AND NOT late",
                                   item_id)
        return {str(r["claim_id"]): r["choice"] for r in rows}

    async def count(self, meeting: Any) -> tuple[Quorum, list[tuple[Any, ItemResult]]]:
        """The quorum and every item's result as of now (the same function closes the meeting)."""
        voters = await self.voters(meeting["id"])
        present = await self.present(meeting)
        reached = quorum(voters, present)
        results = []
        for item in await self.items(meeting["id"]):
            result = tally(rule(item["decision"]), form_from_json(item["form"]), voters, present,
                           await self.ballots_of_item(item["id"]), quorum_reached=reached.reached)
            results.append((item, result))
        return reached, results

    # -- the draft -------------------------------------------------------------------------------

    async def create(self, identity: Identity, case_id: UUID, *, title: str, form: str, starts_at: dt.datetime,
                     closes_at: dt.datetime, notice_method: str, place: str = "", ballot_visibility: str = "open",
                     grounds: str = "", materials: str = "", convened_by: str = "manager") -> Any:
        case = await managed_case(self.db, identity, case_id)
        title = plain_text(title, 300)
        if not title:
            raise Invalid(_("give the meeting a title"), field="title")
        if form not in FORMS:
            raise Invalid(_("in person or absentee"), field="form")
        if notice_method not in METHODS:
            raise Invalid(_("by post, electronically or by publication in EFRSB"), field="notice_method")
        if ballot_visibility not in VISIBILITY:
            raise Invalid(_("open or closed"), field="ballot_visibility")
        if convened_by not in CONVENERS:
            raise Invalid(_("the manager, the committee or the creditors"), field="convened_by")
        if starts_at.tzinfo is None or closes_at.tzinfo is None:
            raise Invalid(_("give the time with its time zone"), field="starts_at")
        if closes_at < starts_at:
            raise Invalid(_("voting cannot close before the meeting starts"), field="closes_at")
        if closes_at - starts_at > dt.timedelta(days=60):
            raise Invalid(_("voting may stay open at most 60 days"), field="closes_at")
        async with self.db.transaction():
            row = await self.db.fetchrow(
                """INSERT INTO meetings_meetings (id, case_id, title, form, convened_by, grounds, starts_at, closes_at,
                       place, materials, notice_method, ballot_visibility, created_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *""",
                uuid.uuid4(), case["id"], title, form, convened_by, plain_text(grounds, 2000, one_line=False),
                starts_at, closes_at, plain_text(place, 500), plain_text(materials, 2000, one_line=False),
                notice_method, ballot_visibility, identity.user_id)
            await chain.append(self.db, row["id"], "created", {"title": title, "form": form,
                                                               "starts_at": starts_at.isoformat(),
                                                               "closes_at": closes_at.isoformat()},
                               actor_of(identity))
            await self.audit.record(action="meetings.meeting_created", target=f"meeting:{row['id']}",
                                    actor=identity, details={"case": str(case["id"])})
        return await self.meeting(row["id"])

    async def add_item(self, identity: Identity, meeting_id: UUID, *, question: str, decision: str,
                       form: str = "yes_no", options: list[str] | tuple[str, ...] = (), seats: int | None = None,
                       minimum: int | None = None, maximum: int | None = None, draft_resolution: str = "",
                       document: Any = None) -> Any:
        meeting, case = await self.managed(identity, meeting_id)
        if meeting["status"] != "draft":
            raise Conflict(_("the agenda is fixed once the meeting is convened"))
        question = plain_text(question, 2000, one_line=False)
        if not question:
            raise Invalid(_("write the question"), field="question")
        if decision not in RULES:
            raise Invalid(_("not a decision type"), field="decision")
        the_rule = rule(decision)
        if the_rule.stages is not None and Stage(case["stage"]) not in the_rule.stages:
            raise Invalid(_("this question cannot be decided at the case's current stage"), field="decision")
        stored = None
        if document is not None:
            try:
                stored = await self.platform.service(Files).put(document.data, document.filename,
                                                                folder="meetings-documents")
            except FileError as exc:
                raise Invalid(str(exc), field="document") from None
        try:
            item_form = build_form(the_rule, form, options=options, seats=seats, minimum=minimum, maximum=maximum,
                                   document_sha256=stored.sha256 if stored else "")
        except BallotError as exc:
            raise Invalid(str(exc), field=exc.field) from None
        async with self.db.transaction():
            await fetch_meeting(self.db, meeting_id, lock=True)
            position = await self.db.fetchval(
                "SELECT coalesce(max(position), 0) + 1 FROM meetings_items WHERE meeting_id = $1", meeting_id)
            row = await self.db.fetchrow(
                """INSERT INTO meetings_items (id, meeting_id, position, question, decision, form, draft_resolution,
                       document_key, document_name)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *""",
                uuid.uuid4(), meeting_id, position, question, decision, item_form.as_json(),
                plain_text(draft_resolution, 4000, one_line=False), stored.key if stored else None,
                stored.filename if stored else None)
        return row

    async def remove_item(self, identity: Identity, meeting_id: UUID, item_id: UUID) -> None:
        meeting, _case = await self.managed(identity, meeting_id)
        if meeting["status"] != "draft":
            raise Conflict(_("the agenda is fixed once the meeting is convened"))
        await self.item(meeting_id, item_id)
        async with self.db.transaction():
            await self.db.execute("DELETE FROM meetings_items WHERE id = $1", item_id)
            await self.db.execute(
                """UPDATE meetings_items i SET position = n.rn
                   FROM (SELECT id, row_number() OVER (ORDER BY position) AS rn FROM meetings_items
                         WHERE meeting_id = $1) n
                   WHERE i.id = n.id AND i.position <> n.rn""", meeting_id)

    # -- convening ---------------------------------------------------------------------------------

    async def convene(self, identity: Identity, meeting_id: UUID) -> Any:
        """Send the notice and freeze the register: refused when the notice would come too late."""
        meeting, case = await self.managed(identity, meeting_id)
        if meeting["status"] != "draft":
            raise Conflict(_("the meeting is already %(status)s", status=_(meeting["status"])))
        items = await self.items(meeting_id)
        if not items:
            raise Conflict(_("put at least one question on the agenda first"))
        now = self.clock.now()
        claims = await self.db.fetch("SELECT * FROM meetings_claims WHERE case_id = $1", case["id"])
        if not claims:
            raise Conflict(_("the register of claims is empty"))
        if meeting["notice_method"] == "efrsb" and len(claims) < EFRSB_MIN_CREDITORS:
            raise Conflict(_("publication counts as notice only with more than 500 creditors (art. 13 p.2)"))
        meeting_day = meeting["starts_at"].astimezone(dt.UTC).date()
        latest = latest_notice_date(meeting_day, meeting["notice_method"], self.settings.holidays)
        if now.astimezone(dt.UTC).date() > latest:
            raise Conflict(_("too late to give notice for %(day)s: by this method it had to go out by %(latest)s "
                             "(127-FZ art. 13); move the meeting", day=meeting_day.isoformat(),
                             latest=latest.isoformat()))
        stage = Stage(case["stage"])
        claim_weights = weights([Claim(str(c["id"]), c["principal_minor"], c["penalty_minor"], c["secured_minor"],
                                       c["pledge_waived"], c["late"]) for c in claims], stage)
        async with self.db.transaction() as conn:
            locked = await fetch_meeting(self.db, meeting_id, lock=True)
            if locked["status"] != "draft":
                raise Conflict(_("the meeting is already %(status)s", status=_(locked["status"])))
            await conn.executemany(
                """INSERT INTO meetings_vote_base (meeting_id, claim_id, creditor_name, principal_minor, penalty_minor,
                       secured_minor, pledge_waived, late, notified, weight_minor)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, $9)""",
                [(meeting_id, c["id"], c["creditor_name"], c["principal_minor"], c["penalty_minor"],
                  c["secured_minor"], c["pledge_waived"], c["late"], claim_weights[str(c["id"])]) for c in claims])
            digest = base_digest(await self.vote_base(meeting_id))
            await self.db.execute(
                "UPDATE meetings_meetings SET status = 'convened', convened_at = $2, base_sha256 = $3 WHERE id = $1",
                meeting_id, now, digest)
            await chain.append(self.db, meeting_id, "convened", {
                "notice_method": meeting["notice_method"], "notice_date": now.date().isoformat(),
                "latest_notice_date": latest.isoformat(), "stage": stage.value, "vote_base_sha256": digest,
                "creditors": len(claims), "total_weight_minor": sum(claim_weights.values()),
                "agenda": [{"position": i["position"], "decision": i["decision"], "question": i["question"]}
                           for i in items]}, actor_of(identity))
            await self.audit.record(action="meetings.convened", target=f"meeting:{meeting_id}", actor=identity,
                                    details={"vote_base_sha256": digest})
            await messages.convened(self.platform, await fetch_meeting(self.db, meeting_id), case, claims)
        return await self.meeting(meeting_id)

    async def cancel(self, identity: Identity, meeting_id: UUID, reason: str = "") -> Any:
        meeting, case = await self.managed(identity, meeting_id)
        if meeting["status"] not in ("draft", "convened"):
            raise Conflict(_("only a meeting that has not started can be cancelled"))
        async with self.db.transaction():
            await self.db.execute("UPDATE meetings_meetings SET status = 'cancelled' WHERE id = $1", meeting_id)
            await chain.append(self.db, meeting_id, "cancelled", {"reason": plain_text(reason, 500)},
                               actor_of(identity))
            if meeting["status"] == "convened":
                await messages.to_base(self.platform, meeting, case, "meetings.cancelled",
                                       {"reason": plain_text(reason, 500)})
        return await self.meeting(meeting_id)

    # -- opening and closing ---------------------------------------------------------------------------

    async def open(self, identity: Identity | None, meeting_id: UUID) -> Any:
        if identity is not None:
            await self.managed(identity, meeting_id)
        now = self.clock.now()
        async with self.db.transaction():
            meeting = await fetch_meeting(self.db, meeting_id, lock=True)
            if meeting["status"] != "convened":
                raise Conflict(_("only a convened meeting can be opened (it is %(status)s)",
                                 status=_(meeting["status"])))
            if now < meeting["starts_at"] - dt.timedelta(minutes=30):
                raise Conflict(_("the meeting starts at %(time)s; it can be opened half an hour before",
                                 time=meeting["starts_at"].isoformat(timespec="minutes")))
            await self.db.execute("UPDATE meetings_meetings SET status = 'open', opened_at = $2 WHERE id = $1",
                                  meeting_id, now)
            await chain.append(self.db, meeting_id, "opened", {"at": now.isoformat()}, actor_of(identity))
        return await self.meeting(meeting_id)

    async def close(self, identity: Identity | None, meeting_id: UUID) -> Any:
        """Count every item and close; without a quorum the meeting is "not held" (art. 12 p.4)."""
        now = self.clock.now()
        if identity is not None:
            meeting, _case = await self.managed(identity, meeting_id)
            if meeting["form"] == "absentee" and now < meeting["closes_at"]:
                raise Conflict(_("absentee ballots are accepted until %(time)s: the meeting closes then",
                                 time=meeting["closes_at"].isoformat(timespec="minutes")))
        async with self.db.transaction():
            meeting = await fetch_meeting(self.db, meeting_id, lock=True)
            if meeting["status"] != "open":
                raise Conflict(_("only an open meeting can be closed (it is %(status)s)",
                                 status=_(meeting["status"])))
            reached, results = await self.count(meeting)
            status = "closed" if reached.reached else "not_held"
            quorum_json = {"present_weight": reached.present_weight, "notified_weight": reached.notified_weight,
                           "total_weight": reached.total_weight, "reached": reached.reached,
                           "share": str(reached.share)}
            for item, result in results:
                await self.db.execute("UPDATE meetings_items SET result = $2 WHERE id = $1", item["id"],
                                      result.as_json())
            await self.db.execute(
                "UPDATE meetings_meetings SET status = $2, closed_at = $3, quorum = $4 WHERE id = $1",
                meeting_id, status, now, quorum_json)
            await chain.append(self.db, meeting_id, "closed", {
                "status": status, "quorum": quorum_json,
                "results": [{"position": item["position"], "outcome": r.outcome, "for": r.votes_for,
                             "against": r.against, "abstain": r.abstain, "invalid": r.invalid, "options": r.options,
                             "base": r.base_weight, "decided_option": r.decided_option, "elected": r.elected}
                            for item, r in results]}, actor_of(identity))
            await self.audit.record(action="meetings.closed", target=f"meeting:{meeting_id}", actor=identity,
                                    details={"status": status})
        return await self.meeting(meeting_id)

    async def due(self) -> tuple[list[UUID], list[UUID]]:
        """Meetings to open now (their start passed) and to close now (their voting time is over)."""
        now = self.clock.now()
        to_open = await self.db.fetch(
            "SELECT id FROM meetings_meetings WHERE status = 'convened' AND starts_at <= $1", now)
        to_close = await self.db.fetch(
            "SELECT id FROM meetings_meetings WHERE status = 'open' AND closes_at <= $1", now)
        return [r["id"] for r in to_open], [r["id"] for r in to_close]

    async def case_of(self, meeting: Any) -> Any:
        return await fetch_case(self.db, meeting["case_id"])
