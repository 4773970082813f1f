"""Running a submission's checks, one round at a time, until each has a final answer.

A round claims the submission (pushing its ``next_attempt_at`` ahead, so two workers never
run the same one), calls every check that is due outside any transaction (providers can be
slow), and records each answer. A check that answered PENDING is polled with its
reference when the provider said, or after ``PENDING_DELAY``; one that failed to answer
(ERROR, a timeout, an exception) is asked again with a growing delay. After
``max_attempts`` a check stops, and a person decides.

When every check is final the submission moves on: verified when all passed, nothing is
flagged and ``auto_approve`` is on; otherwise to review.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.contracts.kyc import KycCheck, KycResult, KycStatus, KycSubject
from plugins.kyc.records import CheckRecord, State, Submission, SubmissionStore

if TYPE_CHECKING:
    from plugins.kyc.service import KycService

log = logging.getLogger("kopilka.kyc")

#: A round may take this long before another worker may take the submission over.
LEASE = dt.timedelta(minutes=5)
PENDING_DELAY = dt.timedelta(seconds=20)
MAX_ERROR_DELAY = dt.timedelta(hours=6)

N_ = str  # marks messages stored in English and translated when shown
NOT_ENABLED = N_("this check is not enabled any more")
CRASHED = N_("the check failed unexpectedly; it is logged")
TIMED_OUT = N_("the provider did not answer in time")
ERASED = N_("the documents were erased")


def error_delay(attempt: int) -> dt.timedelta:
    """30 s, 1 min, 2 min ... up to six hours."""
    return min(dt.timedelta(seconds=30 * 2 ** max(attempt - 1, 0)), MAX_ERROR_DELAY)


@dataclass(frozen=True)
class RoundOutcome:
    state: State
    #: When the next round is due (while still checking).
    next_at: dt.datetime | None = None


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CheckRunner:
    def __init__(self, service: KycService) -> None:
        self.service = service
        self.store: SubmissionStore = service.store
        self.settings = service.settings
        #: What "now" is for due dates (tests move it forward instead of waiting).
        self.clock = now

    def exhausted(self, record: CheckRecord | None) -> bool:
        return record is not None and not record.status.final and record.attempt >= self.settings.max_attempts

    def due(self, record: CheckRecord | None, at: dt.datetime) -> bool:
        if record is None:
            return True
        if record.status.final or self.exhausted(record):
            return False
        return record.retry_at is None or record.retry_at <= at

    async def run_round(self, submission_id) -> RoundOutcome | None:
        """One round for a due submission; None when it is not due or someone else has it."""
        submission = await self.store.claim(submission_id, self.clock(), LEASE)
        if submission is None:
            return None
        subject = await self.store.subject(submission.id)
        latest = await self.store.latest_results(submission)
        for name in submission.checks:
            record = latest.get(name)
            if not self.due(record, self.clock()):
                continue
            attempt = (record.attempt + 1) if record else 1
            if subject is None:
                result = KycResult(KycStatus.FAILED, name, reasons=(ERASED,))
            else:
                result = await self.call(name, subject, record)
            latest[name] = await self.store.append_result(
                submission, result, attempt, self.retry_at(result, attempt)
            )
        return await self.conclude(submission, latest)

    async def call(self, name: str, subject: KycSubject, previous: CheckRecord | None) -> KycResult:
        """Ask one check; whatever happens, an answer comes back (a provider's trouble is ERROR)."""
        registry = self.service.registry
        if name not in registry:
            return KycResult(KycStatus.ERROR, name, reasons=(NOT_ENABLED,))
        check: KycCheck = registry.get(name)
        try:
            async with asyncio.timeout(self.settings.check_timeout_s):
                if previous is not None and previous.status is KycStatus.PENDING and previous.reference:
                    result = await check.poll(subject, previous.reference)
                else:
                    result = await check.check(subject)
        except TimeoutError:
            return KycResult(KycStatus.ERROR, name, reasons=(TIMED_OUT,))
        except Exception:
            log.exception("kyc check %s crashed on submission %s", name, subject.reference)
            return KycResult(KycStatus.ERROR, name, reasons=(CRASHED,))
        if not isinstance(result, KycResult):
            log.error("kyc check %s answered %r, not a KycResult", name, result)
            return KycResult(KycStatus.ERROR, name, reasons=(CRASHED,))
        if result.check != name:  # a check answers for itself, whatever it wrote
            result = KycResult(result.status, name, result.reasons, result.reference, result.retry_after_s,
                               result.details)
        return result

    def retry_at(self, result: KycResult, attempt: int) -> dt.datetime | None:
        status = KycStatus(result.status)
        if status.final:
            return None
        if result.retry_after_s is not None:
            delay = dt.timedelta(seconds=max(1, min(result.retry_after_s, 86_400)))
        elif status is KycStatus.PENDING:
            delay = PENDING_DELAY
        else:
            delay = error_delay(attempt)
        return self.clock() + delay

    async def conclude(self, submission: Submission, latest: dict[str, CheckRecord]) -> RoundOutcome:
        records = [latest.get(name) for name in submission.checks]
        waiting = [r for r in records if r is None or not (r.status.final or self.exhausted(r))]
        if waiting:
            next_at = min((r.retry_at for r in waiting if r is not None and r.retry_at), default=self.clock())
            await self.store.reschedule(submission.id, next_at)
            return RoundOutcome(State.CHECKING, next_at)
        passed = all(r is not None and r.status is KycStatus.PASSED for r in records)
        if passed and not submission.flags and self.settings.auto_approve:
            await self.service.move(submission, State.VERIFIED, decided=True)
            return RoundOutcome(State.VERIFIED)
        await self.service.move(submission, State.REVIEW)
        return RoundOutcome(State.REVIEW)
