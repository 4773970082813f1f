"""The protocol (minutes) of a meeting: a PDF made from what was recorded, then signed.

The PDF is rendered by WeasyPrint from ``meetings/protocol_pdf.html``, always in Russian (it goes to
the arbitration court), from stored data only: the meeting, the case, the frozen vote base and its
SHA-256, the registration journal, the quorum, every item's result with its legal basis, dissenting
opinions, the number of ballots and the head of the event chain. Nothing in it depends on the
moment it is rendered, so rendering again gives the same document.

Signing uses the registered signature methods (``register_signature_methods``; by default ``code``
from the ``signatures.code`` plugin): the organizer and every admitted participant may sign; each
signature is bound to the SHA-256 of the PDF and recorded in the chain.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.exceptions import ClientException

from core.access import Identity
from core.access.audit import AuditLog
from core.contracts.signatures import DocumentToSign, SignatureChallenge, SignatureStatus
from core.files import Files
from core.projects.errors import Conflict, NotFound
from core.web import i18n
from core.web.i18n import gettext as _
from plugins.meetings import chain, messages
from plugins.meetings.ballots import form_from_json
from plugins.meetings.common import actor_of, fetch_case, fetch_meeting, manages
from plugins.meetings.registration import METHOD_LABELS
from plugins.meetings.rules import EDITION, STAGE_LABELS, Stage, rule
from plugins.meetings.tally import percent
from plugins.meetings.voting import describe

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.meetings.settings import MeetingsSettings

TEMPLATES = Path(__file__).parent / "templates"
PROTOCOL_LOCALE = "ru"


def percent_of(part: int, whole: int) -> str:
    return percent(Fraction(part, whole)) if whole else "0.00"


def percent_share(share: str) -> str:
    """A stored exact share (``"2/3"``) as a percentage to print."""
    return percent(Fraction(share or "0"))


class SignatureRefused(ClientException):
    status_code = 422


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(_=i18n.gettext, money=i18n.money, percent=percent)
    return env


_env = _environment()


def render_html(context: dict[str, Any]) -> str:
    token = i18n.set_locale(PROTOCOL_LOCALE)
    try:
        return _env.get_template("meetings/protocol_pdf.html").render(**context)
    finally:
        i18n._current_locale.reset(token)


def render_pdf(context: dict[str, Any]) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_html(context), base_url=str(TEMPLATES)).write_pdf()


class ProtocolService:
    def __init__(self, platform: Platform, settings: MeetingsSettings) -> None:
        self.platform = platform
        self.settings = settings

    @property
    def db(self) -> Any:
        return self.platform.db

    async def context(self, meeting_id: UUID) -> dict[str, Any]:
        """Everything the protocol shows, read from the records."""
        meeting = await fetch_meeting(self.db, meeting_id)
        case = await fetch_case(self.db, meeting["case_id"])
        base = await self.db.fetch(
            "SELECT * FROM meetings_vote_base WHERE meeting_id = $1 ORDER BY weight_minor DESC, creditor_name",
            meeting_id)
        total = sum(r["weight_minor"] for r in base)
        if meeting["form"] == "absentee":
            # Absentee: those present are the creditors whose ballots came in time (art. 12 p.4 as applied).
            journal = await self.db.fetch(
                """SELECT DISTINCT b.creditor_name, b.weight_minor, 'creditor' AS role, 'ballot' AS method,
                          false AS settlement_authority
                   FROM meetings_vote_base b JOIN meetings_ballots x ON x.meeting_id = b.meeting_id
                        AND x.claim_id = b.claim_id AND NOT x.late
                   WHERE b.meeting_id = $1 ORDER BY b.weight_minor DESC, b.creditor_name""", meeting_id)
        else:
            journal = await self.db.fetch(
                """SELECT p.*, c.creditor_name, b.weight_minor FROM meetings_participants p
                   JOIN meetings_claims c ON c.id = p.claim_id
                   JOIN meetings_vote_base b ON b.meeting_id = p.meeting_id AND b.claim_id = p.claim_id
                   WHERE p.meeting_id = $1 AND p.status = 'admitted' ORDER BY b.weight_minor DESC, c.creditor_name""",
                meeting_id)
        items = []
        for item in await self.db.fetch("SELECT * FROM meetings_items WHERE meeting_id = $1 ORDER BY position",
                                        meeting_id):
            form = form_from_json(item["form"])
            opinions = await self.db.fetch(
                """SELECT b.opinion, c.creditor_name FROM meetings_ballots b JOIN meetings_claims c ON c.id = b.claim_id
                   WHERE b.item_id = $1 AND b.opinion <> '' AND NOT b.late ORDER BY c.creditor_name""", item["id"])
            items.append({"item": item, "rule": rule(item["decision"]), "form": form, "result": item["result"] or {},
                          "opinions": opinions})
        ballots = await self.db.fetchrow(
            """SELECT count(*) FILTER (WHERE NOT late) AS counted, count(*) FILTER (WHERE late) AS late,
                      count(*) FILTER (WHERE source = 'paper') AS paper
               FROM meetings_ballots WHERE meeting_id = $1""", meeting_id)
        closed_event = await self.db.fetchrow(
            "SELECT seq, hash FROM meetings_events WHERE meeting_id = $1 AND kind = 'closed'", meeting_id)
        return {"meeting": meeting, "case": case, "base": base, "total": total, "journal": journal, "items": items,
                "quorum": meeting["quorum"] or {}, "ballots": ballots, "closed_event": closed_event,
                "stage_label": STAGE_LABELS[Stage(case["stage"])], "edition": EDITION,
                "method_labels": {**METHOD_LABELS, "ballot": "Absentee ballot received in time"}, "describe": describe, "currency": case["currency"],
                "timezone": self.platform.core.platform.timezone, "local_time": self._local_time,
                "percent_of": percent_of, "percent_share": percent_share,
                "quorum_percent": percent_share((meeting["quorum"] or {}).get("share", "0"))}

    def _local_time(self, moment: Any) -> str:
        return messages.local_time(self.platform, moment) if moment else ""

    async def render(self, meeting_id: UUID) -> bytes:
        return await asyncio.to_thread(render_pdf, await self.context(meeting_id))

    async def protocol(self, meeting_id: UUID) -> Any:
        return await self.db.fetchrow("SELECT * FROM meetings_protocols WHERE meeting_id = $1", meeting_id)

    async def ensure(self, meeting_id: UUID) -> Any:
        """The protocol of a counted meeting, made (and the results announced) once."""
        existing = await self.protocol(meeting_id)
        if existing is not None:
            return existing
        meeting = await fetch_meeting(self.db, meeting_id)
        if meeting["status"] not in ("closed", "not_held"):
            raise Conflict(_("the protocol is made when the meeting closes"))
        data = await self.render(meeting_id)
        stored = await self.platform.service(Files).put(data, f"protocol-{meeting_id}.pdf", folder="meetings-protocols")
        async with self.db.transaction():
            await fetch_meeting(self.db, meeting_id, lock=True)
            if await self.protocol(meeting_id) is not None:  # another worker made it meanwhile
                return await self.protocol(meeting_id)
            row = await self.db.fetchrow(
                """INSERT INTO meetings_protocols (id, meeting_id, file_key, sha256, size)
                   VALUES ($1, $2, $3, $4, $5) RETURNING *""",
                uuid.uuid4(), meeting_id, stored.key, stored.sha256, stored.size)
            await chain.append(self.db, meeting_id, "protocol", {"protocol": str(row["id"]), "sha256": stored.sha256,
                                                                 "size": stored.size}, "system")
            await messages.results(self.platform, meeting, await fetch_case(self.db, meeting["case_id"]))
        return row

    async def pdf(self, meeting_id: UUID) -> tuple[Any, bytes]:
        protocol = await self.protocol(meeting_id)
        if protocol is None:
            raise NotFound(_("the meeting has no protocol yet"))
        data = await self.platform.service(Files).get(protocol["file_key"])
        if hashlib.sha256(data).hexdigest() != protocol["sha256"]:
            raise Conflict(_("the stored protocol does not match its recorded SHA-256"))
        return protocol, data

    async def signatures(self, protocol_id: UUID) -> list[Any]:
        return await self.db.fetch("SELECT * FROM meetings_signatures WHERE protocol_id = $1 ORDER BY signed_at",
                                   protocol_id)

    # -- signing -----------------------------------------------------------------------------------------

    async def signer_role(self, identity: Identity, meeting: Any) -> str | None:
        case = await fetch_case(self.db, meeting["case_id"])
        if identity.user_id == case["organizer_id"] or manages(identity, case):
            return "organizer"
        admitted = await self.db.fetchval(
            "SELECT 1 FROM meetings_participants WHERE meeting_id = $1 AND user_id = $2 AND status = 'admitted'",
            meeting["id"], identity.user_id)
        return "participant" if admitted else None

    def _method(self) -> Any:
        return self.platform.registry("signature_methods").get(self.settings.signature_methods[0])

    async def _document(self, identity: Identity, meeting_id: UUID) -> tuple[Any, str, DocumentToSign]:
        meeting = await fetch_meeting(self.db, meeting_id)
        role = await self.signer_role(identity, meeting)
        if role is None:
            raise NotFound(_("no meeting %(id)s", id=meeting_id))
        protocol = await self.protocol(meeting_id)
        if protocol is None:
            raise Conflict(_("the meeting has no protocol yet"))
        if await self.db.fetchval("SELECT 1 FROM meetings_signatures WHERE protocol_id = $1 AND signer_id = $2",
                                  protocol["id"], identity.user_id):
            raise Conflict(_("you have already signed this protocol"))
        title = _("Protocol of the meeting “%(title)s”", title=meeting["title"])
        return protocol, role, DocumentToSign(str(protocol["id"]), protocol["sha256"], title, identity.user_id)

    async def start_signing(self, identity: Identity, meeting_id: UUID) -> SignatureChallenge:
        _protocol, _role, document = await self._document(identity, meeting_id)
        return await self._method().start(document)

    async def finish_signing(self, identity: Identity, meeting_id: UUID, challenge_id: str, code: str) -> Any:
        protocol, role, document = await self._document(identity, meeting_id)
        method = self._method()
        # The challenge is rebuilt from our records, never from the request: the code must match this document.
        challenge = SignatureChallenge(method.name, str(challenge_id), {
            "document": document.document_id, "sha256": document.sha256, "signer": str(document.signer_id),
            "title": document.title})
        result = await method.finish(challenge, {"code": code})
        if result.status is not SignatureStatus.SIGNED:
            raise SignatureRefused(result.reason or _("the signature was not accepted"))
        async with self.db.transaction():
            row = await self.db.fetchrow(
                """INSERT INTO meetings_signatures (protocol_id, signer_id, role, method, sha256, evidence)
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING *""",
                protocol["id"], identity.user_id, role, method.name, protocol["sha256"], dict(result.evidence))
            if row is None:
                raise Conflict(_("you have already signed this protocol"))
            await chain.append(self.db, meeting_id, "signed", {"protocol": str(protocol["id"]),
                                                               "sha256": protocol["sha256"], "role": role,
                                                               "method": method.name,
                                                               "evidence": dict(result.evidence)},
                               actor_of(identity))
            await self.platform.service(AuditLog).record(action="meetings.protocol_signed",
                                                         target=f"meeting:{meeting_id}", actor=identity,
                                                         details={"role": role, "method": method.name})
        return row
