"""KycService: a customer's identity verification, from the documents they give to a decision.

``kyc = platform.service(KycService)``:

* ``await kyc.submit(user_id, fields)``: read and validate the form (400 naming each wrong
  field), store it encrypted, supersede the previous submission and start the checks;
* ``await kyc.status(user_id)`` -> :class:`Verification`; ``await kyc.is_verified(user_id)``;
  ``await kyc.require_verified(user_id)`` raises 403 with where to go for other plugins' routes;
* ``await kyc.approve / reject / recheck(submission_id, by=identity, reason=...)``: a
  reviewer's decisions, audited;
* ``await kyc.run_round(submission_id)`` / ``run_due()``: the checks (tasks call these).

Every change of a customer's state fires ``on_kyc_status_changed`` after it commits and tells
the customer (verified, rejected) or the reviewers (a submission waits for them).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from litestar.exceptions import (
    ClientException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)

from core.access import Identity
from core.access.audit import AuditLog
from core.access.inputs import plain_text
from core.access.ratelimit import Limit, RateLimiter
from core.contracts.kyc import KycCheck, KycProblem, KycStatus, applies_to
from core.web.i18n import gettext as _
from plugins.kyc import notices
from plugins.kyc.documents import KIND_FIELDS, read_subject
from plugins.kyc.records import STATE_LABELS, CheckRecord, State, Submission, SubmissionStore
from plugins.kyc.runner import CheckRunner, RoundOutcome

if TYPE_CHECKING:
    from core.platform import Platform, Registry
    from plugins.kyc.settings import KycSettings

N_ = str
#: Rounds ``run_due`` runs at the same time.
ROUNDS_AT_ONCE = 4
#: Why a submission goes to a person whatever its checks say (flags), in English for reviewers.
FLAG_TEXTS = {
    "duplicate_itn": N_("another account uses the same taxpayer number"),
    "duplicate_passport": N_("another account uses the same passport"),
    "duplicate_snils": N_("another account uses the same SNILS"),
}


@dataclass(frozen=True)
class Verification:
    """A customer's verification: the state of their current submission (``none`` without one)."""

    user_id: UUID
    state: State
    submission: Submission | None = None

    @property
    def verified(self) -> bool:
        return self.state is State.VERIFIED

    def public(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "verified": self.verified,
            "submission": self.submission.public() if self.submission else None,
        }


@dataclass(frozen=True)
class SubmissionView:
    """A submission with its checks' history; ``values`` (the decrypted form) only for a reviewer."""

    submission: Submission
    results: list[CheckRecord]
    values: dict[str, str] = field(default_factory=dict)


def invalid(problems: Sequence[KycProblem]) -> ValidationException:
    """A 400 naming every wrong field (the form shows each message next to its field)."""
    extra = [{"key": p.field, "message": _(p.message), "source": "body"} for p in problems]
    first = extra[0]
    return ValidationException(f"{first['key']}: {first['message']}", extra=extra)


