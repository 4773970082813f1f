"""The scoring service: inquiries to bureaus and scoring services, kept, cached, polled and judged.

Other plugins use it through ``platform.service(ScoringService)``:

* ``await scoring.inquire("ubki", ScoringRequest(...), reference="loan:42")`` asks one
  provider. The request id makes it idempotent: asking again with the same id returns
  the same inquiry and never pays the provider twice (unless its last answer was a
  retryable error: then it is asked again). A consent reference is required and kept.
  A fresh report about the same person (``cache_hours``) is reused instead of a new call.
* ``await scoring.assess("loan:42", applicant, consent_ref=..., amount=..., term_days=...)``
  asks every provider the policy uses (the reference is the request id) and returns the
  policy's decision: approve, decline, review, or pending while an answer is awaited;
  ``on_scoring_completed`` fires when a pending inquiry is answered, and
  ``await scoring.assessment("loan:42")`` decides again from what is stored, asking no one.

Every inquiry and every answer is stored, append-only; the applicant and the reports are
encrypted with the platform's ``PiiCipher``. The provider is called outside any database
transaction: the inquiry is committed first (with a claim in the polling queue), so a
process that stops mid-call leaves an inquiry the polling task asks again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from core.access import context as request_context
from core.access.pii import PiiCipher
from core.contracts.scoring import (
    Applicant,
    ScoringProvider,
    ScoringRequest,
    ScoringResult,
    ScoringStatus,
)
from core.money import Money
from plugins.scoring.policy import Decision, Outcome, decide
from plugins.scoring.records import (
    APPLICANT_CONTEXT,
    REPORT_CONTEXT,
    Assessment,
    DecisionRecord,
    Inquiry,
    Report,
    StoredResult,
    applicant_from_json,
    applicant_json,
    subject_key,
)
from plugins.scoring.store import InquiryFilter, Store, inquiry_of, result_of

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.scoring.settings import ScoringSettings

log = logging.getLogger("kopilka.scoring")

#: Error codes the service itself writes.
PROVIDER_CRASHED = "provider_crashed"
PROVIDER_DISABLED = "provider_disabled"
GAVE_UP = "gave_up"


class ScoringError(Exception):
    """A request the service refuses; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidInquiry(ScoringError, ValueError):
    """Bad or missing input (HTTP 422)."""


class RequestIdConflict(ScoringError):
    """The request id was used before for another applicant (HTTP 409)."""


class UnknownInquiry(ScoringError, LookupError):
    """No such inquiry (HTTP 404)."""


