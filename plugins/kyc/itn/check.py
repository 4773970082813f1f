"""The ITN check: the number's check digits (python-stdnum), then the tax service's own answer.

The tax service is asked which ITN belongs to the person with this passport; the check
passes when it is the one the customer gave. With ``lookup = false`` only the check
digits are checked (and the passport is not needed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn as ru_inn

from core.contracts.kyc import (
    ITN,
    PASSPORT,
    KycCheckDefaults,
    KycProblem,
    KycResult,
    KycStatus,
    KycSubject,
)
from plugins.kyc.itn.client import FnsAnswer, FnsClient, Outcome

N_ = str
BAD_CHECKSUM = N_("not a valid taxpayer number: check the digits")
NOT_PERSONAL = N_("a person's taxpayer number has 12 digits")
MISMATCH = N_("the tax service knows this person under another taxpayer number")
NOT_FOUND = N_("the tax service found no taxpayer number for this person and passport")
REFUSED = N_("the tax service did not accept the person's data")
CAPTCHA = N_("the tax service asks for a captcha (too many requests); it will be asked again later")
THROTTLED = N_("the tax service limits requests; it will be asked again later")
UNAVAILABLE = N_("the tax service did not answer; it will be asked again later")
PACED = N_("requests to the tax service are spread out; it will be asked shortly")

#: Seconds to wait before the next request to the service (None: go ahead).
Pace = Callable[[], Awaitable[int | None]]


def itn_problem(number: str) -> str | None:
    try:
        ru_inn.validate(number)
    except StdnumError:
        return BAD_CHECKSUM
    return NOT_PERSONAL if len(number) != 12 else None


class ItnCheck(KycCheckDefaults):
    name = "itn"
    title = N_("Taxpayer number (INN) at the tax service")

    def __init__(self, client: FnsClient | None, *, poll_after_s: int = 10, captcha_backoff_s: int = 900,
                 throttle_backoff_s: int = 300, pace: Pace | None = None) -> None:
        self.client = client
        self.pace = pace
        self.document_kinds = frozenset({ITN, PASSPORT}) if client is not None else frozenset({ITN})
        self.poll_after_s = poll_after_s
        self.captcha_backoff_s = captcha_backoff_s
        self.throttle_backoff_s = throttle_backoff_s

    def validate(self, subject: KycSubject) -> list[KycProblem]:
        document = subject.document(ITN)
        problem = itn_problem(document.number) if document is not None else None
        return [KycProblem("itn", problem)] if problem else []

    async def check(self, subject: KycSubject) -> KycResult:
        document = subject.document(ITN)
        problem = itn_problem(document.number) if document is not None else BAD_CHECKSUM
        if problem:
            return KycResult(KycStatus.FAILED, self.name, reasons=(problem,))
        if self.client is None:
            return KycResult(KycStatus.PASSED, self.name, details={"lookup": "off"})
        if (paced := await self._paced()) is not None:
            return paced
        return self._judge(subject, await self.client.find(subject))

    async def poll(self, subject: KycSubject, reference: str) -> KycResult:
        if self.client is None:
            return await self.check(subject)
        if (paced := await self._paced()) is not None:
            return KycResult(KycStatus.PENDING, self.name, reference=reference, retry_after_s=paced.retry_after_s)
        answer = await self.client.get(reference)
        if answer.outcome is Outcome.EXPIRED:  # the service forgot the request: ask anew
            answer = await self.client.find(subject)
        return self._judge(subject, answer)

    async def _paced(self) -> KycResult | None:
        """An ERROR to retry later when our own pace says wait (the service throttles, then asks for captchas)."""
        wait = await self.pace() if self.pace is not None else None
        if wait:
            return KycResult(KycStatus.ERROR, self.name, reasons=(PACED,), retry_after_s=wait)
        return None

    def _judge(self, subject: KycSubject, answer: FnsAnswer) -> KycResult:
        given = subject.document(ITN)
        assert given is not None
        details = {"fns_request": answer.request_id} if answer.request_id else {}
        match answer.outcome:
            case Outcome.FOUND if answer.inn == given.number:
                return KycResult(KycStatus.PASSED, self.name, details=details)
            case Outcome.FOUND:
                return KycResult(KycStatus.FAILED, self.name, reasons=(MISMATCH,),
                                 details={**details, "found_itn": answer.inn})
            case Outcome.NOT_FOUND:
                return KycResult(KycStatus.FAILED, self.name, reasons=(NOT_FOUND,), details=details)
            case Outcome.REFUSED:
                return KycResult(KycStatus.FAILED, self.name, reasons=(REFUSED,),
                                 details={**details, "fns_errors": answer.errors})
            case Outcome.PROCESSING:
                return KycResult(KycStatus.PENDING, self.name, reference=answer.request_id,
                                 retry_after_s=self.poll_after_s, details=details)
            case Outcome.CAPTCHA:
                return KycResult(KycStatus.ERROR, self.name, reasons=(CAPTCHA,),
                                 retry_after_s=self.captcha_backoff_s)
            case Outcome.THROTTLED:
                return KycResult(KycStatus.ERROR, self.name, reasons=(THROTTLED,),
                                 retry_after_s=answer.retry_after_s or self.throttle_backoff_s)
            case _:
                return KycResult(KycStatus.ERROR, self.name, reasons=(UNAVAILABLE,),
                                 retry_after_s=answer.retry_after_s, details={"error": answer.message})
