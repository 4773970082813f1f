"""Credit bureaus and scoring services (``register_scoring_providers``).

A provider answers one question: what does it know, or think, about this applicant?
It turns the answer into a :class:`ScoringResult` in four statuses, and never raises
for a business outcome: an unknown subject, a refusal, bad credentials, a timeout and
an unreadable answer are all results (``ERROR`` with ``retryable`` saying whether asking
again may help). The scoring plugin keeps the inquiries, caches, polls and decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from core.money import Money


class ScoringStatus(StrEnum):
    DONE = "done"          # the provider answered with a report or a score
    NO_DATA = "no_data"    # the subject is unknown to the provider
    PENDING = "pending"    # asynchronous provider: fetch again later with ``report_ref``
    ERROR = "error"        # the provider refused or failed; see error_code, error, retryable


#: ``error_code`` values every provider uses for the failures they have in common.
NOT_SUPPORTED = "not_supported"          # the provider does not offer the operation
INVALID_REQUEST = "invalid_request"      # the applicant lacks what the provider needs (not retryable)
AUTH_FAILED = "auth_failed"              # our credentials were refused (not retryable until fixed)
TIMEOUT = "timeout"                      # no answer in time (retryable)
CONNECTION_FAILED = "connection_failed"  # the provider could not be reached (retryable)
UNREADABLE = "unreadable_answer"         # an answer we could not understand (retryable)


@dataclass(frozen=True)
class Applicant:
    last_name: str
    first_name: str
    middle_name: str = ""
    birth_date: dt.date | None = None
    taxpayer_number: str = ""     # ITN (ИНН / РНОКПП)
    #: Series and number as written ("АМ 578072", "4510 123456"), or an ID-card number ("001013900").
    passport: str = ""
    phone: str = ""
    #: "male", "female" or "" (some scoring services ask).
    gender: str = ""


@dataclass(frozen=True)
class ScoringRequest:
    #: Our id of this inquiry; providers that support it use it as their idempotency key.
    request_id: str
    applicant: Applicant
    amount: Money | None = None
    term_days: int | None = None
    #: Reference to the applicant's recorded consent to the inquiry.
    consent_ref: str = ""
    #: The provider's product to ask for (a bureau's report type); "" for the provider's default.
    report_type: str = ""


#: A normalised fact from a report that a decision policy can test: a count, an amount, a flag.
Factor = int | Decimal | str | bool


@dataclass(frozen=True)
class ScoringResult:
    status: ScoringStatus
    provider: str
    score: int | None = None
    #: The provider's recommendation when it gives one: "approve", "decline" or "review".
    decision: str | None = None
    report_ref: str = ""
    #: What the report says, in the provider's terms (parsed, JSON-serialisable).
    details: Mapping[str, Any] = field(default_factory=dict)
    #: Named facts for decision policies, e.g. ``{"mfo.open_deals": 2, "mfo.overdue_amount": Decimal("0")}``.
    factors: Mapping[str, Factor] = field(default_factory=dict)
    #: The provider's answer as received (JSON or XML text), kept with the inquiry for the report view.
    document: str = ""
    error: str = ""
    error_code: str = ""
    #: For ``ERROR``: asking again later may give an answer (timeouts, outages); False for refusals.
    retryable: bool = False

    @property
    def final(self) -> bool:
        """Nothing more will come for this inquiry unless it is asked again."""
        return self.status is not ScoringStatus.PENDING


@runtime_checkable
class ScoringProvider(Protocol):
    name: str
    title: str
    #: The provider answers PENDING first and the result is fetched later.
    asynchronous: bool
    #: The answer depends on the loan asked for (amount, term), not only on the person.
    depends_on_loan: bool

    async def score(self, request: ScoringRequest) -> ScoringResult:
        """Ask the provider about ``request.applicant``."""
        ...

    async def fetch(self, report_ref: str) -> ScoringResult:
        """Fetch the result of an inquiry that answered PENDING."""
        ...


class ProviderDefaults:
    """What a synchronous provider answers for the parts of the protocol it does not use."""

    name: str = ""
    title: str = ""
    asynchronous = False
    depends_on_loan = False

    def error(self, code: str, message: str, *, retryable: bool = False, document: str = "") -> ScoringResult:
        return ScoringResult(ScoringStatus.ERROR, self.name, error_code=code, error=message, retryable=retryable,
                             document=document)

    async def fetch(self, report_ref: str) -> ScoringResult:
        return self.error(NOT_SUPPORTED, f"{self.title or self.name} answers at once; there is nothing to fetch")
