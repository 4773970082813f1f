"""``[plugins.lending]``: the currency, the ledger accounts, the legal caps and the automatic decision rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from plugins.lending.schedule import RU_353FZ, CapRule


class CapRuleSettings(BaseModel):
    """One version of the consumer-credit caps; a contract gets the one in force on its date."""

    model_config = ConfigDict(extra="forbid")

    name: str
    effective_from: dt.date
    daily_rate_max: Decimal = Field(gt=0, le=1)
    total_cost_multiple: Decimal = Field(gt=0)
    psk_max: Decimal = Field(gt=0)
    penalty_annual_max: Decimal = Field(Decimal("0.20"), ge=0)

    def rule(self) -> CapRule:
        return CapRule(self.effective_from, self.daily_rate_max, self.total_cost_multiple, self.psk_max,
                       self.penalty_annual_max, self.name)


def default_caps() -> list[CapRuleSettings]:
    return [
        CapRuleSettings(name="613-FZ: 0.8 %/day, 130 % of principal, PSK 292 %", effective_from=dt.date(2023, 7, 1),
                        daily_rate_max=Decimal("0.008"), total_cost_multiple=Decimal("1.3"), psk_max=Decimal("292")),
        CapRuleSettings(name="545-FZ: 100 % of principal", effective_from=dt.date(2026, 4, 1),
                        daily_rate_max=Decimal("0.008"), total_cost_multiple=Decimal("1.0"), psk_max=Decimal("292")),
    ]


class DecisionRule(BaseModel):
    """One automatic check of an application. The first rule that does not pass decides.

    * ``max_open_loans``: the applicant has at most ``value`` loans not yet repaid;
    * ``max_amount``: the amount is at most ``value`` (major units), e.g. for newcomers;
    * ``max_overdue_days_ever``: no past loan was overdue longer than ``value`` days;
    * ``scoring``: the platform's scoring service (plugin ``scoring``) approves the applicant:
      its decline fails the rule, its review or pending answer sends the application to a person.
      Skipped when the platform has no scoring service or the application gives no names.

    ``only_first_loan`` limits a rule to applicants who never repaid a loan.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["max_open_loans", "max_amount", "max_overdue_days_ever", "scoring"]
    value: Decimal = Field(Decimal(0), ge=0)
    #: What happens when the check fails: refuse, or leave the application to a person.
    action: Literal["reject", "manual"] = "reject"
    only_first_loan: bool = False


def default_decision_rules() -> list[DecisionRule]:
    return [
        DecisionRule(kind="max_open_loans", value=Decimal(0)),
        DecisionRule(kind="max_overdue_days_ever", value=Decimal(30)),
        DecisionRule(kind="scoring"),
    ]


class LendingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = "RUB"
    #: The ledger purpose of customers' balances (opened by the payments plugin on top-up).
    wallet_purpose: str = "wallet"
    #: The platform's money for loans: disbursements come from it and principal goes back to it.
    fund_purpose: str = "lending.fund"
    #: Where the platform's capital comes from when the fund is topped up (no limit: money from outside).
    capital_purpose: str = "lending.capital"
    #: Approve applications that pass every rule without a person; otherwise they wait in the queue.
    auto_approve: bool = True
    decision_rules: list[DecisionRule] = Field(default_factory=default_decision_rules)
    cap_rules: list[CapRuleSettings] = Field(default_factory=default_caps)
    #: Which part of the debt a payment settles first: by default the order of 353-FZ art. 5
    #: part 20 (interest, then principal, the penalty last); lenders elsewhere often take the
    #: penalty first (``["penalty", "interest", "principal"]``).
    allocation_order: list[Literal["penalty", "interest", "principal"]] = Field(
        default_factory=lambda: list(RU_353FZ))
    #: Days in a year for the penalty's daily rate (annual rate / days).
    days_in_year: int = Field(365, ge=360, le=366)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha() or not value.isupper():
            raise ValueError("a three-letter ISO 4217 code, e.g. RUB")
        return value

    @field_validator("allocation_order")
    @classmethod
    def _every_component_once(cls, value: list[str]) -> list[str]:
        if sorted(value) != sorted(RU_353FZ):
            raise ValueError("name penalty, interest and principal once each")
        return value

    def caps(self) -> list[CapRule]:
        return [c.rule() for c in self.cap_rules]
