"""What the scoring service hands out: inquiries, their results and reports, and decisions.

Personal data (the applicant, the reports) is stored encrypted; a record carries it only
when it was asked for (``with_personal=True``), and the admin pages audit every such look.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from core.contracts.scoring import Applicant, ScoringResult, ScoringStatus
from core.money import Money

#: Encryption contexts (``table.column``), also the names ``kopilka pii`` knows them by.
APPLICANT_CONTEXT = "scoring_inquiries.applicant_enc"
REPORT_CONTEXT = "scoring_results.report_enc"

IN_PROGRESS = "in_progress"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    """JSON for the encrypted columns: decimals as exact strings, dates as ISO."""
    return json.dumps(value, default=_plain, ensure_ascii=False, sort_keys=True)


def applicant_json(applicant: Applicant) -> str:
    return dumps(asdict(applicant))


def applicant_from_json(text: str) -> Applicant:
    data = json.loads(text)
    born = data.get("birth_date")
    return Applicant(**{**data, "birth_date": dt.date.fromisoformat(born) if born else None})


def subject_key(applicant: Applicant) -> str:
    """Who the applicant is, normalised: their taxpayer number, or else name, birth date and passport."""
    itn = "".join(ch for ch in applicant.taxpayer_number if ch.isdigit())
    if itn:
        return f"itn:{itn}"
    passport = "".join(ch for ch in applicant.passport.upper() if ch.isalnum())
    parts = (applicant.last_name, applicant.first_name, applicant.middle_name)
    names = "|".join(" ".join(p.upper().split()) for p in parts)
    born = applicant.birth_date.isoformat() if applicant.birth_date else ""
    return f"person:{names}|{born}|{passport}"


def subject_key_of_json(text: str) -> str:
    """:func:`subject_key` from the stored JSON (how ``kopilka pii reindex`` recomputes the index)."""
    return subject_key(applicant_from_json(text))


@dataclass(frozen=True)
class Report:
    """The decrypted content of a result: what the provider said, in full."""

    details: Mapping[str, Any] = field(default_factory=dict)
    factors: Mapping[str, Any] = field(default_factory=dict)
    document: str = ""

    def to_json(self) -> str:
        return dumps({"details": self.details, "factors": self.factors, "document": self.document})

    @classmethod
    def from_json(cls, text: str) -> Report:
        data = json.loads(text)
        return cls(data.get("details") or {}, data.get("factors") or {}, data.get("document") or "")

    @property
    def document_pretty(self) -> str:
        """The provider's document, indented when it is JSON (XML is shown as it came)."""
        try:
            return json.dumps(json.loads(self.document), ensure_ascii=False, indent=2)
        except ValueError:
            return self.document


@dataclass(frozen=True)
class StoredResult:
    id: int
    inquiry_id: UUID
    attempt: int
    source: str
    status: ScoringStatus
    score: int | None
    decision: str | None
    report_ref: str
    error_code: str
    error: str
    retryable: bool
    duration_ms: int | None
    received_at: dt.datetime
    report: Report | None = None

    @property
    def final(self) -> bool:
        return self.status is not ScoringStatus.PENDING

    def as_scoring_result(self, provider: str) -> ScoringResult:
        report = self.report or Report()
        return ScoringResult(self.status, provider, score=self.score, decision=self.decision,
                             report_ref=self.report_ref, details=report.details, factors=report.factors,
                             error=self.error, error_code=self.error_code, retryable=self.retryable)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "attempt": self.attempt, "source": self.source, "status": self.status.value,
                "score": self.score, "provider_decision": self.decision, "report_ref": self.report_ref,
                "error_code": self.error_code, "error": self.error, "retryable": self.retryable,
                "duration_ms": self.duration_ms, "received_at": self.received_at.isoformat()}


@dataclass(frozen=True)
class Inquiry:
    id: UUID
    provider: str
    request_id: str
    reference: str
    report_type: str
    consent_ref: str
    amount: Money | None
    term_days: int | None
    cached_from: UUID | None
    #: The platform user the inquiry is about, when the caller said so.
    user_id: UUID | None
    requested_by: str
    created_at: dt.datetime
    #: The latest answer (None while the first call is in flight).
    result: StoredResult | None
    #: Decrypted only when asked for.
    applicant: Applicant | None = None
    #: Every answer, oldest first (only when asked for).
    history: tuple[StoredResult, ...] = ()

    @property
    def status(self) -> str:
        return self.result.status.value if self.result else IN_PROGRESS

    @property
    def final(self) -> bool:
        return self.result is not None and self.result.final

    def as_json(self) -> dict[str, Any]:
        """For the API: everything but personal data and the report's content."""
        return {"id": str(self.id), "provider": self.provider, "request_id": self.request_id,
                "reference": self.reference, "report_type": self.report_type, "consent_ref": self.consent_ref,
                "amount": str(self.amount.amount) if self.amount else None,
                "currency": self.amount.currency if self.amount else None, "term_days": self.term_days,
                "cached_from": str(self.cached_from) if self.cached_from else None,
                "user_id": str(self.user_id) if self.user_id else None, "requested_by": self.requested_by, "created_at": self.created_at.isoformat(), "status": self.status,
                "result": self.result.as_json() if self.result else None}


@dataclass(frozen=True)
class Assessment:
    """The policy's decision for one application, and the inquiries it rests on."""

    reference: str
    #: "approve", "decline", "review", or "pending" while an answer is awaited.
    outcome: str
    #: Every reason found (``policy.Reason``), the deciding ones and the rest.
    reasons: tuple[Any, ...]
    inquiries: tuple[Inquiry, ...]
    #: The recorded decision (None while pending).
    decision_id: UUID | None = None
    #: The score of the first deciding provider that gave one.
    score: int | None = None

    @property
    def pending(self) -> bool:
        return self.outcome == "pending"

    @property
    def reject_reasons(self) -> tuple[Any, ...]:
        """The reasons that decline (empty unless the outcome is "decline")."""
        return tuple(r for r in self.reasons if r.outcome == "decline")

    def as_json(self) -> dict[str, Any]:
        return {"reference": self.reference, "outcome": self.outcome, "score": self.score,
                "reasons": [r.as_json() for r in self.reasons],
                "reject_reasons": [r.as_json() for r in self.reject_reasons],
                "decision_id": str(self.decision_id) if self.decision_id else None,
                "inquiries": [i.as_json() for i in self.inquiries]}


@dataclass(frozen=True)
class DecisionRecord:
    id: UUID
    reference: str
    outcome: str
    reasons: list[dict[str, Any]]
    inquiry_ids: list[UUID]
    policy_digest: str
    decided_by: str
    created_at: dt.datetime
