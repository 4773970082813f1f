"""The ``[plugins.payments]`` section of a deployment file."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class PaymentsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Currency of top-ups and withdrawals; empty: the platform's currency.
    currency: str = ""
    #: Limits of one top-up, in the currency's units.
    min_topup: Decimal = Field(Decimal("10"), gt=0)
    max_topup: Decimal = Field(Decimal("1000000"), gt=0)
    #: Limits of one withdrawal.
    min_withdrawal: Decimal = Field(Decimal("100"), gt=0)
    max_withdrawal: Decimal = Field(Decimal("1000000"), gt=0)
    #: Withdrawals above this amount wait for finance's approval.
    approval_threshold: Decimal = Field(Decimal("50000"), ge=0)
    #: How often the janitor looks for payments whose outcome is still unknown.
    janitor_cron: str = "*/5 * * * *"
    #: The janitor's first question to the provider comes this long after a payment went
    #: pending (its callback usually arrives before); later ones back off to the maximum.
    first_check_after_s: int = Field(300, ge=0)
    max_check_interval_s: int = Field(3600, ge=60)
    #: A payment still unsettled after this long is flagged for a person to look at.
    review_after_hours: int = Field(72, ge=1)
    #: Payments the janitor checks per run.
    janitor_batch: int = Field(200, ge=1)
    #: Callbacks larger than this are refused unread.
    callback_max_bytes: int = Field(65536, ge=1024)
