"""The income calculator: what an investment could earn under a project's expected yield.

Pure arithmetic on exact fractions; amounts are rounded to the kopeck (half to even) only in
the answer. The projection is what the terms promise, not a guarantee: income is whatever
the project earns and the admin posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from core.projects.models import Stage
from plugins.crowdinvesting.models import Terms, percent, share_json

PAYOUTS_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}


def _round_minor(value: Fraction) -> int:
    return round(value)  # Fraction rounds half to even, exactly


@dataclass(frozen=True)
class Projection:
    amount_minor: int
    months: int
    expected_yield_bp: int
    income_minor: int
    per_payout_minor: int
    payouts: int
    #: The share of the stage this amount would be if the stage collects exactly its target.
    share_at_target: Fraction
    #: The share of what the stage has collected so far, with this amount added.
    share_now: Fraction

    def as_json(self, currency: str) -> dict[str, Any]:
        return {"amount_minor": self.amount_minor, "currency": currency, "months": self.months,
                "expected_yield_percent": str(self.expected_yield_percent),
                "income_minor": self.income_minor, "total_minor": self.amount_minor + self.income_minor,
                "payouts": self.payouts, "per_payout_minor": self.per_payout_minor,
                "share_at_target": share_json(self.share_at_target), "share_now": share_json(self.share_now)}

    @property
    def expected_yield_percent(self) -> Decimal:
        return Decimal(self.expected_yield_bp) / 100

    @property
    def share_at_target_percent(self):
        return percent(self.share_at_target, 4)

    @property
    def share_now_percent(self):
        return percent(self.share_now, 4)


def project(amount_minor: int, terms: Terms, stage: Stage | None, months: int | None = None) -> Projection:
    months = months or terms.term_months
    exact = Fraction(amount_minor * terms.expected_yield_bp * months, 10_000 * 12)
    per_year = PAYOUTS_PER_YEAR.get(terms.payout_period)
    payouts = max(1, months * per_year // 12) if per_year else 1
    share_at_target = Fraction(amount_minor, max(stage.target_minor, amount_minor)) if stage else Fraction(0)
    share_now = Fraction(amount_minor, stage.collected_minor + amount_minor) if stage else Fraction(0)
    return Projection(amount_minor, months, terms.expected_yield_bp, _round_minor(exact),
                      _round_minor(exact / payouts), payouts, share_at_target, share_now)
