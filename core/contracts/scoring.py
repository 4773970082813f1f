"""Credit bureaus and scoring services (``register_scoring_providers``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from core.money import Money


class ScoringStatus(StrEnum):
    DONE = "done"          # the provider answered with a report or a score
    NO_DATA = "no_data"    # the subject is unknown to the provider
    PENDING = "pending"    # asynchronous provider: fetch again later
    ERROR = "error"        # the provider refused or failed; see error


@dataclass(frozen=True)
class Applicant:
    last_name: str
    first_name: str
    middle_name: str = ""
    birth_date: dt.date | None = None
    taxpayer_number: str = ""     # ITN (ИНН / РНОКПП)
    passport: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ScoringRequest:
    #: Our id of this inquiry; providers that support it use it as their idempotency key.
    request_id: str
    applicant: Applicant
    amount: Money | None = None
    term_days: int | None = None
    #: Reference to the applicant's recorded consent to the inquiry.
    consent_ref: str = ""


@dataclass(frozen=True)
class ScoringResult:
    status: ScoringStatus
    provider: str
    score: int | None = None
    #: The provider's recommendation when it gives one: "approve", "decline" or "review".
    decision: str | None = None
    report_ref: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    error: str = ""


@runtime_checkable
class ScoringProvider(Protocol):
    name: str

    async def score(self, request: ScoringRequest) -> ScoringResult:
        """Ask the provider about ``request.applicant``."""
        ...

    async def fetch(self, report_ref: str) -> ScoringResult:
        """Fetch the result of an inquiry that answered PENDING."""
        ...
