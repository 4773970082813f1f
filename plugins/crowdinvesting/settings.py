"""``[plugins.crowdinvesting]``: limits, minimums, certificates and the referral program."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.money import MoneyError, to_minor


class LimitRule(BaseModel):
    """One investment limit. The 259-FZ ones are the defaults; a deployment may add or change them.

    ``scope`` says what is counted: an investor's calendar year (all projects), a project's
    calendar year (what it raised), or an investor's money in one stage.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    scope: Literal["investor_calendar_year", "project_calendar_year", "investor_stage"]
    #: Whom the rule binds: investors without qualified status, or everyone.
    applies_to: Literal["non_qualified", "everyone"] = "non_qualified"
    #: The most that may be invested within the scope, in the plugin's currency.
    max_amount: Decimal = Field(gt=0)
    #: Count what the investor declared they invested on other platforms this year (259-FZ art. 7).
    include_declared_elsewhere: bool = True


def default_rules() -> list[LimitRule]:
    return [
        LimitRule(name="259-FZ art. 7: non-qualified investor, per calendar year", scope="investor_calendar_year",
                  applies_to="non_qualified", max_amount=Decimal("600000.00")),
        LimitRule(name="259-FZ art. 6: raised by one fundraiser, per calendar year", scope="project_calendar_year",
                  applies_to="everyone", max_amount=Decimal("1000000000.00"), include_declared_elsewhere=False),
    ]


class ReferralSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    #: Paid from the platform's marketing account to the referrer on the new customer's first investment.
    referrer_bonus: Decimal = Field(Decimal("500.00"), ge=0)
    #: Paid to the new customer as well (0: nothing).
    referred_bonus: Decimal = Field(Decimal("0"), ge=0)
    #: The first investment must be at least this much to earn the bonuses.
    min_first_investment: Decimal = Field(Decimal("5000.00"), ge=0)
    #: Rewarded referrals per referrer and calendar year.
    max_rewards_per_year: int = Field(50, ge=0)
    #: A referral link counts only for customers who have not invested yet.
    only_before_first_investment: bool = True


class CertificateSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_amount: Decimal = Field(Decimal("1000.00"), gt=0)
    max_amount: Decimal = Field(Decimal("600000.00"), gt=0)
    #: A certificate not redeemed within this many days goes back to its buyer.
    validity_days: int = Field(365, ge=1, le=3650)


class CrowdinvestingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Projects, limits and bonuses are in this currency.
    currency: str = "RUB"
    #: The ledger purpose of customers' balances (opened by the payments plugin on top-up).
    wallet_purpose: str = "wallet"
    #: The smallest investment, unless a project's terms ask for more.
    min_investment: Decimal = Field(Decimal("1000.00"), gt=0)
    limit_rules: list[LimitRule] = Field(default_factory=default_rules)
    certificates: CertificateSettings = Field(default_factory=CertificateSettings)
    referral: ReferralSettings = Field(default_factory=ReferralSettings)
    #: Where posted income comes from in the ledger: money the platform received from the project's business.
    income_source_purpose: str = "crowdinvesting.income_received"
    #: The platform's own money that pays referral bonuses (never investors' money).
    marketing_purpose: str = "crowdinvesting.marketing"
    refund_cron: str = "*/10 * * * *"
    certificates_cron: str = "17 * * * *"

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha() or not value.isupper():
            raise ValueError("a three-letter ISO 4217 code, e.g. RUB")
        return value

    @model_validator(mode="after")
    def _amounts_fit_the_currency(self) -> CrowdinvestingSettings:
        checks = {"min_investment": self.min_investment, "certificates.min_amount": self.certificates.min_amount,
                  "certificates.max_amount": self.certificates.max_amount,
                  "referral.referrer_bonus": self.referral.referrer_bonus,
                  "referral.referred_bonus": self.referral.referred_bonus,
                  "referral.min_first_investment": self.referral.min_first_investment}
        checks.update({f"limit_rules[{i}].max_amount": r.max_amount for i, r in enumerate(self.limit_rules)})
        for name, value in checks.items():
            try:
                to_minor(value, self.currency)
            except MoneyError as exc:
                raise ValueError(f"{name}: {exc}") from None
        if self.certificates.max_amount < self.certificates.min_amount:
            raise ValueError("certificates.max_amount must be at least certificates.min_amount")
        return self

    def minor(self, amount: Decimal) -> int:
        return to_minor(amount, self.currency)
