"""Bankruptcy cases and their register of claims, kept by the arbitration manager.

The register here is what the meetings need from the court's register (art. 16): each creditor's
principal claim (its votes), penalties (never votes), the secured part, a waiver of the pledge, a late
filing. Amounts are integer kopecks. The contact given in the claim (e-mail or phone) is encrypted:
one-time registration codes go there.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any
from uuid import UUID

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn as ru_inn

from core.access import Identity
from core.access.audit import AuditLog
from core.access.inputs import MAX_BIGINT, plain_text
from core.access.pii import PiiCipher
from core.contracts.notifications import Address
from core.projects.errors import Conflict, Invalid, NotFound
from core.web.i18n import gettext as _
from plugins.meetings.common import ORGANIZE, SUPERVISE, managed_case
from plugins.meetings.rules import Stage

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.meetings.settings import MeetingsSettings

CONTACT_CONTEXT = "meetings_claims.contact_enc"
_PHONE = re.compile(r"^\+?[0-9]{10,15}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
_CASE_NUMBER = re.compile(r"^[0-9A-Za-zА-Яа-яЁё\-/ .()]{3,60}$")


def check_itn(value: str | None, field: str, *, required: bool = False) -> str:
    digits = re.sub(r"[^0-9]", "", value or "")
    if not digits:
        if required:
            raise Invalid(_("enter the taxpayer number (INN)"), field=field)
        return ""
    try:
        ru_inn.validate(digits)
    except StdnumError:
        raise Invalid(_("not a valid taxpayer number (INN): check the digits"), field=field) from None
    return digits


def parse_contact(value: str | None, field: str = "contact") -> Address | None:
    text = (value or "").strip()
    if not text:
        return None
    if "@" in text:
        if not _EMAIL.match(text):
            raise Invalid(_("not an e-mail address"), field=field)
        return Address("email", text.lower())
    digits = re.sub(r"[\s()\-]", "", text)
    if digits.startswith("8") and len(digits) == 11:
        digits = "+7" + digits[1:]
    if not _PHONE.match(digits):
        raise Invalid(_("give an e-mail address or a phone number such as +7 999 123-45-67"), field=field)
    return Address("phone", digits if digits.startswith("+") else "+" + digits)


def minor_amount(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_BIGINT:
        raise Invalid(_("an amount in kopecks: a whole number, zero or more"), field=field)
    return value


class CaseService:
    def __init__(self, platform: Platform, settings: MeetingsSettings) -> None:
        self.platform = platform
        self.settings = settings

    @property
    def db(self) -> Any:
        return self.platform.db

    @property
    def cipher(self) -> PiiCipher:
        return self.platform.service(PiiCipher)

    async def create_case(self, identity: Identity, *, number: str, debtor_name: str, debtor_kind: str,
                          stage: str, court: str = "", debtor_itn: str = "", debtor_address: str = "",
                          organizer_name: str = "") -> Any:
        """A case run by ``identity`` as its arbitration manager."""
        if not identity.can(ORGANIZE) and not identity.can(SUPERVISE):
            raise NotFound(_("no such page"))
        number = plain_text(number, 60)
        if not _CASE_NUMBER.match(number):
            raise Invalid(_("the case number as the court wrote it, e.g. А40-123456/2026"), field="number")
        if debtor_kind not in ("company", "person"):
            raise Invalid(_("a company or a person"), field="debtor_kind")
        if stage not in Stage.__members__.values():
            raise Invalid(_("not a procedure stage"), field="stage")
        name = plain_text(debtor_name, 300)
        if not name:
            raise Invalid(_("enter the debtor's name"), field="debtor_name")
        itn = check_itn(debtor_itn, "debtor_itn")
        async with self.db.transaction():
            if await self.db.fetchval("SELECT 1 FROM meetings_cases WHERE number = $1", number):
                raise Conflict(_("case %(number)s is already here", number=number))
            row = await self.db.fetchrow(
                """INSERT INTO meetings_cases (id, number, court, debtor_name, debtor_kind, debtor_itn,
                       debtor_address, stage, organizer_id, organizer_name, currency)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *""",
                uuid.uuid4(), number, plain_text(court, 200), name, debtor_kind, itn,
                plain_text(debtor_address, 500), stage, identity.user_id,
                plain_text(organizer_name, 300) or identity.display_name, self.settings.currency)
            await self.platform.service(AuditLog).record(action="meetings.case_created", target=f"case:{row['id']}",
                                                         details={"number": number}, actor=identity)
        return row

    async def cases(self, identity: Identity) -> list[Any]:
        if identity.can(SUPERVISE):
            return await self.db.fetch("SELECT * FROM meetings_cases ORDER BY created_at DESC")
        return await self.db.fetch("SELECT * FROM meetings_cases WHERE organizer_id = $1 ORDER BY created_at DESC",
                                   identity.user_id)

    async def case(self, identity: Identity, case_id: UUID) -> Any:
        return await managed_case(self.db, identity, case_id)

    async def set_stage(self, identity: Identity, case_id: UUID, stage: str) -> Any:
        await managed_case(self.db, identity, case_id)
        if stage not in Stage.__members__.values():
            raise Invalid(_("not a procedure stage"), field="stage")
        async with self.db.transaction():
            row = await self.db.fetchrow("UPDATE meetings_cases SET stage = $2 WHERE id = $1 RETURNING *", case_id,
                                         stage)
            await self.platform.service(AuditLog).record(action="meetings.case_stage", target=f"case:{case_id}",
                                                         details={"stage": stage}, actor=identity)
        return row

    # -- the register of claims -------------------------------------------------------------------

    async def claims(self, case_id: UUID) -> list[Any]:
        return await self.db.fetch(
            "SELECT * FROM meetings_claims WHERE case_id = $1 ORDER BY principal_minor DESC, creditor_name", case_id)

    async def add_claim(self, identity: Identity, case_id: UUID, **fields: Any) -> Any:
        await managed_case(self.db, identity, case_id)
        values = self._claim_values(fields)
        async with self.db.transaction():
            row = await self.db.fetchrow(
                """INSERT INTO meetings_claims (id, case_id, creditor_name, creditor_kind, creditor_itn, user_id,
                       contact_kind, contact_enc, principal_minor, penalty_minor, secured_minor, pledge_waived,
                       late, court_act)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *""",
                uuid.uuid4(), case_id, *values.values())
            await self.platform.service(AuditLog).record(
                action="meetings.claim_added", target=f"claim:{row['id']}", actor=identity,
                details={"case": str(case_id), "principal_minor": row["principal_minor"]})
        return row

    async def update_claim(self, identity: Identity, claim_id: UUID, **fields: Any) -> Any:
        existing = await self.claim(claim_id)
        await managed_case(self.db, identity, existing["case_id"])
        merged = {**dict(existing), **fields}
        if "contact" not in fields:
            merged["contact"] = self.contact(existing)
            merged["contact"] = merged["contact"].value if merged["contact"] else ""
        values = self._claim_values(merged)
        async with self.db.transaction():
            row = await self.db.fetchrow(
                """UPDATE meetings_claims SET creditor_name = $2, creditor_kind = $3, creditor_itn = $4, user_id = $5,
                       contact_kind = $6, contact_enc = $7, principal_minor = $8, penalty_minor = $9,
                       secured_minor = $10, pledge_waived = $11, late = $12, court_act = $13, updated_at = now()
                   WHERE id = $1 RETURNING *""",
                claim_id, *values.values())
            await self.platform.service(AuditLog).record(
                action="meetings.claim_changed", target=f"claim:{claim_id}", actor=identity,
                details={"principal_minor": row["principal_minor"], "secured_minor": row["secured_minor"],
                         "pledge_waived": row["pledge_waived"], "late": row["late"]})
        return row

    async def claim(self, claim_id: UUID) -> Any:
        row = await self.db.fetchrow("SELECT * FROM meetings_claims WHERE id = $1", claim_id)
        if row is None:
            raise NotFound(_("no claim %(id)s", id=claim_id))
        return row

    def contact(self, claim: Any) -> Address | None:
        if claim["contact_enc"] is None:
            return None
        return Address(claim["contact_kind"], self.cipher.decrypt(claim["contact_enc"], context=CONTACT_CONTEXT))

    def _claim_values(self, fields: dict[str, Any]) -> dict[str, Any]:
        name = plain_text(fields.get("creditor_name"), 300)
        if not name:
            raise Invalid(_("enter the creditor's name"), field="creditor_name")
        kind = fields.get("creditor_kind") or "creditor"
        if kind not in ("creditor", "authority"):
            raise Invalid(_("a creditor or an authorized body"), field="creditor_kind")
        principal = minor_amount(fields.get("principal_minor"), "principal_minor")
        penalty = minor_amount(fields.get("penalty_minor") or 0, "penalty_minor")
        secured = minor_amount(fields.get("secured_minor") or 0, "secured_minor")
        if secured > principal:
            raise Invalid(_("the secured part cannot exceed the principal claim"), field="secured_minor")
        contact = parse_contact(fields.get("contact"))
        user_id = fields.get("user_id")
        if user_id not in (None, "") and not isinstance(user_id, UUID):
            from plugins.meetings.common import as_uuid

            user_id = as_uuid(user_id, "user_id")
        return {
            "creditor_name": name,
            "creditor_kind": kind,
            "creditor_itn": check_itn(fields.get("creditor_itn"), "creditor_itn"),
            "user_id": user_id or None,
            "contact_kind": contact.kind if contact else None,
            "contact_enc": self.cipher.encrypt(contact.value, context=CONTACT_CONTEXT) if contact else None,
            "principal_minor": principal,
            "penalty_minor": penalty,
            "secured_minor": secured,
            "pledge_waived": bool(fields.get("pledge_waived")),
            "late": bool(fields.get("late")),
            "court_act": plain_text(fields.get("court_act"), 500),
        }
