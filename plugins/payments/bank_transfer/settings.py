"""The ``[plugins."payments.bank_transfer"]`` section, and the gateway it configures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from plugins.payments.bank_transfer.gateway import BankTransferGateway
from plugins.payments.sandbox import sandbox_on, sandbox_url

if TYPE_CHECKING:
    from core.platform import Platform


class BankTransferSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The platform's bank details, printed on every invoice. Until the account number is
    #: set, no invoice is issued (the gateway refuses top-ups).
    beneficiary_name: str = ""
    beneficiary_tax_id: str = ""           # ИНН
    beneficiary_tax_reason_code: str = ""  # КПП
    account_number: str = ""
    bank_name: str = ""
    bank_code: str = ""                    # БИК
    correspondent_account: str = ""
    currency: str = "RUB"
    #: Days an invoice stays payable; unpaid after that it is cancelled (a late payment is still credited).
    invoice_days: int = Field(5, ge=1)
    #: Where the bank's statement can be fetched as CSV; empty: the sandbox bank in sandbox
    #: mode, otherwise none (finance imports statements in the admin area).
    statement_url: str | None = None
    #: Letters after the check digits of every payment reference.
    reference_prefix: str = Field("KP", pattern=r"^[A-Z0-9]{1,8}$")
    timeout_s: float = Field(30, gt=0)


def build_gateway(settings: BankTransferSettings, platform: Platform) -> BankTransferGateway:
    statement_url = settings.statement_url
    if not statement_url and sandbox_on(platform):
        statement_url = f"{sandbox_url(platform, 'bank_transfer')}/statement"
    return BankTransferGateway(currency=settings.currency, invoice_days=settings.invoice_days,
                               configured=bool(settings.account_number and settings.bank_code),
                               statement_url=statement_url, reference_prefix=settings.reference_prefix,
                               timeout_s=settings.timeout_s)