def _check_text(field: str, value: str, limit: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInquiry(field, "is required")
    if len(value) > limit:
        raise InvalidInquiry(field, f"is longer than {limit} characters")
    if any(ord(ch) < 32 for ch in value):
        raise InvalidInquiry(field, "contains control characters")
    return value


def check_request(request: ScoringRequest) -> None:
    """Refuse what no provider should be asked with (the provider checks its own needs)."""
    _check_text("request_id", request.request_id, 200)
    _check_text("consent_ref", request.consent_ref, 200)
    _check_text("report_type", request.report_type, 50, required=False)
    a = request.applicant
    _check_text("applicant.last_name", a.last_name, 100)
    _check_text("applicant.first_name", a.first_name, 100)
    for name in ("middle_name", "taxpayer_number", "passport", "phone", "gender"):
        _check_text(f"applicant.{name}", getattr(a, name), 100, required=False)
    if a.birth_date is not None and not dt.date(1900, 1, 1) <= a.birth_date <= dt.date.today():
        raise InvalidInquiry("applicant.birth_date", "is not a plausible date of birth")
    if request.amount is not None and request.amount.minor <= 0:
        raise InvalidInquiry("amount", "must be positive")
    if request.term_days is not None and not 0 < request.term_days <= 36500:
        raise InvalidInquiry("term_days", "must be between 1 and 36500")


def current_actor() -> str:
    info = request_context.current()
    return info.identity.actor if info.identity.is_authenticated else info.actor


class ScoringService:
    def __init__(self, platform: Platform, settings: ScoringSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.store = Store(platform.db)
        #: The service's clock; tests move it.
        self.clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    # -- providers and the cipher ------------------------------------------------------------------

    @property
    def cipher(self) -> PiiCipher:
        return self.platform.service(PiiCipher)

    def providers(self) -> list[ScoringProvider]:
        return list(self.platform.registry("scoring_providers"))

    def provider(self, name: str) -> ScoringProvider:
        registry = self.platform.registry("scoring_providers")
        if name not in registry:
            enabled = ", ".join(registry.names()) or "none"
            raise InvalidInquiry("provider", f"unknown provider {name!r}; enabled: {enabled}")
        return registry.get(name)

    def _subject_index(self, applicant: Applicant) -> bytes:
        return self.cipher.blind_index(subject_key(applicant), context=APPLICANT_CONTEXT)

    def subject_index_of_itn(self, taxpayer_number: str) -> bytes:
        """The blind index that finds the inquiries about the holder of a taxpayer number."""
        return self._subject_index(Applicant(last_name="", first_name="", taxpayer_number=taxpayer_number))

    async def applicant_of_user(self, user_id: UUID, *, last_name: str, first_name: str, middle_name: str = "",
                                birth_date: dt.date | None = None, gender: str = "") -> Applicant:
        """The applicant for a platform user: the names the application gives, and the user's
        taxpayer number, passport and phone as ``core.users`` keeps them (the lending product
        passes ``user_id`` on to :meth:`assess` too, so the inquiries are found by user)."""
        from core.users.service import Users

        users = self.platform.service(Users)
        user = await users.get(user_id)
        personal = await users.personal_data(user_id)
        return Applicant(last_name=last_name, first_name=first_name, middle_name=middle_name, birth_date=birth_date,
                         taxpayer_number=personal.itn or "", passport=personal.passport or "",
                         phone=user.phone or "", gender=gender)

    # -- reading ----------------------------------------------------------------------------------------

    async def get(self, inquiry_id: UUID, *, with_personal: bool = False) -> Inquiry:
        """One inquiry; with ``with_personal`` also the applicant and every answer with its report."""
        row = await self.store.inquiry_row(inquiry_id=inquiry_id)
        if row is None:
            raise UnknownInquiry("inquiry", f"no inquiry {inquiry_id}")
        return await self._inquiry(row, with_personal=with_personal)

    async def find(self, provider: str, request_id: str) -> Inquiry | None:
        row = await self.store.inquiry_row(provider=provider, request_id=request_id)
        return None if row is None else await self._inquiry(row)

    async def search(self, filters: InquiryFilter | None = None, *, limit: int = 50, offset: int = 0) -> list[Inquiry]:
        return await self.store.search(filters or InquiryFilter(), limit=limit, offset=offset)

    async def decisions(self, *, reference: str | None = None, inquiry_id: UUID | None = None
                        ) -> list[DecisionRecord]:
        return await self.store.decisions(reference=reference, inquiry_id=inquiry_id)

    async def _inquiry(self, row: Any, *, with_personal: bool = False) -> Inquiry:
        latest = result_of(row, "r_")
        inquiry = inquiry_of(row, latest)
        if not with_personal:
            return inquiry
        applicant = applicant_from_json(self.cipher.decrypt(row["applicant_enc"], context=APPLICANT_CONTEXT))
        history = tuple(self._with_report(r) for r in await self.store.history(inquiry.id))
        return replace(inquiry, applicant=applicant, history=history, result=history[-1] if history else None)

    def _with_report(self, row: Any) -> StoredResult:
        stored = result_of(row)
        assert stored is not None
        report = None
        if row["report_enc"] is not None:
            report = Report.from_json(self.cipher.decrypt(row["report_enc"], context=REPORT_CONTEXT))
        return replace(stored, report=report)

    async def _latest_with_report(self, inquiry: Inquiry) -> StoredResult | None:
        """The latest answer with its factors (the policy needs them)."""
        row = await self.store.inquiry_row(inquiry_id=inquiry.id)
        if row is None or row["r_id"] is None:
            return None
        stored = result_of(row, "r_")
        assert stored is not None
        if row["r_report_enc"] is None:
            return stored
        report = Report.from_json(self.cipher.decrypt(row["r_report_enc"], context=REPORT_CONTEXT))
        return replace(stored, report=report)

    # -- asking -----------------------------------------------------------------------------------------

    async def inquire(self, provider: str, request: ScoringRequest, *, reference: str = "",
                      user_id: UUID | None = None, requested_by: str | None = None, retry: bool = True) -> Inquiry:
        """Ask ``provider`` about ``request.applicant`` once per ``request.request_id`` (see the module doc).

        Call it outside a database transaction: the provider is asked after the inquiry is
        committed. Raises :class:`InvalidInquiry` and :class:`RequestIdConflict`, never for
        what the provider answered.
        """
        check_request(request)
        reference = _check_text("reference", reference, 200, required=False)
        chosen = self.provider(provider)
        subject = self._subject_index(request.applicant)
        existing = await self.store.inquiry_row(provider=provider, request_id=request.request_id.strip())
        if existing is not None:
            return await self._replay(existing, subject, retry=retry and self.settings.retry_errors)
        now = self.clock()
        source = None
        cache_days = self.settings.policy.for_provider(provider).cache_days
        cache_days = self.settings.cache_days if cache_days is None else cache_days
        if cache_days > 0:
            loan = None
            if chosen.depends_on_loan:
                loan = (request.amount.minor if request.amount else None,
                        request.amount.currency if request.amount else None, request.term_days)
            source = await self.store.cache_source(
                provider=provider, report_type=request.report_type, subject_bidx=subject,
                since=now - dt.timedelta(days=cache_days), loan=loan)
        async with self.platform.db.transaction() as conn:
            inquiry_id = await self.store.insert_inquiry(
                conn, provider=provider, request_id=request.request_id.strip(), reference=reference,
                report_type=request.report_type, subject_bidx=subject,
                applicant_enc=self.cipher.encrypt(applicant_json(request.applicant), context=APPLICANT_CONTEXT),
                consent_ref=request.consent_ref.strip(), amount=request.amount, term_days=request.term_days,
                cached_from=source["id"] if source else None, user_id=user_id,
                requested_by=requested_by or current_actor(), now=now)
            if inquiry_id is None:  # the same request id won a race with us: it is a replay
                raced = await self.store.inquiry_row(provider=provider, request_id=request.request_id.strip())
                assert raced is not None
                return await self._inquiry(raced)
            if source is not None:
                if source["result_id"] is not None and source["status"] != ScoringStatus.PENDING.value:
                    await self._copy(conn, source["result_id"], [inquiry_id], now)
                    self._announce_after_commit([inquiry_id])
            else:
                await self.store.open_poll(conn, inquiry_id, next_at=now + self._lease(), claimed_until=now +
                                           self._lease(), give_up_at=now + self._give_up())
        if source is None:
            await self._ask(inquiry_id, provider, chosen.score(request), source="provider")
        return await self.get(inquiry_id)

    async def _replay(self, row: Any, subject: bytes, *, retry: bool) -> Inquiry:
        if bytes(row["subject_bidx"]) != subject:
            raise RequestIdConflict("request_id", f"{row['request_id']!r} was used for another applicant at "
                                                  f"{row['provider']}")
        inquiry = await self._inquiry(row)
        last = inquiry.result
        if last is None or last.status is not ScoringStatus.ERROR or not last.retryable or not retry:
            return inquiry
        return await self.retry(inquiry.id)

    async def retry(self, inquiry_id: UUID) -> Inquiry:
        """Ask the provider again for an inquiry whose last answer was a retryable error.

        Anything else (an answer, a refusal, a call in flight) is returned as it is.
        """
        inquiry = await self.get(inquiry_id, with_personal=True)
        last = inquiry.result
        if last is None or last.status is not ScoringStatus.ERROR or not last.retryable:
            return await self.get(inquiry_id)
        now = self.clock()
        async with self.platform.db.transaction() as conn:
            claimed = await self.store.open_poll(conn, inquiry_id, next_at=now + self._lease(),
                                                 claimed_until=now + self._lease(), give_up_at=now + self._give_up())
        if claimed:
            provider = self.provider(inquiry.provider)
            await self._ask(inquiry_id, inquiry.provider, provider.score(self._request_of(inquiry)), source="provider")
        return await self.get(inquiry_id)

    def _request_of(self, inquiry: Inquiry) -> ScoringRequest:
        assert inquiry.applicant is not None
        return ScoringRequest(request_id=inquiry.request_id, applicant=inquiry.applicant, amount=inquiry.amount,
                              term_days=inquiry.term_days, consent_ref=inquiry.consent_ref,
                              report_type=inquiry.report_type)

    def _lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.settings.stale_call_after_s)

    def _give_up(self) -> dt.timedelta:
        return dt.timedelta(hours=self.settings.give_up_after_hours)

    async def _ask(self, inquiry_id: UUID, provider: str, call: Awaitable[ScoringResult], *, source: str) -> None:
        """Await the provider's answer and record it; a provider that raises is recorded as an error."""
        started = time.monotonic()
        try:
            result = await call
            if not isinstance(result, ScoringResult):
                raise TypeError(f"{provider} answered {type(result).__name__}, not a ScoringResult")
        except Exception as exc:  # a provider's bug must not leave the inquiry without an answer
            log.exception("scoring provider %s raised", provider)
            result = ScoringResult(ScoringStatus.ERROR, provider, error_code=PROVIDER_CRASHED,
                                   error=f"the provider plugin failed: {exc!r}"[:500])
        await self.record(inquiry_id, result, source=source, duration_ms=int((time.monotonic() - started) * 1000))

    async def record(self, inquiry_id: UUID, result: ScoringResult, *, source: str,
                     duration_ms: int | None = None) -> int:
        """Append an answer to an inquiry (and to those reusing its report); queue or close its poll."""
        now = self.clock()
        report = Report(dict(result.details), dict(result.factors), result.document)
        has_report = bool(result.details or result.factors or result.document)
        encrypted = self.cipher.encrypt(report.to_json(), context=REPORT_CONTEXT) if has_report else None
        async with self.platform.db.transaction() as conn:
            result_id = await self.store.append_result(conn, inquiry_id, source, result, encrypted, duration_ms, now)
            if result.status is ScoringStatus.PENDING:
                await self.store.wait_again(conn, inquiry_id, report_ref=result.report_ref, now=now,
                                            first_after_s=self.settings.first_poll_after_s,
                                            max_interval_s=self.settings.max_poll_interval_s,
                                            give_up_at=now + self._give_up())
            else:
                await self.store.close_poll(conn, inquiry_id)
                followers = await self.store.waiting_followers(conn, inquiry_id)
                await self._copy(conn, result_id, followers, now)
                self._announce_after_commit([inquiry_id, *followers])
        return result_id

    async def _copy(self, conn: Any, result_id: int, inquiry_ids: list[UUID], now: dt.datetime) -> None:
        """Give ``inquiry_ids`` the answer ``result_id`` (the report is reused, not bought again)."""
        if not inquiry_ids:
            return
        await conn.execute(
            """INSERT INTO scoring_results (inquiry_id, attempt, source, status, score, provider_decision, report_ref,
                   error_code, error, retryable, report_enc, duration_ms, received_at)
               SELECT target, (SELECT count(*) + 1 FROM scoring_results WHERE inquiry_id = target), 'cache', status,
                      score, provider_decision, report_ref, error_code, error, retryable, report_enc, 0, $3
               FROM scoring_results, unnest($2::uuid[]) AS target WHERE id = $1""", result_id, inquiry_ids, now)

    def _announce_after_commit(self, inquiry_ids: list[UUID]) -> None:
        """``on_scoring_completed`` for each inquiry, once the transaction that answered them commits."""
        ids = list(inquiry_ids)
        self.platform.db.after_commit(lambda: self._emit(ids))

    async def _emit(self, inquiry_ids: list[UUID]) -> None:
        for inquiry_id in inquiry_ids:
            inquiry = await self.get(inquiry_id)
            await self.platform.plugins.emit("on_scoring_completed", platform=self.platform, inquiry=inquiry)

    # -- polling -------------------------------------------------------------------------------------------

    async def poll_due(self) -> int:
        """Ask again about every inquiry that is due: poll PENDING ones, re-ask calls that never came back."""
        now = self.clock()
        claimed = await self.store.claim_due(now, now + self._lease(), self.settings.poll_batch)
        limit = asyncio.Semaphore(self.settings.poll_concurrency)

        async def one(row: Any) -> None:
            async with limit:
                await self._poll_one(row, now)

        await asyncio.gather(*(one(row) for row in claimed))
        return len(claimed)

    async def _poll_one(self, row: Any, now: dt.datetime) -> None:
        await self._answer_due(row, now)
        inquiry = await self.get(row["inquiry_id"])
        if self.settings.policy.fallback and inquiry.reference and inquiry.request_id == inquiry.reference and \
                inquiry.final and inquiry.result is not None and inquiry.result.status is ScoringStatus.ERROR:
            await self.resume(inquiry.reference)  # the walk goes on to the next provider

    async def _answer_due(self, row: Any, now: dt.datetime) -> None:
        inquiry_id: UUID = row["inquiry_id"]
        inquiry = await self.get(inquiry_id, with_personal=True)
        registry = self.platform.registry("scoring_providers")
        if now >= row["give_up_at"]:
            await self.record(inquiry_id, ScoringResult(
                ScoringStatus.ERROR, inquiry.provider, report_ref=row["report_ref"], error_code=GAVE_UP,
                error=f"no final answer after {self.settings.give_up_after_hours:g} h", retryable=True), source="system")
        elif inquiry.provider not in registry:
            await self.record(inquiry_id, ScoringResult(
                ScoringStatus.ERROR, inquiry.provider, error_code=PROVIDER_DISABLED,
                error="the provider's plugin is no longer enabled"), source="system")
        elif row["report_ref"]:
            await self._ask(inquiry_id, inquiry.provider, registry.get(inquiry.provider).fetch(row["report_ref"]),
                            source="poll")
        else:
            log.warning("scoring inquiry %s: the first call never came back; asking %s again", inquiry_id,
                        inquiry.provider)
            await self._ask(inquiry_id, inquiry.provider,
                            registry.get(inquiry.provider).score(self._request_of(inquiry)), source="poll")

    # -- deciding ---------------------------------------------------------------------------------------------

    async def assess(self, reference: str, applicant: Applicant, *, consent_ref: str, amount: Money | None = None,
                     term_days: int | None = None, providers: list[str] | None = None, user_id: UUID | None = None,
                     requested_by: str | None = None, retry: bool = True) -> Assessment:
        """Ask the policy's providers about one application and decide (see the module doc).

        ``reference`` names the application and is each inquiry's request id, so calling
        again reuses the inquiries and pays no one twice (``retry``: but asks again those whose
        last answer was a retryable error). With the policy's ``fallback`` the providers are
        asked in order until one answers.
        """
        reference = _check_text("reference", reference, 200)
        names = self._names(providers)
        for name in names:
            self.provider(name)
        inquiries: list[Inquiry] = []
        for name in names:  # in policy order; each request is checked before its provider is asked
            inquiry = await self.inquire(name, ScoringRequest(
                request_id=reference, applicant=applicant, amount=amount, term_days=term_days, consent_ref=consent_ref),
                reference=reference, user_id=user_id, requested_by=requested_by, retry=retry)
            inquiries.append(inquiry)
            failed = inquiry.final and inquiry.result is not None and inquiry.result.status is ScoringStatus.ERROR
            if self.settings.policy.fallback and not failed:
                break  # this one answered (or will): the next providers are the fallback
        return await self._evaluate(reference, names, inquiries, amount, requested_by)

    async def resume(self, reference: str) -> Assessment:
        """Go on with an application's assessment from what is stored (the applicant too).

        The polling task calls it when, under ``fallback``, a pending provider finally failed:
        the next provider is asked. Otherwise it is :meth:`assess` again with the same input.
        """
        inquiries = await self.store.by_reference(_check_text("reference", reference, 200))
        own = [i for i in inquiries if i.request_id == reference]
        if not own:
            raise UnknownInquiry("reference", f"no inquiries for {reference!r}")
        own.sort(key=lambda i: i.created_at)
        first = await self.get(own[0].id, with_personal=True)
        assert first.applicant is not None
        asked = list(dict.fromkeys(i.provider for i in own))
        names = asked + [n for n in self._names(None) if n not in asked]
        return await self.assess(reference, first.applicant, consent_ref=first.consent_ref, amount=first.amount,
                                 term_days=first.term_days, providers=names, user_id=first.user_id,
                                 requested_by=first.requested_by, retry=False)

    async def assessment(self, reference: str) -> Assessment:
        """Decide again from the stored inquiries of ``reference`` (asks no provider)."""
        inquiries = await self.store.by_reference(_check_text("reference", reference, 200))
        if not inquiries:
            raise UnknownInquiry("reference", f"no inquiries for {reference!r}")
        latest: dict[str, Inquiry] = {}
        for inquiry in sorted(inquiries, key=lambda i: i.created_at):
            latest[inquiry.provider] = inquiry
        policy_names = self._names(None)
        names = [n for n in policy_names if n in latest] + [n for n in latest if n not in policy_names]
        amounts = [i.amount for i in latest.values() if i.amount is not None]
        return await self._evaluate(reference, names, [latest[n] for n in names], amounts[0] if amounts else None,
                                    None)

    def _names(self, providers: list[str] | None) -> list[str]:
        names = providers or self.settings.policy.provider_names(self.platform.registry("scoring_providers").names())
        if not names:
            raise InvalidInquiry("providers", "no scoring provider is enabled for the policy")
        return list(dict.fromkeys(names))

    def decide(self, results: dict[str, ScoringResult | None], amount: Money | None = None) -> Decision:
        """The policy's decision for these results (pure; nothing is recorded)."""
        return decide(self.settings.policy, results, amount)

    async def _evaluate(self, reference: str, names: list[str], inquiries: list[Inquiry], amount: Money | None,
                        requested_by: str | None) -> Assessment:
        stored = {i.provider: await self._latest_with_report(i) for i in inquiries}
        asked = {name: (s.as_scoring_result(name) if s else None) for name, s in stored.items()}
        results = self.settings.policy.deciding(names, asked)
        decision = self.decide(results, amount)
        used = [i for i in inquiries if i.provider in results]
        decision_id = None
        if decision.outcome is not Outcome.PENDING:
            decision_id = await self.store.record_decision(
                reference=reference, outcome=decision.outcome.value, reasons=[r.as_json() for r in decision.reasons],
                inquiry_ids=[i.id for i in used], result_ids=[s.id for n, s in stored.items() if s and n in results],
                policy_digest=self.settings.policy.digest, decided_by=requested_by or current_actor(),
                now=self.clock())
        score = next((r.score for r in results.values() if r is not None and r.score is not None), None)
        return Assessment(reference, decision.outcome.value, decision.reasons,
                          tuple([await self.get(i.id) for i in inquiries]), decision_id, score=score)