class KycService:
    def __init__(self, platform: Platform, settings: KycSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.store = SubmissionStore(platform)
        self.runner = CheckRunner(self)

    @property
    def db(self):
        return self.platform.db

    @property
    def registry(self) -> Registry[KycCheck]:
        return self.platform.registry("kyc_checks")

    @property
    def audit(self) -> AuditLog:
        return self.platform.service(AuditLog)

    # -- what the form asks for ----------------------------------------------------------------

    def checks(self) -> list[KycCheck]:
        return list(self.registry)

    def offered_kinds(self) -> list[str]:
        """Document kinds some enabled check reads, in the form's order."""
        needed = {kind for check in self.registry for kind in check.document_kinds}
        return [kind for kind in KIND_FIELDS if kind in needed]

    def required_kinds(self) -> list[str]:
        return [k for k in self.offered_kinds() if k in self.settings.required_documents]

    def validate(self, fields: Mapping[str, Any], *, today: dt.date | None = None):
        """Read the form; raise 400 naming each wrong field. Returns the subject."""
        today = today or dt.date.today()
        reading = read_subject(
            fields,
            offered=self.offered_kinds(),
            required=self.required_kinds(),
            min_age=self.settings.min_age,
            today=today,
        )
        problems = list(reading.problems)
        for check in self.registry:
            problems.extend(check.validate(reading.subject))
        consent = str(fields.get("consent") or "").lower() in ("1", "true", "on", "yes")
        if not consent:
            problems.append(KycProblem("consent", _("agree to the processing of your personal data to go on")))
        if problems:
            unique = list({(p.field, p.message): p for p in problems}.values())
            raise invalid(unique)
        return reading.subject

    # -- the customer's side ------------------------------------------------------------------------

    async def submit(self, user_id: UUID, fields: Mapping[str, Any]) -> Submission:
        """Store what the customer gave (replacing an earlier submission) and start checking it."""
        subject = self.validate(fields)
        limit = Limit("kyc.submit.user", self.settings.submissions_per_day, 86_400)
        decision = await self.platform.service(RateLimiter).peek(limit, str(user_id))
        decision.raise_if_denied(_("too many submissions today; try again tomorrow"))
        submission_id = uuid4()
        subject = _with_reference(subject, str(submission_id))
        checks = [c.name for c in self.registry if applies_to(c, subject)]
        async with self.db.transaction():
            # One submission of a customer at a time (two tabs sending at once would both find no current one).
            await self.db.execute("SELECT pg_advisory_xact_lock(hashtext('kyc.submit'), hashtext($1))", str(user_id))
            previous = await self.store.current(user_id, for_update=True)
            flags = [
                f"duplicate_{kind}"
                for kind, document in sorted(subject.documents.items())
                if await self.store.others_with(user_id, kind, document.number)
            ]
            if previous is not None:
                await self.store.supersede(user_id)
            submission = await self.store.insert(submission_id, user_id, subject, checks, flags)
            await self.platform.service(RateLimiter).hit(limit, str(user_id))
            await self.audit.record(
                action="kyc.submitted",
                target=f"user:{user_id}",
                details={"submission": str(submission_id), "documents": list(submission.documents),
                         "checks": checks, "flags": flags},
            )
            old_state = previous.state if previous is not None else State.NONE
            self._announce(user_id, submission, old_state, State.CHECKING)
            await self._kick(submission.id)
        return submission

    async def status(self, user_id: UUID) -> Verification:
        current = await self.store.current(user_id)
        return Verification(user_id, current.state if current else State.NONE, current)

    async def is_verified(self, user_id: UUID) -> bool:
        return (await self.status(user_id)).verified

    async def require_verified(self, user_id: UUID) -> None:
        """For other plugins' routes: 403 telling the customer where to verify, unless verified."""
        if not await self.is_verified(user_id):
            raise PermissionDeniedException(_("verify your identity first: /kyc"))

    async def history(self, user_id: UUID) -> list[Submission]:
        return await self.store.of_user(user_id)

    async def own_submission(self, user_id: UUID, submission_id: UUID) -> SubmissionView:
        """A customer's own submission; another's answers 404, exactly like one that does not exist."""
        submission = await self.store.get(submission_id)
        if submission is None or submission.user_id != user_id:
            raise NotFoundException(_("you have no submission %(id)s", id=submission_id))
        return SubmissionView(submission, await self.store.history(submission_id))

    # -- running the checks ------------------------------------------------------------------------

    async def run_round(self, submission_id: UUID) -> RoundOutcome | None:
        outcome = await self.runner.run_round(submission_id)
        if outcome is not None and outcome.state is State.CHECKING and outcome.next_at is not None:
            delay = (outcome.next_at - self.runner.clock()).total_seconds()
            if delay < 600:  # soon: a delayed task; later ones are found by kyc.poll
                await self._kick(submission_id, delay_s=max(1, int(delay) + 1))
        return outcome

    async def run_due(self, limit: int = 100) -> dict[str, int]:
        """A round for every submission whose checks are due (``kyc.poll``)."""
        counts: dict[str, int] = {}
        gate = asyncio.Semaphore(ROUNDS_AT_ONCE)  # providers are slow: a few at a time, not one by one

        async def one(submission_id: UUID) -> None:
            async with gate:
                outcome = await self.runner.run_round(submission_id)
            key = outcome.state.value if outcome else "skipped"
            counts[key] = counts.get(key, 0) + 1

        await asyncio.gather(*(one(s) for s in await self.store.due(self.runner.clock(), limit)))
        return counts

    async def move(
        self,
        submission: Submission,
        new_state: State,
        *,
        by: Identity | None = None,
        reason: str | None = None,
        decided: bool = False,
        expect: Sequence[State] = (State.CHECKING,),
    ) -> Submission | None:
        """Change a submission's state if it is still as ``expect``s; None (nothing done) otherwise."""
        async with self.db.transaction():
            current = await self.store.get(submission.id, for_update=True)
            if current is None or current.state not in expect or current.round != submission.round:
                return None
            moved = await self.store.set_state(
                submission.id, new_state, decided_by=by.user_id if by else None, reason=reason, decided=decided
            )
            self._announce(moved.user_id, moved, current.state, new_state)
            await notices.state_changed(self.platform, self.settings, moved)
        return moved

    async def monitor(self, check_name: str, batch: int = 200) -> dict[str, int]:
        """Run ``check_name`` again for every verified customer; one that now fails goes back to review.

        For checks whose source changes under verified customers (a passport reported stolen
        after it was verified). Passing answers are not recorded (they would repeat daily);
        a failing one is, and the customer waits for a reviewer, who is told. The customer is
        not told: they may be the subject of the report.
        """
        counts = {"checked": 0, "failed": 0}
        if check_name not in self.registry:
            return counts
        after = None
        while chunk := await self.store.verified_with(check_name, after=after, limit=batch):
            after = chunk[-1].id
            for submission in chunk:
                subject = await self.store.subject(submission.id)
                if subject is None:
                    continue
                counts["checked"] += 1
                result = await self.runner.call(check_name, subject, None)
                if result.status is not KycStatus.FAILED:
                    continue
                # The failing answer and the move back to review go together: a submission a
                # reviewer changed meanwhile gets neither.
                async with self.db.transaction():
                    moved = await self.move(submission, State.REVIEW, expect=(State.VERIFIED,))
                    if moved is None:
                        continue
                    latest = (await self.store.latest_results(submission)).get(check_name)
                    await self.store.append_result(submission, result, (latest.attempt + 1) if latest else 1, None)
                    counts["failed"] += 1
                    await self.audit.record(action="kyc.monitoring_failed", actor="kyc.monitor",
                                            target=f"user:{moved.user_id}",
                                            details={"submission": str(moved.id), "check": check_name})
        return counts

    # -- the reviewer's side ----------------------------------------------------------------------------

    async def queue(
        self, states: Sequence[State] = (State.REVIEW,), *, after: tuple[dt.datetime, UUID] | None = None,
        limit: int = 50,
    ) -> list[Submission]:
        return await self.store.in_state(states, after=after, limit=limit)

    async def counts(self) -> dict[str, int]:
        return await self.store.counts()

    async def review_view(self, submission_id: UUID, *, viewer: Identity) -> SubmissionView:
        """A submission decrypted for a reviewer; the view is audited."""
        from plugins.kyc.documents import form_values

        submission = await self._get(submission_id)
        subject = await self.store.subject(submission_id)
        await self.audit.record(
            action="kyc.submission_viewed", actor=viewer, target=f"user:{submission.user_id}",
            details={"submission": str(submission_id)},
        )
        return SubmissionView(
            submission,
            await self.store.history(submission_id, decrypt=True),
            form_values(subject) if subject else {},
        )

    async def approve(self, submission_id: UUID, *, by: Identity, reason: str = "") -> Submission:
        submission = await self._decidable(submission_id, by)
        reason = plain_text(reason, 500)
        latest = await self.store.latest_results(submission)
        if not reason and (
            submission.flags or any(r.status.value != "passed" for r in latest.values())
            or len(latest) < len(submission.checks)
        ):
            raise ValidationException(
                _("reason: say why you verify this customer although a check did not pass"),
                extra=[{"key": "reason", "message": _("say why you verify this customer although a check did not pass"),
                        "source": "body"}],
            )
        return await self._decide(submission, State.VERIFIED, by, reason, "kyc.approved",
                                  expect=(State.CHECKING, State.REVIEW))

    async def reject(self, submission_id: UUID, *, by: Identity, reason: str) -> Submission:
        submission = await self._decidable(submission_id, by)
        reason = plain_text(reason, 500)
        if not reason:
            raise ValidationException(
                _("reason: tell the customer what to correct"),
                extra=[{"key": "reason", "message": _("tell the customer what to correct"), "source": "body"}],
            )
        return await self._decide(submission, State.REJECTED, by, reason, "kyc.rejected",
                                  expect=(State.CHECKING, State.REVIEW, State.VERIFIED))

    async def recheck(self, submission_id: UUID, *, by: Identity) -> Submission:
        """Run every check again (a new round), e.g. after a provider's outage."""
        await self._decidable(submission_id, by)
        async with self.db.transaction():
            current = await self.store.get(submission_id, for_update=True)
            if current is None or current.state not in (State.CHECKING, State.REVIEW, State.REJECTED):
                raise ClientException(_("only a submission being checked, reviewed or rejected can be checked again"),
                                      status_code=409)
            moved = await self.store.new_round(submission_id)
            await self.audit.record(action="kyc.rechecked", actor=by, target=f"user:{moved.user_id}",
                                    details={"submission": str(submission_id), "round": moved.round})
            if current.state is not State.CHECKING:
                self._announce(moved.user_id, moved, current.state, State.CHECKING)
            await self._kick(submission_id)
        return moved

    async def _get(self, submission_id: UUID) -> Submission:
        submission = await self.store.get(submission_id)
        if submission is None:
            raise NotFoundException(_("no submission %(id)s", id=submission_id))
        return submission

    async def _decidable(self, submission_id: UUID, by: Identity) -> Submission:
        submission = await self._get(submission_id)
        if submission.user_id == by.user_id:
            raise PermissionDeniedException(_("you cannot review your own documents"))
        return submission

    async def _decide(
        self, submission: Submission, state: State, by: Identity, reason: str, action: str,
        expect: Sequence[State],
    ) -> Submission:
        async with self.db.transaction():
            current = await self.store.get(submission.id, for_update=True)
            assert current is not None
            if current.state not in expect:
                raise ClientException(
                    _("this submission is %(state)s already", state=_(STATE_LABELS[current.state])), status_code=409
                )
            moved = await self.move(current, state, by=by, reason=reason or None, decided=True, expect=expect)
            assert moved is not None
            await self.audit.record(action=action, actor=by, target=f"user:{moved.user_id}",
                                    details={"submission": str(moved.id), "from": current.state.value,
                                             "reason": reason})
        return moved

    # -- housekeeping ----------------------------------------------------------------------------------------

    async def erase_expired(self) -> int:
        """Erase the documents of accounts deleted more than ``retention_years`` ago."""
        years = self.settings.retention_years
        return await self.store.erase_deleted_users(dt.timedelta(days=365 * years + years // 4))

    # -- plumbing ---------------------------------------------------------------------------------------------

    async def _kick(self, submission_id: UUID, delay_s: int | None = None) -> None:
        from core.jobs.runtime import Jobs

        await self.platform.service(Jobs).kick("kyc.run_checks", delay_s=delay_s, submission_id=str(submission_id))

    def _announce(self, user_id: UUID, submission: Submission, old: State, new: State) -> None:
        if old == new:
            return
        platform = self.platform
        verification = Verification(user_id, new, submission)

        async def emit() -> None:
            await platform.plugins.emit("on_kyc_status_changed", platform=platform, verification=verification,
                                        old_status=old.value, new_status=new.value)

        platform.db.after_commit(emit)


def _with_reference(subject, reference: str):
    import dataclasses

    return dataclasses.replace(subject, reference=reference)
