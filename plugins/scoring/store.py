"""The scoring tables in SQL: inquiries and results (append-only), the polling queue, decisions."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from core.contracts.scoring import ScoringResult, ScoringStatus
from core.money import Money
from plugins.scoring.records import DecisionRecord, Inquiry, StoredResult

if TYPE_CHECKING:
    from core.db import Database

INQUIRY_COLUMNS = """i.id, i.provider, i.request_id, i.reference, i.report_type, i.consent_ref, i.amount_minor,
    i.currency, i.term_days, i.cached_from, i.user_id, i.requested_by, i.created_at, i.subject_bidx"""
RESULT_COLUMNS = """r.id, r.inquiry_id, r.attempt, r.source, r.status, r.score, r.provider_decision, r.report_ref,
    r.error_code, r.error, r.retryable, r.duration_ms, r.received_at, r.report_enc"""
LATEST = f"""LEFT JOIN LATERAL (SELECT {RESULT_COLUMNS} FROM scoring_results r WHERE r.inquiry_id = i.id
    ORDER BY r.id DESC LIMIT 1) last ON true"""


@dataclass
class InquiryFilter:
    provider: str | None = None
    #: "in_progress" or a result status.
    status: str | None = None
    reference: str | None = None
    subject_bidx: bytes | None = None
    user_id: UUID | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []

        def add(sql: str, value: Any) -> None:
            args.append(value)
            clauses.append(sql.format(n=len(args)))

        if self.provider:
            add("i.provider = ${n}", self.provider)
        if self.status == "in_progress":
            clauses.append("last.id IS NULL")
        elif self.status:
            add("last.status = ${n}", self.status)
        if self.reference:
            add("i.reference = ${n}", self.reference)
        if self.subject_bidx:
            add("i.subject_bidx = ${n}", self.subject_bidx)
        if self.user_id:
            add("i.user_id = ${n}", self.user_id)
        if self.since:
            add("i.created_at >= ${n}", self.since)
        if self.until:
            add("i.created_at < ${n}", self.until)
        return " AND ".join(clauses) or "true", args


def result_of(row: asyncpg.Record, prefix: str = "") -> StoredResult | None:
    if row[f"{prefix}id"] is None:
        return None
    return StoredResult(
        id=row[f"{prefix}id"], inquiry_id=row[f"{prefix}inquiry_id"], attempt=row[f"{prefix}attempt"],
        source=row[f"{prefix}source"], status=ScoringStatus(row[f"{prefix}status"]), score=row[f"{prefix}score"],
        decision=row[f"{prefix}provider_decision"], report_ref=row[f"{prefix}report_ref"],
        error_code=row[f"{prefix}error_code"], error=row[f"{prefix}error"], retryable=row[f"{prefix}retryable"],
        duration_ms=row[f"{prefix}duration_ms"], received_at=row[f"{prefix}received_at"])


def inquiry_of(row: asyncpg.Record, result: StoredResult | None) -> Inquiry:
    amount = Money(row["amount_minor"], row["currency"]) if row["amount_minor"] is not None else None
    return Inquiry(id=row["id"], provider=row["provider"], request_id=row["request_id"], reference=row["reference"],
                   report_type=row["report_type"], consent_ref=row["consent_ref"], amount=amount,
                   term_days=row["term_days"], cached_from=row["cached_from"], user_id=row["user_id"],
                   requested_by=row["requested_by"],
                   created_at=row["created_at"], result=result)


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- inquiries ----------------------------------------------------------------------------------

    async def insert_inquiry(self, conn: asyncpg.Connection, *, provider: str, request_id: str, reference: str,
                             report_type: str, applicant_enc: bytes, subject_bidx: bytes, consent_ref: str,
                             amount: Money | None, term_days: int | None, cached_from: UUID | None,
                             user_id: UUID | None, requested_by: str, now: dt.datetime) -> UUID | None:
        """The new inquiry's id, or None when one with this request id exists already."""
        return await conn.fetchval(
            """INSERT INTO scoring_inquiries (id, provider, request_id, reference, report_type, applicant_enc,
                   subject_bidx, consent_ref, amount_minor, currency, term_days, cached_from, user_id, requested_by,
                   created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
               ON CONFLICT (provider, request_id) DO NOTHING RETURNING id""",
            uuid.uuid4(), provider, request_id, reference, report_type, applicant_enc, subject_bidx, consent_ref,
            amount.minor if amount else None, amount.currency if amount else None, term_days, cached_from, user_id,
            requested_by, now)

    async def inquiry_row(self, *, inquiry_id: UUID | None = None, provider: str = "", request_id: str = ""
                          ) -> asyncpg.Record | None:
        where = "i.id = $1" if inquiry_id else "i.provider = $1 AND i.request_id = $2"
        args = [inquiry_id] if inquiry_id else [provider, request_id]
        return await self.db.fetchrow(
            f"""SELECT {INQUIRY_COLUMNS}, i.applicant_enc, last.id AS r_id, last.inquiry_id AS r_inquiry_id,
                       last.attempt AS r_attempt, last.source AS r_source, last.status AS r_status,
                       last.score AS r_score, last.provider_decision AS r_provider_decision,
                       last.report_ref AS r_report_ref, last.error_code AS r_error_code, last.error AS r_error,
                       last.retryable AS r_retryable, last.duration_ms AS r_duration_ms,
                       last.received_at AS r_received_at, last.report_enc AS r_report_enc
                FROM scoring_inquiries i {LATEST} WHERE {where}""", *args)

    async def search(self, filters: InquiryFilter, *, limit: int = 50, offset: int = 0) -> list[Inquiry]:
        where, args = filters.where()
        rows = await self.db.fetch(
            f"""SELECT {INQUIRY_COLUMNS}, last.id AS r_id, last.inquiry_id AS r_inquiry_id, last.attempt AS r_attempt,
                       last.source AS r_source, last.status AS r_status, last.score AS r_score,
                       last.provider_decision AS r_provider_decision, last.report_ref AS r_report_ref,
                       last.error_code AS r_error_code, last.error AS r_error, last.retryable AS r_retryable,
                       last.duration_ms AS r_duration_ms, last.received_at AS r_received_at
                FROM scoring_inquiries i {LATEST}
                WHERE {where} ORDER BY i.created_at DESC, i.id LIMIT {int(limit)} OFFSET {int(offset)}""", *args)
        return [inquiry_of(row, result_of(row, "r_")) for row in rows]

    async def history(self, inquiry_id: UUID) -> list[asyncpg.Record]:
        return await self.db.fetch(
            f"SELECT {RESULT_COLUMNS} FROM scoring_results r WHERE r.inquiry_id = $1 ORDER BY r.id", inquiry_id)

    async def cache_source(self, *, provider: str, report_type: str, subject_bidx: bytes, since: dt.datetime,
                           loan: tuple[int | None, str | None, int | None] | None) -> asyncpg.Record | None:
        """The newest inquiry since ``since`` whose report another inquiry may reuse (or follow, while in flight)."""
        loan_clause = ""
        args: list[Any] = [provider, report_type, subject_bidx, since]
        if loan is not None:
            args.extend(loan)
            loan_clause = ("AND i.amount_minor IS NOT DISTINCT FROM $5 AND i.currency IS NOT DISTINCT FROM $6 "
                           "AND i.term_days IS NOT DISTINCT FROM $7")
        return await self.db.fetchrow(
            f"""SELECT i.id, last.id AS result_id, last.status, last.report_enc
                FROM scoring_inquiries i {LATEST}
                WHERE i.provider = $1 AND i.report_type = $2 AND i.subject_bidx = $3 AND i.created_at >= $4
                  AND i.cached_from IS NULL {loan_clause}
                  AND (last.id IS NULL OR last.status IN ('done', 'no_data', 'pending'))
                ORDER BY i.created_at DESC LIMIT 1""", *args)

    async def by_reference(self, reference: str) -> list[Inquiry]:
        return await self.search(InquiryFilter(reference=reference), limit=200)

    # -- results ------------------------------------------------------------------------------------

    async def append_result(self, conn: asyncpg.Connection, inquiry_id: UUID, source: str, result: ScoringResult,
                            report_enc: bytes | None, duration_ms: int | None, now: dt.datetime) -> int:
        return await conn.fetchval(
            """INSERT INTO scoring_results (inquiry_id, attempt, source, status, score, provider_decision, report_ref,
                   error_code, error, retryable, report_enc, duration_ms, received_at)
               VALUES ($1, (SELECT count(*) + 1 FROM scoring_results WHERE inquiry_id = $1), $2, $3, $4, $5, $6,
                       $7, $8, $9, $10, $11, $12) RETURNING id""",
            inquiry_id, source, result.status.value, result.score,
            result.decision if result.decision in ("approve", "decline", "review") else None,
            result.report_ref[:200], result.error_code[:100], result.error[:4000], result.retryable, report_enc,
            duration_ms, now)

    async def waiting_followers(self, conn: asyncpg.Connection, source_id: UUID) -> list[UUID]:
        """Inquiries reusing ``source_id``'s report that have no final answer yet."""
        rows = await conn.fetch(
            f"""SELECT i.id FROM scoring_inquiries i {LATEST}
                WHERE i.cached_from = $1 AND (last.id IS NULL OR last.status = 'pending')""", source_id)
        return [r["id"] for r in rows]

    # -- the polling queue -----------------------------------------------------------------------------

    async def open_poll(self, conn: asyncpg.Connection, inquiry_id: UUID, *, next_at: dt.datetime,
                        claimed_until: dt.datetime, give_up_at: dt.datetime) -> bool:
        """Queue an inquiry whose call is starting, claimed by the caller; False if it is queued already."""
        done = await conn.execute(
            """INSERT INTO scoring_polls (inquiry_id, next_at, claimed_until, give_up_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (inquiry_id) DO NOTHING""", inquiry_id, next_at, claimed_until, give_up_at)
        return done.endswith(" 1")

    async def wait_again(self, conn: asyncpg.Connection, inquiry_id: UUID, *, report_ref: str, now: dt.datetime,
                         first_after_s: int, max_interval_s: int, give_up_at: dt.datetime) -> None:
        """A PENDING answer: poll again later, backing off with each poll."""
        await conn.execute(
            """INSERT INTO scoring_polls (inquiry_id, report_ref, next_at, give_up_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (inquiry_id) DO UPDATE SET report_ref = EXCLUDED.report_ref, claimed_until = NULL,
                   next_at = $5::timestamptz + make_interval(secs => least($6::float8 * power(2, scoring_polls.polls),
                                                                           $7::float8))""",
            inquiry_id, report_ref, now + dt.timedelta(seconds=first_after_s), give_up_at, now, float(first_after_s),
            float(max_interval_s))

    async def close_poll(self, conn: asyncpg.Connection, inquiry_id: UUID) -> None:
        await conn.execute("DELETE FROM scoring_polls WHERE inquiry_id = $1", inquiry_id)

    async def claim_due(self, now: dt.datetime, lease_until: dt.datetime, limit: int) -> list[asyncpg.Record]:
        """Claim the inquiries due for a poll (or a second call); each is handled by one worker."""
        return await self.db.fetch(
            """UPDATE scoring_polls p SET claimed_until = $2, polls = p.polls + 1
               FROM (SELECT inquiry_id FROM scoring_polls
                     WHERE next_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1)
                     ORDER BY next_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
               WHERE p.inquiry_id = due.inquiry_id
               RETURNING p.inquiry_id, p.report_ref, p.polls, p.give_up_at""", now, lease_until, limit)

    async def poll_of(self, inquiry_id: UUID) -> asyncpg.Record | None:
        return await self.db.fetchrow("SELECT * FROM scoring_polls WHERE inquiry_id = $1", inquiry_id)

    # -- decisions ------------------------------------------------------------------------------------

    async def record_decision(self, *, reference: str, outcome: str, reasons: list[dict[str, Any]],
                              inquiry_ids: list[UUID], result_ids: list[int], policy_digest: str, decided_by: str,
                              now: dt.datetime) -> UUID:
        """Record a decision once: the same results under the same policy give back the first record."""
        async with self.db.transaction() as conn:
            created = await conn.fetchval(
                """INSERT INTO scoring_decisions (id, reference, outcome, reasons, inquiry_ids, result_ids,
                       policy_digest, decided_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                   ON CONFLICT (reference, policy_digest, result_ids) DO NOTHING RETURNING id""",
                uuid.uuid4(), reference, outcome, json.dumps(reasons), inquiry_ids, sorted(result_ids), policy_digest,
                decided_by, now)
            if created is not None:
                return created
            return await conn.fetchval(
                """SELECT id FROM scoring_decisions WHERE reference = $1 AND policy_digest = $2 AND result_ids = $3""",
                reference, policy_digest, sorted(result_ids))

    async def decisions(self, *, reference: str | None = None, inquiry_id: UUID | None = None,
                        limit: int = 50) -> list[DecisionRecord]:
        if inquiry_id is not None:
            rows = await self.db.fetch("""SELECT * FROM scoring_decisions WHERE $1 = ANY(inquiry_ids)
                                          ORDER BY created_at DESC LIMIT $2""", inquiry_id, limit)
        else:
            rows = await self.db.fetch("""SELECT * FROM scoring_decisions WHERE reference = $1
                                          ORDER BY created_at DESC LIMIT $2""", reference, limit)
        return [DecisionRecord(r["id"], r["reference"], r["outcome"], _json(r["reasons"]), list(r["inquiry_ids"]),
                               r["policy_digest"], r["decided_by"], r["created_at"]) for r in rows]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
