"""Registering participants: the journal of who takes part for which creditor, and how they were checked.

Validation methods (meetings.md §1.7):

* ``identity``: the signed-in account is the creditor's own: the organizer linked it to the claim, or
  the taxpayer number (INN) in the user's profile (``core.users``) matches the claim's. Admitted at once.
* ``code``: a one-time code sent to the e-mail or phone given in the claim, typed back by the signed-in
  user (``core.access`` Confirmations). Admitted at once.
* ``power_of_attorney``: a representative uploads the power of attorney (PDF or a scan); the organizer
  reviews it, and records whether it specifically authorises a vote on a settlement agreement
  (art. 150 p.2). Admitted by the organizer.
* ``video``: identification in the meeting's video room, the organizer comparing face and document.
  Admitted by the organizer.

A creditor has at most one admitted participant per meeting (a database index holds it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any
from uuid import UUID

from asyncpg import UniqueViolationError
from litestar.exceptions import PermissionDeniedException

from core.access import Identity
from core.access.audit import AuditLog
from core.access.confirmations import Challenge, Confirmations
from core.access.inputs import plain_text
from core.files import FileError, Files
from core.projects.errors import Conflict, Invalid, NotFound
from core.web.i18n import gettext as _
from plugins.meetings import chain, messages
from plugins.meetings.cases import CaseService
from plugins.meetings.common import Clock, actor_of, fetch_case, fetch_meeting, managed_meeting
from plugins.meetings.service import REGISTERING

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.meetings.settings import MeetingsSettings

CODE_PURPOSE = "meetings.register"
METHOD_LABELS = {
    "identity": "Own account (identity checked)",
    "code": "One-time code to the claim's contact",
    "power_of_attorney": "Power of attorney, reviewed by the organizer",
    "video": "Identified on video by the organizer",
}


class RegistrationService:
    def __init__(self, platform: Platform, settings: MeetingsSettings, clock: Clock) -> None:
        self.platform = platform
        self.settings = settings
        self.clock = clock

    @property
    def db(self) -> Any:
        return self.platform.db

    async def _open_for_registration(self, meeting_id: UUID, claim_id: UUID) -> tuple[Any, Any, Any]:
        meeting = await fetch_meeting(self.db, meeting_id)
        if meeting["status"] not in REGISTERING:
            raise NotFound(_("no meeting %(id)s open for registration", id=meeting_id))
        claim = await self.db.fetchrow(
            """SELECT c.*, b.weight_minor FROM meetings_vote_base b JOIN meetings_claims c ON c.id = b.claim_id
               WHERE b.meeting_id = $1 AND b.claim_id = $2""", meeting_id, claim_id)
        if claim is None:
            raise NotFound(_("no creditor %(id)s in this meeting's register", id=claim_id))
        if self.clock.now() >= meeting["closes_at"]:
            raise Conflict(_("registration is over: voting has closed"))
        return meeting, await fetch_case(self.db, meeting["case_id"]), claim

    async def _admitted_for(self, meeting_id: UUID, claim_id: UUID) -> Any:
        return await self.db.fetchrow(
            "SELECT * FROM meetings_participants WHERE meeting_id = $1 AND claim_id = $2 AND status = 'admitted'",
            meeting_id, claim_id)

    async def _admit(self, identity: Identity, meeting: Any, claim: Any, method: str, role: str) -> Any:
        existing = await self._admitted_for(meeting["id"], claim["id"])
        if existing is not None:
            if existing["user_id"] == identity.user_id:
                return existing
            raise Conflict(_("someone else is already registered for this creditor; ask the organizer"))
        now = self.clock.now()
        try:
            async with self.db.transaction():
                row = await self.db.fetchrow(
                    """INSERT INTO meetings_participants (id, meeting_id, claim_id, user_id, role, method, status,
                           settlement_authority, admitted_at)
                       VALUES ($1, $2, $3, $4, $5, $6, 'admitted', $7, $8) RETURNING *""",
                    uuid.uuid4(), meeting["id"], claim["id"], identity.user_id, role, method, role == "creditor", now)
                await self._record(meeting["id"], "registered", row, identity)
        except UniqueViolationError:
            raise Conflict(_("someone else is already registered for this creditor; ask the organizer")) from None
        return row

    async def _record(self, meeting_id: UUID, kind: str, row: Any, identity: Identity | None) -> None:
        await chain.append(self.db, meeting_id, kind, {
            "participant": str(row["id"]), "claim": str(row["claim_id"]), "user": str(row["user_id"]),
            "role": row["role"], "method": row["method"], "status": row["status"],
            "settlement_authority": row["settlement_authority"], "poa_sha256": row["poa_sha256"]},
            actor_of(identity))
        await self.platform.service(AuditLog).record(
            action=f"meetings.participant_{kind}", target=f"meeting:{meeting_id}", actor=identity,
            details={"participant": str(row["id"]), "claim": str(row["claim_id"]), "method": row["method"]})

    # -- the creditor's own account -------------------------------------------------------------------

    async def register_identity(self, identity: Identity, meeting_id: UUID, claim_id: UUID) -> Any:
        meeting, _case, claim = await self._open_for_registration(meeting_id, claim_id)
        if claim["user_id"] != identity.user_id:
            if not claim["creditor_itn"] or not await self._itn_matches(identity.user_id, claim["creditor_itn"]):
                raise PermissionDeniedException(_(
                    "your account is not this creditor's: the taxpayer number (INN) in your profile does not match "
                    "the claim. Use a code sent to the claim's contact, or a power of attorney"))
        return await self._admit(identity, meeting, claim, "identity", "creditor")

    async def _itn_matches(self, user_id: UUID | None, itn: str) -> bool:
        from core.users.service import Users

        if user_id is None or not self.platform.has_service(Users):
            return False
        data = await self.platform.service(Users).personal_data(user_id)
        return bool(data.itn) and data.itn == itn

    # -- a code to the claim's contact ------------------------------------------------------------------

    def _code_payload(self, meeting_id: UUID, claim_id: UUID, user_id: UUID | None) -> dict[str, str]:
        return {"meeting": str(meeting_id), "claim": str(claim_id), "user": str(user_id)}

    async def send_code(self, identity: Identity, meeting_id: UUID, claim_id: UUID) -> Challenge:
        _meeting, case, claim = await self._open_for_registration(meeting_id, claim_id)
        address = self.platform.service(CaseService).contact(claim)
        if address is None:
            raise Conflict(_("the claim gives no e-mail or phone: register with a power of attorney"))
        return await self.platform.service(Confirmations).issue(
            purpose=CODE_PURPOSE, payload=self._code_payload(meeting_id, claim_id, identity.user_id),
            user_id=identity.user_id, to=address,
            summary=_("Registration for the meeting of creditors of %(debtor)s as %(creditor)s",
                      debtor=case["debtor_name"], creditor=claim["creditor_name"]))

    async def register_with_code(self, identity: Identity, meeting_id: UUID, claim_id: UUID, challenge_id: UUID,
                                 code: str) -> Any:
        meeting, _case, claim = await self._open_for_registration(meeting_id, claim_id)
        await self.platform.service(Confirmations).verify(
            challenge_id, code, purpose=CODE_PURPOSE, payload=self._code_payload(meeting_id, claim_id, identity.user_id),
            user_id=identity.user_id)
        return await self._admit(identity, meeting, claim, "code", "creditor")

    # -- requests the organizer reviews --------------------------------------------------------------------

    async def request(self, identity: Identity, meeting_id: UUID, claim_id: UUID, method: str, *,
                      document: Any = None, settlement_authority: bool = False) -> Any:
        """A power of attorney (with the document) or a video identification, for the organizer to review."""
        meeting, case, claim = await self._open_for_registration(meeting_id, claim_id)
        if method not in ("power_of_attorney", "video"):
            raise Invalid(_("a power of attorney or video identification"), field="method")
        stored = None
        if method == "power_of_attorney":
            if document is None:
                raise Invalid(_("attach the power of attorney (PDF or a scan)"), field="document")
            try:
                stored = await self.platform.service(Files).put(document.data, document.filename,
                                                                folder="meetings-poa")
            except FileError as exc:
                raise Invalid(str(exc), field="document") from None
        try:
            async with self.db.transaction():
                row = await self.db.fetchrow(
                    """INSERT INTO meetings_participants (id, meeting_id, claim_id, user_id, role, method, status,
                           settlement_authority, poa_key, poa_name, poa_sha256)
                       VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10) RETURNING *""",
                    uuid.uuid4(), meeting_id, claim_id, identity.user_id,
                    "representative" if method == "power_of_attorney" else "creditor", method,
                    bool(settlement_authority) and method == "power_of_attorney",
                    stored.key if stored else None, stored.filename if stored else None,
                    stored.sha256 if stored else None)
                await self._record(meeting_id, "requested", row, identity)
                await messages.registration_waiting(self.platform, meeting, case, claim["creditor_name"])
        except UniqueViolationError:
            raise Conflict(_("you have already asked; the organizer will review it")) from None
        return row

    async def review(self, identity: Identity, meeting_id: UUID, participant_id: UUID, *, admit: bool,
                     settlement_authority: bool = False, note: str = "") -> Any:
        meeting, case = await managed_meeting(self.db, identity, meeting_id)
        participant = await self.participant(meeting_id, participant_id)
        if participant["status"] != "pending":
            raise Conflict(_("this registration was already reviewed"))
        note = plain_text(note, 500)
        try:
            async with self.db.transaction():
                row = await self.db.fetchrow(
                    """UPDATE meetings_participants SET status = $3, settlement_authority = $4, review_note = $5,
                           reviewed_by = $6, reviewed_at = $7, admitted_at = CASE WHEN $8 THEN $7::timestamptz END
                       WHERE id = $1 AND meeting_id = $2 AND status = 'pending' RETURNING *""",
                    participant_id, meeting_id, "admitted" if admit else "rejected",
                    admit and (participant["role"] == "creditor" or bool(settlement_authority)), note,
                    identity.user_id, self.clock.now(), admit)
                if row is None:
                    raise Conflict(_("this registration was already reviewed"))
                await self._record(meeting_id, "reviewed", row, identity)
                await messages.registration_reviewed(self.platform, meeting, case, row["user_id"], admit, note)
        except UniqueViolationError:
            raise Conflict(_("another participant is already admitted for this creditor")) from None
        return row

    # -- reading -----------------------------------------------------------------------------------------

    async def participant(self, meeting_id: UUID, participant_id: UUID) -> Any:
        row = await self.db.fetchrow("SELECT * FROM meetings_participants WHERE id = $1 AND meeting_id = $2",
                                     participant_id, meeting_id)
        if row is None:
            raise NotFound(_("no participant %(id)s", id=participant_id))
        return row

    async def journal(self, meeting_id: UUID) -> list[Any]:
        return await self.db.fetch(
            """SELECT p.*, c.creditor_name, b.weight_minor FROM meetings_participants p
               JOIN meetings_claims c ON c.id = p.claim_id
               LEFT JOIN meetings_vote_base b ON b.meeting_id = p.meeting_id AND b.claim_id = p.claim_id
               WHERE p.meeting_id = $1 ORDER BY p.created_at""", meeting_id)

    async def of_user(self, meeting_id: UUID, user_id: UUID | None) -> list[Any]:
        return await self.db.fetch(
            """SELECT p.*, c.creditor_name, b.weight_minor FROM meetings_participants p
               JOIN meetings_claims c ON c.id = p.claim_id
               JOIN meetings_vote_base b ON b.meeting_id = p.meeting_id AND b.claim_id = p.claim_id
               WHERE p.meeting_id = $1 AND p.user_id = $2 ORDER BY c.creditor_name, p.created_at""",
            meeting_id, user_id)

    async def admitted(self, meeting_id: UUID, user_id: UUID | None, claim_id: UUID) -> Any:
        """The user's admitted participation for this creditor, or "not found"."""
        row = await self.db.fetchrow(
            """SELECT p.*, b.weight_minor, b.secured_minor, b.pledge_waived FROM meetings_participants p
               JOIN meetings_vote_base b ON b.meeting_id = p.meeting_id AND b.claim_id = p.claim_id
               WHERE p.meeting_id = $1 AND p.claim_id = $2 AND p.user_id = $3 AND p.status = 'admitted'""",
            meeting_id, claim_id, user_id)
        if row is None:
            raise NotFound(_("you are not registered for this creditor at this meeting"))
        return row

    async def claims_of_user(self, meeting_id: UUID, user_id: UUID | None) -> list[Any]:
        """Register lines the user might register for: linked to them, or any (for a code or a power of attorney)."""
        return await self.db.fetch(
            """SELECT c.id, c.creditor_name, c.creditor_kind, c.contact_kind, b.weight_minor,
                      (c.user_id = $2) AS own
               FROM meetings_vote_base b JOIN meetings_claims c ON c.id = b.claim_id
               WHERE b.meeting_id = $1 ORDER BY (c.user_id = $2) DESC NULLS LAST, c.creditor_name""",
            meeting_id, user_id)

    async def meetings_of_user(self, user_id: UUID | None) -> list[Any]:
        """Meetings the user is called to (a claim linked to them) or registered for."""
        return await self.db.fetch(
            """SELECT DISTINCT m.*, k.number AS case_number, k.debtor_name FROM meetings_meetings m
               JOIN meetings_cases k ON k.id = m.case_id
               LEFT JOIN meetings_participants p ON p.meeting_id = m.id AND p.user_id = $1
               LEFT JOIN meetings_vote_base b ON b.meeting_id = m.id
               LEFT JOIN meetings_claims c ON c.id = b.claim_id AND c.user_id = $1
               WHERE m.status <> 'draft' AND (p.id IS NOT NULL OR c.id IS NOT NULL)
               ORDER BY m.starts_at DESC""", user_id)

    async def mark_presence(self, participant_id: UUID, *, joined: bool) -> None:
        """The journal's time in and time out, from the video room."""
        column = "joined_at" if joined else "left_at"
        await self.db.execute(
            f"UPDATE meetings_participants SET {column} = $2 WHERE id = $1"
            + (" AND joined_at IS NULL" if joined else ""), participant_id, dt.datetime.now(dt.UTC))
