"""What crowdinvesting keeps: investments, terms, investor status, distributions, certificates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID

from core.money import round_display


def from_record(cls: type, record: Any, **extra: Any) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in {**dict(record), **extra}.items() if k in names})


def share_json(share: Fraction) -> dict[str, Any]:
    """An exact share for programs, and its rounded percentage for people."""
    percent = round_display(Decimal(share.numerator) * 100 / Decimal(share.denominator), 4) if share else Decimal(0)
    return {"numerator": share.numerator, "denominator": share.denominator, "percent": str(percent)}


def percent(share: Fraction, places: int = 2) -> Decimal:
    if not share:
        return Decimal(0)
    return round_display(Decimal(share.numerator) * 100 / Decimal(share.denominator), places)


@dataclass(frozen=True)
class Investment:
    id: UUID
    user_id: UUID
    project_id: UUID
    stage_id: UUID
    amount_minor: int
    currency: str
    source: str
    status: str
    year: int
    transfer_id: UUID
    created_at: dt.datetime
    certificate_id: UUID | None = None
    idempotency_key: str | None = None
    refund_transfer_id: UUID | None = None
    refunded_at: dt.datetime | None = None

    @classmethod
    def from_record(cls, record: Any) -> Investment:
        return from_record(cls, record)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "user_id": str(self.user_id), "project_id": str(self.project_id),
            "stage_id": str(self.stage_id), "amount_minor": self.amount_minor, "currency": self.currency,
            "source": self.source, "status": self.status, "year": self.year,
            "certificate_id": str(self.certificate_id) if self.certificate_id else None,
            "transfer_id": str(self.transfer_id),
            "refund_transfer_id": str(self.refund_transfer_id) if self.refund_transfer_id else None,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Terms:
    """A project's investment terms; projects without saved terms get the deployment's minimum."""

    project_id: UUID
    min_investment_minor: int
    max_per_investor_minor: int | None = None
    expected_yield_bp: int = 0
    term_months: int = 12
    payout_period: str = "quarter"

    @classmethod
    def from_record(cls, record: Any) -> Terms:
        return from_record(cls, record)

    @property
    def expected_yield_percent(self) -> Decimal:
        return Decimal(self.expected_yield_bp) / 100

    def as_json(self) -> dict[str, Any]:
        return {"project_id": str(self.project_id), "min_investment_minor": self.min_investment_minor,
                "max_per_investor_minor": self.max_per_investor_minor,
                "expected_yield_percent": str(self.expected_yield_percent), "term_months": self.term_months,
                "payout_period": self.payout_period}


@dataclass(frozen=True)
class InvestorStatus:
    user_id: UUID
    qualified: bool = False
    qualified_until: dt.date | None = None
    wallet_account_id: int | None = None

    def is_qualified(self, today: dt.date) -> bool:
        return self.qualified and (self.qualified_until is None or today <= self.qualified_until)


@dataclass(frozen=True)
class Distribution:
    id: UUID
    project_id: UUID
    period: str
    amount_minor: int
    currency: str
    base_minor: int
    investors: int
    created_at: dt.datetime
    stage_id: UUID | None = None
    note: str = ""
    #: False when the call found the distribution already made (a re-run creates nothing).
    created: bool = True

    @classmethod
    def from_record(cls, record: Any, created: bool = True) -> Distribution:
        return from_record(cls, record, created=created)

    def as_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "project_id": str(self.project_id),
                "stage_id": str(self.stage_id) if self.stage_id else None, "period": self.period,
                "amount_minor": self.amount_minor, "currency": self.currency, "base_minor": self.base_minor,
                "investors": self.investors, "note": self.note, "created": self.created,
                "created_at": self.created_at.isoformat()}


@dataclass(frozen=True)
class Certificate:
    id: UUID
    buyer_id: UUID
    amount_minor: int
    currency: str
    status: str
    code_hint: str
    account_id: int
    created_at: dt.datetime
    expires_at: dt.datetime
    recipient_name: str = ""
    message: str = ""
    redeemed_by: UUID | None = None
    redeemed_at: dt.datetime | None = None
    investment_id: UUID | None = None

    @classmethod
    def from_record(cls, record: Any) -> Certificate:
        return from_record(cls, record)

    def as_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "buyer_id": str(self.buyer_id), "amount_minor": self.amount_minor,
                "currency": self.currency, "status": self.status, "code_hint": self.code_hint,
                "recipient_name": self.recipient_name, "message": self.message,
                "created_at": self.created_at.isoformat(), "expires_at": self.expires_at.isoformat(),
                "redeemed_by": str(self.redeemed_by) if self.redeemed_by else None,
                "investment_id": str(self.investment_id) if self.investment_id else None}
