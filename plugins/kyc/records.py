"""Submissions and check results in the database: the rows, their encrypted columns, their value types.

Personal data never reach a column in clear: the person (names, birth) and each document
are AES-GCM ciphertexts of ``platform.service(PiiCipher)``; the document numbers also get a
blind index, so the same passport on two accounts is found without decrypting anything.
Results are append-only (a trigger refuses changes other than to their ciphertext).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from core.access.pii import PiiCipher, PiiField
from core.contracts.kyc import ITN, PASSPORT, SNILS, KycResult, KycStatus, KycSubject
from plugins.kyc.documents import (
    digits_of,
    passport_json,
    passport_number_of,
    person_json,
    subject_from,
)

if TYPE_CHECKING:
    from core.platform import Platform


def _digits(value: str) -> str:
    return digits_of(value) or ""


PERSON_FIELD = PiiField("kyc_submissions", "id", "person_enc")
ITN_FIELD = PiiField("kyc_submissions", "id", "itn_enc", "itn_bidx", _digits)
PASSPORT_FIELD = PiiField("kyc_submissions", "id", "passport_enc", "passport_bidx", passport_number_of)
SNILS_FIELD = PiiField("kyc_submissions", "id", "snils_enc", "snils_bidx", _digits)
DETAILS_FIELD = PiiField("kyc_check_results", "id", "details_enc")
PII_FIELDS = (PERSON_FIELD, ITN_FIELD, PASSPORT_FIELD, SNILS_FIELD, DETAILS_FIELD)
DOCUMENT_FIELDS = {ITN: ITN_FIELD, PASSPORT: PASSPORT_FIELD, SNILS: SNILS_FIELD}


class State(StrEnum):
    NONE = "none"              # nothing submitted (a customer's state only)
    CHECKING = "checking"      # the checks are running
    REVIEW = "review"          # a person must decide
    VERIFIED = "verified"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # the customer submitted again

    @property
    def open(self) -> bool:
        """Still to be decided."""
        return self in (State.CHECKING, State.REVIEW)


N_ = str  # marks English texts translated when shown
#: How each state is named on pages (translated when shown).
STATE_LABELS = {
    State.NONE: N_("not verified"),
    State.CHECKING: N_("being checked"),
    State.REVIEW: N_("waiting for a reviewer"),
    State.VERIFIED: N_("verified"),
    State.REJECTED: N_("rejected"),
    State.SUPERSEDED: N_("replaced by a newer submission"),
}
STATUS_LABELS = {
    KycStatus.PASSED: N_("passed"),
    KycStatus.FAILED: N_("did not pass"),
    KycStatus.PENDING: N_("waiting for the provider"),
    KycStatus.ERROR: N_("could not be made"),
}

#: States whose documents count as someone's (for finding the same document on two accounts).
CLAIMING = (State.CHECKING, State.REVIEW, State.VERIFIED)


@dataclass(frozen=True)
class Submission:
    id: UUID
    user_id: UUID
    state: State
    round: int
    checks: tuple[str, ...]
    documents: tuple[str, ...]
    flags: tuple[str, ...]
    consent_at: dt.datetime
    created_at: dt.datetime
    updated_at: dt.datetime
    next_attempt_at: dt.datetime | None
    decided_at: dt.datetime | None
    decided_by: UUID | None
    decision_reason: str | None
    erased_at: dt.datetime | None

    def public(self) -> dict[str, Any]:
        """What the customer's API shows (no personal data, no reviewer's id)."""
        return {
            "id": str(self.id),
            "state": self.state.value,
            "documents": list(self.documents),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "reason": self.decision_reason if self.state is State.REJECTED else None,
        }


@dataclass(frozen=True)
class CheckRecord:
    """One answer of one check, as recorded."""

    id: int
    submission_id: UUID
    round: int
    check: str
    attempt: int
    status: KycStatus
    reasons: tuple[str, ...]
    reference: str
    retry_at: dt.datetime | None
    created_at: dt.datetime
    details: dict[str, Any] | None = None  # decrypted on request only


def _submission(row: Any) -> Submission:
    return Submission(
        id=row["id"],
        user_id=row["user_id"],
        state=State(row["state"]),
        round=row["round"],
        checks=tuple(row["checks"]),
        documents=tuple(row["documents"]),
        flags=tuple(row["flags"]),
        consent_at=row["consent_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        next_attempt_at=row["next_attempt_at"],
        decided_at=row["decided_at"],
        decided_by=row["decided_by"],
        decision_reason=row["decision_reason"],
        erased_at=row["erased_at"],
    )


SUBMISSION_COLUMNS = """id, user_id, state, round, checks, documents, flags, consent_at, created_at, updated_at,
    next_attempt_at, decided_at, decided_by, decision_reason, erased_at"""


class SubmissionStore:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    @property
    def db(self):
        return self.platform.db

    @property
    def cipher(self) -> PiiCipher:
        return self.platform.service(PiiCipher)

    def index(self, kind: str, number: str) -> bytes:
        return self.cipher.blind_index(number, context=DOCUMENT_FIELDS[kind].context)

    # -- submissions ------------------------------------------------------------------------------

    async def insert(
        self, submission_id: UUID, user_id: UUID, subject: KycSubject, checks: Sequence[str], flags: Sequence[str]
    ) -> Submission:
        c = self.cipher
        docs = subject.documents
        itn = docs.get(ITN)
        passport = docs.get(PASSPORT)
        snils = docs.get(SNILS)
        row = await self.db.fetchrow(
            f"""INSERT INTO kyc_submissions (id, user_id, state, checks, documents, flags, person_enc,
                       itn_enc, itn_bidx, passport_enc, passport_bidx, snils_enc, snils_bidx, consent_at,
                       next_attempt_at)
                VALUES ($1, $2, 'checking', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, clock_timestamp(),
                        clock_timestamp())
                RETURNING {SUBMISSION_COLUMNS}""",
            submission_id,
            user_id,
            list(checks),
            sorted(docs),
            list(flags),
            c.encrypt(person_json(subject), context=PERSON_FIELD.context),
            c.encrypt(itn.number, context=ITN_FIELD.context) if itn else None,
            self.index(ITN, itn.number) if itn else None,
            c.encrypt(passport_json(passport), context=PASSPORT_FIELD.context) if passport else None,
            self.index(PASSPORT, passport.number) if passport else None,
            c.encrypt(snils.number, context=SNILS_FIELD.context) if snils else None,
            self.index(SNILS, snils.number) if snils else None,
        )
        return _submission(row)

    async def get(self, submission_id: UUID, *, for_update: bool = False) -> Submission | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.db.fetchrow(
            f"SELECT {SUBMISSION_COLUMNS} FROM kyc_submissions WHERE id = $1{lock}", submission_id
        )
        return _submission(row) if row else None

    async def current(self, user_id: UUID, *, for_update: bool = False) -> Submission | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.db.fetchrow(
            f"SELECT {SUBMISSION_COLUMNS} FROM kyc_submissions WHERE user_id = $1 AND state <> 'superseded'{lock}",
            user_id,
        )
        return _submission(row) if row else None

    async def of_user(self, user_id: UUID, limit: int = 20) -> list[Submission]:
        rows = await self.db.fetch(
            f"""SELECT {SUBMISSION_COLUMNS} FROM kyc_submissions WHERE user_id = $1
                ORDER BY created_at DESC, id LIMIT $2""",
            user_id,
            limit,
        )
        return [_submission(r) for r in rows]

    async def count_since(self, user_id: UUID, since: dt.datetime) -> int:
        return await self.db.fetchval(
            "SELECT count(*) FROM kyc_submissions WHERE user_id = $1 AND created_at >= $2", user_id, since
        )

    async def in_state(
        self, states: Sequence[State], *, after: tuple[dt.datetime, UUID] | None = None, limit: int = 50
    ) -> list[Submission]:
        """Oldest first (a queue): pass the last one's ``(updated_at, id)`` as ``after`` for the next page."""
        args: list[Any] = [[s.value for s in states], limit]
        cursor = ""
        if after is not None:
            args += list(after)
            cursor = " AND (updated_at, id) > ($3, $4)"
        rows = await self.db.fetch(
            f"""SELECT {SUBMISSION_COLUMNS} FROM kyc_submissions WHERE state = ANY($1){cursor}
                ORDER BY updated_at, id LIMIT $2""",
            *args,
        )
        return [_submission(r) for r in rows]

    async def verified_with(self, check: str, *, after: UUID | None, limit: int) -> list[Submission]:
        """Verified submissions that ran ``check``, in id order (``after``: the last one of the previous batch)."""
        rows = await self.db.fetch(
            f"""SELECT {SUBMISSION_COLUMNS} FROM kyc_submissions
                WHERE state = 'verified' AND $1 = ANY(checks) AND ($2::uuid IS NULL OR id > $2)
                ORDER BY id LIMIT $3""",
            check,
            after,
            limit,
        )
        return [_submission(r) for r in rows]

    async def counts(self) -> dict[str, int]:
        rows = await self.db.fetch(
            "SELECT state, count(*) AS n FROM kyc_submissions WHERE state <> 'superseded' GROUP BY state"
        )
        return {r["state"]: r["n"] for r in rows}

    async def supersede(self, user_id: UUID) -> Submission | None:
        row = await self.db.fetchrow(
            f"""UPDATE kyc_submissions SET state = 'superseded', updated_at = clock_timestamp(),
                       next_attempt_at = NULL
                WHERE user_id = $1 AND state <> 'superseded' RETURNING {SUBMISSION_COLUMNS}""",
            user_id,
        )
        return _submission(row) if row else None

    async def set_state(
        self,
        submission_id: UUID,
        state: State,
        *,
        decided_by: UUID | None = None,
        reason: str | None = None,
        decided: bool = False,
    ) -> Submission:
        row = await self.db.fetchrow(
            f"""UPDATE kyc_submissions SET state = $2::varchar, updated_at = clock_timestamp(),
                       next_attempt_at = CASE WHEN $2::varchar = 'checking' THEN clock_timestamp() END,
                       decided_at = CASE WHEN $5::boolean THEN clock_timestamp() ELSE decided_at END,
                       decided_by = CASE WHEN $5::boolean THEN $3::uuid ELSE decided_by END,
                       decision_reason = CASE WHEN $5::boolean THEN $4::text ELSE decision_reason END
                WHERE id = $1 RETURNING {SUBMISSION_COLUMNS}""",
            submission_id,
            state.value,
            decided_by,
            reason,
            decided,
        )
        return _submission(row)

    async def new_round(self, submission_id: UUID) -> Submission:
        row = await self.db.fetchrow(
            f"""UPDATE kyc_submissions SET state = 'checking', round = round + 1, updated_at = clock_timestamp(),
                       next_attempt_at = clock_timestamp(), decided_at = NULL, decided_by = NULL,
                       decision_reason = NULL
                WHERE id = $1 RETURNING {SUBMISSION_COLUMNS}""",
            submission_id,
        )
        return _submission(row)

    async def claim(self, submission_id: UUID, at: dt.datetime, lease: dt.timedelta) -> Submission | None:
        """Take a submission due ``at`` for one round of checks; pushed ahead by ``lease`` so no one else takes it."""
        row = await self.db.fetchrow(
            f"""UPDATE kyc_submissions SET next_attempt_at = $2 + $3::interval
                WHERE id = $1 AND state = 'checking' AND next_attempt_at <= $2
                RETURNING {SUBMISSION_COLUMNS}""",
            submission_id,
            at,
            lease,
        )
        return _submission(row) if row else None

    async def reschedule(self, submission_id: UUID, at: dt.datetime) -> None:
        await self.db.execute(
            "UPDATE kyc_submissions SET next_attempt_at = $2 WHERE id = $1 AND state = 'checking'", submission_id, at
        )

    async def due(self, at: dt.datetime, limit: int) -> list[UUID]:
        rows = await self.db.fetch(
            """SELECT id FROM kyc_submissions WHERE state = 'checking' AND next_attempt_at <= $1
               ORDER BY next_attempt_at LIMIT $2""",
            at,
            limit,
        )
        return [r["id"] for r in rows]

    async def others_with(self, user_id: UUID, kind: str, number: str) -> bool:
        """Whether another account's current submission has the same document."""
        column = DOCUMENT_FIELDS[kind].index_column
        return bool(
            await self.db.fetchval(
                f"""SELECT EXISTS (SELECT 1 FROM kyc_submissions WHERE {column} = $1 AND user_id <> $2
                                   AND state = ANY($3))""",
                self.index(kind, number),
                user_id,
                [s.value for s in CLAIMING],
            )
        )

    async def subject(self, submission_id: UUID) -> KycSubject | None:
        """The decrypted person and documents (None once erased)."""
        row = await self.db.fetchrow(
            "SELECT person_enc, itn_enc, passport_enc, snils_enc FROM kyc_submissions WHERE id = $1",
            submission_id,
        )
        if row is None or row["person_enc"] is None:
            return None
        c = self.cipher
        return subject_from(
            str(submission_id),
            c.decrypt(row["person_enc"], context=PERSON_FIELD.context),
            itn=c.maybe_decrypt(row["itn_enc"], context=ITN_FIELD.context),
            passport=c.maybe_decrypt(row["passport_enc"], context=PASSPORT_FIELD.context),
            snils=c.maybe_decrypt(row["snils_enc"], context=SNILS_FIELD.context),
        )

    async def erase_deleted_users(self, older_than: dt.timedelta) -> int:
        """Erase the personal data of accounts deleted longer ago than ``older_than``; keep the history's shape."""
        ids = await self.db.fetch(
            """UPDATE kyc_submissions s SET person_enc = NULL, itn_enc = NULL, itn_bidx = NULL,
                      passport_enc = NULL, passport_bidx = NULL, snils_enc = NULL, snils_bidx = NULL,
                      erased_at = clock_timestamp()
               FROM users_users u
               WHERE u.id = s.user_id AND u.status = 'deleted' AND u.deleted_at < clock_timestamp() - $1::interval
                 AND s.erased_at IS NULL
               RETURNING s.id""",
            older_than,
        )
        if ids:
            await self.db.execute(
                "UPDATE kyc_check_results SET details_enc = NULL WHERE submission_id = ANY($1) AND details_enc IS NOT NULL",
                [r["id"] for r in ids],
            )
        return len(ids)

    # -- results -------------------------------------------------------------------------------------------

    async def append_result(
        self, submission: Submission, result: KycResult, attempt: int, retry_at: dt.datetime | None
    ) -> CheckRecord:
        details = dict(result.details or {})
        row = await self.db.fetchrow(
            """INSERT INTO kyc_check_results (submission_id, round, check_name, attempt, status, reasons,
                       reference, retry_at, details_enc)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *""",
            submission.id,
            submission.round,
            result.check,
            attempt,
            KycStatus(result.status).value,
            [str(r)[:500] for r in result.reasons],
            result.reference[:500],
            retry_at,
            self.cipher.encrypt(json.dumps(details, ensure_ascii=False, default=str), context=DETAILS_FIELD.context)
            if details
            else None,
        )
        return self._record(row)

    async def latest_results(self, submission: Submission) -> dict[str, CheckRecord]:
        """The newest answer of each check in the submission's current round."""
        rows = await self.db.fetch(
            """SELECT DISTINCT ON (check_name) * FROM kyc_check_results
               WHERE submission_id = $1 AND round = $2 ORDER BY check_name, id DESC""",
            submission.id,
            submission.round,
        )
        return {r["check_name"]: self._record(r) for r in rows}

    async def history(self, submission_id: UUID, *, decrypt: bool = False) -> list[CheckRecord]:
        rows = await self.db.fetch(
            "SELECT * FROM kyc_check_results WHERE submission_id = $1 ORDER BY id", submission_id
        )
        return [self._record(r, decrypt=decrypt) for r in rows]

    def _record(self, row: Any, decrypt: bool = False) -> CheckRecord:
        details = None
        if decrypt and row["details_enc"] is not None:
            details = json.loads(self.cipher.decrypt(row["details_enc"], context=DETAILS_FIELD.context))
        return CheckRecord(
            id=row["id"],
            submission_id=row["submission_id"],
            round=row["round"],
            check=row["check_name"],
            attempt=row["attempt"],
            status=KycStatus(row["status"]),
            reasons=tuple(row["reasons"]),
            reference=row["reference"],
            retry_at=row["retry_at"],
            created_at=row["created_at"],
            details=details,
        )
